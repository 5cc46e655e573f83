"""The knowcoder component's logic, driven by a scripted generator.

The scripted generator is a test double for the *model* only: prompts are
rendered, completions parsed, aligned and written by the real code. The tests
in ``test_component_model.py`` run the same component on the real SmolLM2.
"""
import subprocess
import sys
import warnings

import pytest
import spacy
from tests.helpers import ScriptedGenerator, sentence_of
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from spacy_knowcoder.extensions import event_spans, relation_spans
from spacy_knowcoder.generation.blocks import model_block_config

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "Birth place.", "head": ["person"],
                              "tail": ["city"]}},
    "events": {"marriage": {"description": "A wedding.", "roles": ["spouse", "place"]}},
}


OBAMA = {
    "ner": lambda s: 'results = [\n\tPerson("Barack Obama"),\n\tCity("Honolulu")\n]',
    "re": lambda s: 'results = [\n\tBornIn(Entity("Barack Obama"), Entity("Honolulu"))\n]',
    "ed": lambda s: 'results = [\n\tMarriage("married")\n]' if "married" in s else "results = []",
    "eae": lambda s: ('results = [\n\tMarriage(trigger = "married", spouse = '
                      '[Entity("Michelle Robinson")], place = [Entity("Honolulu")])\n]'),
}


def make_nlp(answers=OBAMA, base=None, **config):
    nlp = base or spacy.blank("en")
    cfg = {"schema": SCHEMA, **config}
    pipe = nlp.add_pipe("knowcoder", config=cfg)
    pipe.generator = ScriptedGenerator(answers)
    return nlp


def test_entities_relations_and_events_are_written():
    nlp = make_nlp()
    doc = nlp("Barack Obama married Michelle Robinson in Honolulu.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Barack Obama", "person"),
                                                      ("Honolulu", "city")]
    assert doc._.relations == [{
        "label": "born in", "score": None,
        "head": {"start": 0, "end": 12, "text": "Barack Obama", "label": "person"},
        "tail": {"start": 42, "end": 50, "text": "Honolulu", "label": "city"},
    }]
    (event,) = doc._.events
    assert event["type"] == "marriage"
    assert event["trigger"] == {"start": 13, "end": 20, "text": "married"}
    assert [(a["role"], a["text"]) for a in event["arguments"]] == [
        ("spouse", "Michelle Robinson"), ("place", "Honolulu")]
    assert [(h.text, label, t.text) for h, label, t in relation_spans(doc)] == [
        ("Barack Obama", "born in", "Honolulu")]
    assert event_spans(doc)[0][1].text == "married"


def test_every_stored_offset_slices_the_text(assert_valid_results):
    nlp = make_nlp()
    doc = nlp("Barack Obama married Michelle Robinson in Honolulu.")
    assert doc._.relations and doc._.events
    assert_valid_results(doc)


def test_docbin_round_trip_keeps_everything():
    nlp = make_nlp()
    docs = list(nlp.pipe(["Barack Obama married Michelle Robinson in Honolulu.", ""]))
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    for before, after in zip(docs, restored):
        assert after._.relations == before._.relations
        assert after._.events == before._.events
        assert after._.knowcoder_diagnostics == before._.knowcoder_diagnostics
        assert [(e.start_char, e.end_char, e.label_) for e in after.ents] == [
            (e.start_char, e.end_char, e.label_) for e in before.ents]
        assert [(s.start_char, s.end_char, s.label_) for s in after.spans["knowcoder"]] == [
            (s.start_char, s.end_char, s.label_) for s in before.spans["knowcoder"]]


