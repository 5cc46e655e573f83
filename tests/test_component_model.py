"""The knowcoder component on the real (untrained) SmolLM2-135M model.

Whatever the model writes, every stored span must be valid, inside the text, and
survive DocBin and ``nlp.to_disk``/``spacy.load``.
"""
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_knowcoder.generation.blocks import model_block_config

pytestmark = pytest.mark.model

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "The city where a person was born.",
                              "head": ["person"], "tail": ["city"]}},
    "events": {"marriage": {"description": "Two people get married.",
                            "roles": ["spouse", "place"]}},
}
TEXTS = [
    "Barack Obama was born in Honolulu.",
    "Barack Obama married Michelle Robinson in Chicago.",
    "",
    "  \n\t ",
    'He said "hi" 😀 \\ and \'bye\'',
]


@pytest.fixture(scope="module")
def nlp(smollm2_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(smollm2_dir), max_new_tokens=24),
                                      "schema": SCHEMA, "tasks": ["ner", "re", "ed", "eae"],
                                      "store_completions": True})
    return nlp


@pytest.fixture(scope="module")
def docs(nlp):
    return list(nlp.pipe(TEXTS, batch_size=8))


def test_real_model_output_is_valid_whatever_it_writes(docs, assert_valid_results):
    assert [doc.text for doc in docs] == TEXTS
    for doc in docs:
        assert_valid_results(doc)
    # the model really ran: every non-empty doc has one completion per task that ran
    diagnostics = docs[0]._.knowcoder_diagnostics
    assert {"ner", "re", "ed"} <= set(diagnostics["completions"])
    assert docs[2]._.knowcoder_diagnostics["windows"] == 0


def test_real_model_results_round_trip_through_docbin(nlp, docs, tmp_path, assert_valid_results):
    DocBin(store_user_data=True, docs=docs).to_disk(tmp_path / "out.spacy")
    restored = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(nlp.vocab))
    for before, after in zip(docs, restored):
        assert after._.relations == before._.relations
        assert after._.events == before._.events
        assert [(e.start_char, e.end_char, e.label_) for e in after.ents] == [
            (e.start_char, e.end_char, e.label_) for e in before.ents]
        assert_valid_results(after)


def test_saved_pipeline_runs_in_a_fresh_process(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipe")
    code = (
        "import sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "assert 'spacy_knowcoder' in nlp.get_pipe('knowcoder').__module__\n"
        "doc = nlp('Ada Lovelace was born in London.')\n"
        "print(sorted(doc._.knowcoder_diagnostics['completions']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pipe")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'ed', 'ner', 're']" in result.stdout  # EAE runs too when ED found triggers


def test_a_5000_word_doc_runs_without_silent_truncation(smollm2_dir, assert_valid_results):
    sentence = "The committee met in Geneva on Tuesday and discussed the annual report. "
    text = "Ada Lovelace wrote the first program. " + sentence * (5000 // 12 + 1)
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(smollm2_dir), max_new_tokens=8),
                                      "tasks": ["ner"], "schema": {"entities": SCHEMA["entities"]},
                                      "store_completions": True})
    doc = nlp(text)
    assert len(text.split()) >= 5000
    diagnostics = doc._.knowcoder_diagnostics
    # one completion per window; the windows together cover the whole text
    assert len(diagnostics["completions"]["ner"]) == diagnostics["windows"] >= 1
    assert_valid_results(doc)
