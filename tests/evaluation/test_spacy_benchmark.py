"""``spacy benchmark accuracy`` prints entity, relation and event scores.

The gold DocBin comes from ``knowcoder convert-benchmark``; the pipeline uses
the real SmolLM2 model; the spaCy CLI runs in a fresh process.
"""
import json
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.corpora.benchmark import read_benchmark
from spacy_knowcoder.evaluation.gold_docs import records_to_docs
from spacy_knowcoder.generation.blocks import model_block_config
from spacy_knowcoder.scoring import score_knowcoder

from .conftest import LABELS


def test_gold_docs_round_trip_and_score_perfectly(dataset, tmp_path):
    data, labels = dataset
    result = CliRunner().invoke(app, ["convert-benchmark", str(data), str(tmp_path / "g.spacy"),
                                      "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    nlp = spacy.blank("en")
    gold = list(DocBin().from_disk(tmp_path / "g.spacy").get_docs(nlp.vocab))
    assert [len(d.ents) for d in gold] == [2, 3]
    assert gold[0]._.relations[0]["label"] == "born in"
    assert gold[1]._.events[0]["arguments"][1]["role"] == "place"
    scores = score_knowcoder([Example(d, d) for d in gold])
    for key in ("ents_f", "rel_f", "rel_boundary_f", "event_trigger_f", "event_argument_f",
                "spans_knowcoder_f"):
        assert scores[key] == 1.0, key
    # a prediction with the relation's tail type wrong: strict misses, boundary hits
    predicted = records_to_docs(nlp, read_benchmark(data))
    relation = predicted[0]._.relations[0]
    relation["tail"]["label"] = "person"
    predicted[0]._.relations = [relation]
    scores = score_knowcoder([Example(p, g) for p, g in zip(predicted, gold)])
    assert scores["rel_f"] == 0.0 and scores["rel_boundary_f"] == 1.0
    assert scores["spans_knowcoder_per_type"]["relations"]["f"] == 0.0


@pytest.mark.model
def test_spacy_benchmark_accuracy_prints_all_tasks(smollm2_dir, dataset, tmp_path):
    data, _ = dataset
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(smollm2_dir), max_new_tokens=16),
                                      "schema": LABELS, "tasks": ["ner", "re", "ed"]})
    nlp.to_disk(tmp_path / "pipe")
    assert CliRunner().invoke(app, ["convert-benchmark", str(data),
                                    str(tmp_path / "gold.spacy")]).exit_code == 0
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "benchmark", "accuracy", str(tmp_path / "pipe"),
         str(tmp_path / "gold.spacy"), "--spans-key", "knowcoder",
         "--output", str(tmp_path / "scores.json")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for row in ("NER F", "SPAN F", "entities", "relations", "event triggers"):
        assert row in out, (row, out)
    scores = json.loads((tmp_path / "scores.json").read_text())
    for key in ("ents_f", "rel_f", "event_trigger_f", "spans_knowcoder_per_type"):
        assert key in scores
    per_task = scores["spans_knowcoder_per_type"]
    assert per_task["entities"]["f"] == pytest.approx(scores["ents_f"])
    assert per_task["relations"]["f"] == pytest.approx(scores["rel_f"])