def test_hallucinated_mentions_and_unknown_classes_are_dropped_and_counted():
    answers = dict(OBAMA, ner=lambda s: ('results = [\n\tPerson("Barack Obama"),\n'
                                         '\tPerson("Donald Duck"),\n\tCountry("USA")\n]'))
    nlp = make_nlp(answers, tasks=["ner"])
    with pytest.warns(UserWarning, match=r"W001.*not in the schema|W001"):
        doc = nlp("Barack Obama was born in Honolulu.")
    assert [e.text for e in doc.ents] == ["Barack Obama"]
    diagnostics = doc._.knowcoder_diagnostics
    assert diagnostics["dropped_mentions"] == 1
    assert diagnostics["dropped_classes"] == 1


def test_bad_output_of_a_batch_gives_one_w001_with_the_counts():
    answers = dict(OBAMA, ner=lambda s: 'results = [\n\tPerson("Donald Duck"),\n\tCountry("USA")\n]')
    nlp = make_nlp(answers, tasks=["ner"])
    texts = [f"Barack Obama was born in Honolulu ({i})." for i in range(5)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = list(nlp.pipe(texts, batch_size=8))
    w001 = [str(w.message) for w in caught if "[W001]" in str(w.message)]
    assert len(w001) == 1
    assert "Dropped 10 predicted items in 5 of 5 docs" in w001[0]
    assert "5 used classes outside the schema; 5 were not found in the text" in w001[0]
    assert all(d._.knowcoder_diagnostics["dropped_classes"] == 1 for d in docs)


def test_garbage_output_gives_empty_results_and_a_reason():
    answers = {task: (lambda s: "I am a language model \x00 ]]] (((") for task in OBAMA}
    nlp = make_nlp(answers)
    doc = nlp("Barack Obama was born in Honolulu.")
    assert not doc.ents and not doc._.relations and not doc._.events
    assert set(doc._.knowcoder_diagnostics["problems"]) == {"ner", "re", "ed"}


def test_truncated_output_keeps_complete_items():
    answers = dict(OBAMA, ner=lambda s: 'results = [\n\tPerson("Barack Obama"),\n\tCity("Hono')
    nlp = make_nlp(answers, tasks=["ner"])
    doc = nlp("Barack Obama was born in Honolulu.")
    assert [e.text for e in doc.ents] == ["Barack Obama"]
    assert doc._.knowcoder_diagnostics["incomplete"] == ["ner"]


def test_repeated_mentions_take_successive_occurrences():
    answers = dict(OBAMA, ner=lambda s: 'results = [Person("Ann"), Person("Ann")]')
    doc = make_nlp(answers, tasks=["ner"])("Ann met Bob and Ann left.")
    assert [(e.start_char, e.end_char) for e in doc.ents] == [(0, 3), (16, 19)]


def test_quotes_and_escapes_survive_the_prompt_and_the_parse():
    text = 'The band "Ann \\ Bob" played in Paris.'
    answers = dict(OBAMA, ner=lambda s: 'results = [Person("\\"Ann \\\\ Bob\\""), City("paris")]')
    nlp = make_nlp(answers, tasks=["ner"])
    doc = nlp(text)
    assert [e.text for e in doc.ents] == ['"Ann \\ Bob"', "Paris"]
    assert nlp.get_pipe("knowcoder").generator.prompts[0].endswith(
        'sentence = "The band \\"Ann \\\\ Bob\\" played in Paris."\n\nOutput:\n')


def test_existing_entities_are_kept_by_default():
    nlp = spacy.blank("en")
    make_nlp(base=nlp, tasks=["ner"])
    doc = nlp.make_doc("Barack Obama was born in Honolulu.")
    doc.ents = [doc.char_span(0, 6, label="GIVEN_NAME")]
    doc = nlp.get_pipe("knowcoder")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Barack", "GIVEN_NAME"),
                                                      ("Honolulu", "city")]
    assert [s.text for s in doc.spans["knowcoder"]] == ["Barack Obama", "Honolulu"]


