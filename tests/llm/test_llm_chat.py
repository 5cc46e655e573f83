"""The KnowCoder task in spacy-llm's ``llm`` component against a real chat server.

The server (``chat_server.py``) runs on loopback in a thread and answers chat
completions with prose around a fenced code block, as hosted chat models do.
"""
import warnings

import pytest
import spacy
from spacy.tokens import DocBin

from .chat_server import BAD_ANSWERS, SCHEMA, chat_model_config, task_config

TEXTS = [
    "Barack Obama was born in Honolulu.",
    "Barack Obama married Michelle Robinson in Chicago.",
    "Nothing to see here.",
    "",
]


def make_nlp(server, cache_dir=None, context_length=8192, **task_extra):
    nlp = spacy.blank("en")
    cache = {"@llm_misc": "spacy.BatchCache.v1", "path": str(cache_dir) if cache_dir else None,
             "batch_size": 2, "max_batches_in_mem": 4}
    nlp.add_pipe("llm", name="llm_ie", config={
        "task": task_config(**task_extra), "model": chat_model_config(server, context_length=context_length),
        "cache": {**cache, "path": str(cache_dir / "ie") if cache_dir else None}})
    nlp.add_pipe("llm", name="llm_eae", config={
        "task": task_config(tasks=["eae"], **task_extra), "model": chat_model_config(server, context_length=context_length),
        "cache": {**cache, "path": str(cache_dir / "eae") if cache_dir else None}})
    return nlp


def mention(doc, text, **extra):
    start = doc.text.index(text)
    return {"start": start, "end": start + len(text), "text": text, **extra}


def check_known_results(docs):
    born, married = docs[0], docs[1]
    assert [(e.text, e.label_, e.start_char) for e in born.ents] == [
        ("Barack Obama", "person", 0), ("Honolulu", "city", 25)]
    assert born._.relations == [{
        "label": "born in", "score": None,
        "head": mention(born, "Barack Obama", label="person"),
        "tail": mention(born, "Honolulu", label="city")}]
    assert born._.events == []
    assert [(e.text, e.label_) for e in married.ents] == [
        ("Barack Obama", "person"), ("Michelle Robinson", "person"), ("Chicago", "city")]
    assert married._.relations == []
    assert married._.events == [{
        "type": "marriage", "score": None, "trigger": mention(married, "married"),
        "arguments": [
            {"role": "spouse", **mention(married, "Barack Obama", label="person")},
            {"role": "spouse", **mention(married, "Michelle Robinson", label="person")},
            {"role": "place", **mention(married, "Chicago", label="city")}]}]
    assert [len(d.ents) + len(d._.relations) + len(d._.events) for d in docs[2:]] == [0, 0]


def test_chat_endpoint_gives_entities_relations_and_events(chat_server):
    nlp = make_nlp(chat_server)
    start = len(chat_server.requests)
    docs = list(nlp.pipe(TEXTS))
    check_known_results(docs)
    sent = chat_server.requests[start:]
    # ner/re/ed for the three non-empty texts, eae only where ED found a trigger
    assert len(sent) == 3 * 3 + 1
    message = sent[0]["messages"]
    assert len(message) == 1 and message[0]["role"] == "user"
    assert message[0]["content"].startswith("You are a highly skilled assistant")
    assert message[0]["content"].endswith("\nOutput:\n")
    assert sent[0]["model"] == "knowcoder-test" and sent[0]["temperature"] == 0.0


def test_cache_second_run_makes_no_calls_and_round_trips(chat_server, tmp_path):
    first = list(make_nlp(chat_server, tmp_path).pipe(TEXTS))
    assert list((tmp_path / "ie").glob("*.spacy")), "the cache wrote DocBins"
    start = len(chat_server.requests)
    second = list(make_nlp(chat_server, tmp_path).pipe(TEXTS))
    assert len(chat_server.requests) == start  # no model calls at all
    check_known_results(second)
    for before, after in zip(first, second):
        assert after._.relations == before._.relations
        assert after._.events == before._.events
        assert after._.knowcoder_diagnostics == before._.knowcoder_diagnostics


def test_results_survive_docbin(chat_server, tmp_path):
    docs = list(make_nlp(chat_server).pipe(TEXTS[:2]))
    DocBin(store_user_data=True, docs=docs).to_disk(tmp_path / "docs.spacy")
    restored = list(DocBin().from_disk(tmp_path / "docs.spacy").get_docs(spacy.blank("en").vocab))
    check_known_results(restored + [spacy.blank("en")("x"), spacy.blank("en")("")])


def test_bad_answers_give_warnings_and_partial_results(chat_server):
    nlp = make_nlp(chat_server)
    texts = [f"Ada Lovelace lived in London ({word})." for word in BAD_ANSWERS]
    with pytest.warns(UserWarning) as record:
        docs = list(nlp.pipe(texts + TEXTS[:2]))
    messages = [str(w.message) for w in record]
    nolist, unknowns, cutoff = docs[:3]
    assert nolist.ents == () and "no 'results = [' list" in str(
        nolist._.knowcoder_diagnostics["problems"]["ner"])
    assert [(e.text, e.label_) for e in unknowns.ents] == [("Ada Lovelace", "person")]
    assert unknowns._.knowcoder_diagnostics["dropped_classes"] >= 1
    assert any("[W001]" in m and "outside the schema" in m for m in messages)
    assert [(e.text, e.label_) for e in cutoff.ents] == [("Ada Lovelace", "person")]
    assert "ner" in cutoff._.knowcoder_diagnostics["incomplete"]
    check_known_results(docs[3:] + [spacy.blank("en")("x"), spacy.blank("en")("")])


def test_sharded_long_doc_keeps_doc_offsets(chat_server):
    sentences = ["Ada Lovelace was born in London.", "Barack Obama was born in Honolulu.",
                 "Barack Obama married Michelle Robinson in Chicago.", "It rained."] * 3
    text = " ".join(sentences)
    probe = spacy.blank("en")
    one = probe.add_pipe("llm", config={"task": task_config(), "model": chat_model_config(
        chat_server, context_length=8192)})
    longest = one.task._longest_prompt(probe(sentences[2]), 0, 0, 1)
    context_length = int((len(longest.split()) + 25) * 1.1)
    nlp = make_nlp(chat_server, context_length=context_length)
    nlp.get_pipe("llm_ie")._save_io = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shard cuts may split a name: dropped mentions
        doc = nlp(text)
    n_prompts = len(doc.user_data["llm_io"]["llm_ie"]["prompt"])
    assert doc.text == text and n_prompts >= 3 * 3, "the doc was cut into several shards"
    assert len(doc.ents) >= 12
    assert max(e.start_char for e in doc.ents) > len(text) // 2
    known = {p: "person" for p in ("Ada Lovelace", "Barack Obama", "Michelle Robinson")}
    known.update({c: "city" for c in ("London", "Honolulu", "Chicago")})
    for ent in doc.ents:
        assert known[ent.text] == ent.label_
    assert len(doc._.relations) >= 3
    for relation in doc._.relations:
        for side in ("head", "tail"):
            part = relation[side]
            assert text[part["start"]:part["end"]] == part["text"]
        assert relation["tail"]["start"] - relation["head"]["start"] < 30
    assert doc._.events
    for event in doc._.events:
        trigger = event["trigger"]
        assert text[trigger["start"]:trigger["end"]] == "married"
        for argument in event["arguments"]:
            assert text[argument["start"]:argument["end"]] == argument["text"]
            assert abs(argument["start"] - trigger["start"]) < 60


def test_schema_mismatch_labels_in_config(chat_server):
    nlp = spacy.blank("en")
    nlp.add_pipe("llm", config={"task": task_config(labels={"Person": "PER", "City": "GPE"}),
                                "model": chat_model_config(chat_server, context_length=8192)})
    doc = nlp("Barack Obama was born in Honolulu.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Barack Obama", "PER"), ("Honolulu", "GPE")]
    assert doc._.relations[0]["head"]["label"] == "PER"
    assert SCHEMA["relations"]["born in"]["head"] == ["person"]