def test_overwrite_moves_displaced_entities_to_a_span_group():
    nlp = spacy.blank("en")
    make_nlp(base=nlp, tasks=["ner"], overwrite_ents=True)
    doc = nlp.make_doc("Barack Obama was born in Honolulu.")
    doc.ents = [doc.char_span(0, 6, label="GIVEN_NAME")]
    doc = nlp.get_pipe("knowcoder")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Barack Obama", "person"),
                                                      ("Honolulu", "city")]
    assert [s.label_ for s in doc.spans["knowcoder_displaced"]] == ["GIVEN_NAME"]


def test_eae_alone_uses_events_already_on_the_doc():
    nlp = make_nlp(tasks=["eae"])
    doc = nlp.make_doc("Barack Obama married Michelle Robinson in Honolulu.")
    doc._.events = [{"type": "marriage", "trigger": {"start": 13, "end": 20, "text": "married"},
                     "arguments": [], "score": None}]
    doc = nlp.get_pipe("knowcoder")(doc)
    assert [a["text"] for a in doc._.events[0]["arguments"]] == ["Michelle Robinson", "Honolulu"]


def test_labels_mapping_renames_spacy_labels():
    doc = make_nlp(tasks=["ner"], labels={"Person": "PER"})("Barack Obama in Honolulu.")
    assert [e.label_ for e in doc.ents] == ["PER", "city"]


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀 \"'\\ ''' \"\"\""])
def test_empty_and_odd_docs_run(text):
    answers = {task: (lambda s: "results = []") for task in OBAMA}
    doc = make_nlp(answers)(text)
    assert doc.text == text and not doc.ents


def test_long_doc_is_split_into_windows_and_offsets_are_shifted():
    words = " ".join(f"word{i}" for i in range(5000))
    text = "Ann lives here. " + words + ". Bob lives there."
    answers = dict(OBAMA, ner=lambda s: "results = [" + ", ".join(
        f'Person("{name}")' for name in ("Ann", "Bob") if name in s) + "]")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    pipe = nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "tasks": ["ner"],
                                             "model": model_block_config(None, max_new_tokens=64)})
    pipe.generator = ScriptedGenerator(answers, max_context=1024)
    with pytest.warns(UserWarning, match="W002"):
        doc = nlp(text)
    assert doc._.knowcoder_diagnostics["windows"] > 5
    assert [(e.text, e.start_char) for e in doc.ents] == [
        ("Ann", 0), ("Bob", text.index("Bob"))]
    prompts = pipe.generator.prompts
    assert "".join(sentence_of(p) for p in prompts).replace(" ", "") == text.replace(" ", "")


def test_score_reports_entities_relations_and_events():
    nlp = make_nlp()
    text = "Barack Obama married Michelle Robinson in Honolulu."
    gold = nlp.make_doc(text)
    gold.ents = [gold.char_span(0, 12, label="person")]
    gold._.relations = [{"label": "born in", "score": None,
                         "head": {"start": 0, "end": 12, "text": "Barack Obama", "label": "person"},
                         "tail": {"start": 42, "end": 50, "text": "Honolulu", "label": "city"}}]
    gold._.events = [{"type": "marriage", "score": None,
                      "trigger": {"start": 13, "end": 20, "text": "married"},
                      "arguments": [{"role": "spouse", "start": 21, "end": 38,
                                     "text": "Michelle Robinson", "label": None}]}]
    scores = nlp.evaluate([Example(nlp.make_doc(text), gold)])
    assert scores["ents_p"] == 0.5 and scores["ents_r"] == 1.0
    assert scores["rel_f"] == 1.0
    assert scores["event_trigger_f"] == 1.0
    assert scores["event_argument_p"] == 0.5 and scores["event_argument_r"] == 1.0


def test_to_disk_and_spacy_load_in_a_fresh_process(tmp_path, smollm2_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(smollm2_dir), max_new_tokens=77),
                                      "schema": SCHEMA, "labels": {"Person": "PER"}})
    nlp.to_disk(tmp_path / "pipe")
    code = ("import spacy, sys\n"
            "nlp = spacy.load(sys.argv[1])\n"
            "assert 'spacy_knowcoder' not in sys.modules or True\n"
            "pipe = nlp.get_pipe('knowcoder')\n"
            "print(pipe.tasks, pipe.labels, pipe.generation.max_new_tokens)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pipe")],
                         capture_output=True, text=True, check=True).stdout
    assert "['ner', 're', 'ed', 'eae'] ['PER', 'city', 'born in', 'marriage'] 77" in out


def test_schema_file_travels_with_the_pipeline(tmp_path):
    schema_file = tmp_path / "schema.json"
    schema_file.write_text('{"entities": {"person": "A human being."}}', encoding="utf8")
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema_file": str(schema_file)})
    nlp.to_disk(tmp_path / "pipe")
    schema_file.unlink()
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.get_pipe("knowcoder").labels == ["person"]
    assert spacy.blank("en").from_bytes is not None
    copy = spacy.blank("en")
    copy.add_pipe("knowcoder", config={"schema": {"entities": {"x": "y"}}})
    copy.get_pipe("knowcoder").from_bytes(loaded.get_pipe("knowcoder").to_bytes())
    assert copy.get_pipe("knowcoder").labels == ["person"]


@pytest.mark.parametrize("config,code", [
    ({"tasks": ["nerr"]}, "E001"),
    ({"tasks": []}, "E001"),
    ({"schema": {"entities": {}}}, "E002"),
    ({"schema": {"entities": {"!!!": "x"}}}, "E003"),
    ({"schema": {"entities": {"person": "x"}}, "tasks": ["re"]}, "E005"),
    ({"schema": None}, "E014"),
    ({"schema_file": "x.json"}, "E015"),
    ({"quoting": "json"}, "E017"),
    ({"alignment_mode": "fuzzy"}, "E017"),
])
def test_bad_config_gets_a_coded_error(config, code):
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=rf"\[{code}\]"):
        nlp.add_pipe("knowcoder", config={"schema": SCHEMA, **config})


def test_model_path_that_does_not_exist_is_a_clear_error(tmp_path):
    nlp = spacy.blank("en")
    with pytest.raises(Exception, match=r"E1\d\d.*does-not-exist"):
        nlp.add_pipe("knowcoder", config={"schema": SCHEMA,
                                          "model": str(tmp_path / "does-not-exist")})


def test_missing_model_setting_without_a_shipped_default_is_a_clear_error_on_use(tmp_path,
                                                                                 monkeypatch):
    # with no model the shipped default is used (tests/test_default_model.py); a
    # site whose models folder lacks it gets E019 on use
    monkeypatch.setenv("KNOWCODER_SHIPPED_MODELS", str(tmp_path))
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA})
    with pytest.raises(ValueError, match="E019"):
        nlp("Ann.")


def test_a_users_own_extension_of_the_same_name_is_not_clobbered():
    code = (
        "import spacy\nfrom spacy.tokens import Doc\n"
        "Doc.set_extension('relations', default='mine')\n"
        "nlp = spacy.blank('en')\n"
        "try:\n"
        "    nlp.add_pipe('knowcoder', config={'schema': {'entities': {'p': 'x'}}})\n"
        "except ValueError as err:\n"
        "    print(err)\n"
        "print(nlp.make_doc('a')._.relations)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "[E013]" in out and "Doc._.relations" in out
    assert out.strip().endswith("mine")


def test_non_doc_input_is_a_type_error():
    nlp = make_nlp()
    with pytest.raises(TypeError, match="E020"):
        nlp.get_pipe("knowcoder").process_docs(["not a doc"])


def test_no_warnings_for_clean_output():
    nlp = make_nlp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nlp("Barack Obama married Michelle Robinson in Honolulu.")


def test_doc_type_is_spacy_doc():
    assert isinstance(make_nlp()("Barack Obama in Honolulu."), Doc)
