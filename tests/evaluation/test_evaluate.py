"""``knowcoder evaluate`` / ``knowcoder score`` on the real SmolLM2 model.

The scores written by ``evaluate`` are recomputed here from its predictions
file with a separate, simple implementation; bad input exits non-zero with a
coded message.
"""
import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from spacy_knowcoder.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _items(record, metric):
    if metric == "ner_strict":
        return [(e["start"], e["end"], e["label"]) for e in record["entities"]]
    if metric == "ner_text":
        return [(e["text"], e["label"]) for e in record["entities"]]
    if metric == "re_strict":
        return [(r["head"]["start"], r["head"]["end"], r["head"].get("label"),
                 r["tail"]["start"], r["tail"]["end"], r["tail"].get("label"), r["label"])
                for r in record["relations"]]
    if metric == "ed_trigger_cls":
        return [(e["trigger"]["start"], e["trigger"]["end"], e["type"]) for e in record["events"]]
    raise KeyError(metric)


def recompute(gold_path, predictions_path, metric):
    gold = {r["id"]: r for r in map(json.loads, gold_path.read_text().splitlines())}
    pred = {r["id"]: r for r in map(json.loads, predictions_path.read_text().splitlines())}
    assert set(gold) == set(pred)
    tp = fp = fn = 0
    for key in gold:
        g, p = Counter(_items(gold[key], metric)), Counter(_items(pred[key], metric))
        both = sum((g & p).values())
        tp, fp, fn = tp + both, fp + sum(p.values()) - both, fn + sum(g.values()) - both
    return tp, fp, fn


@pytest.mark.model
def test_evaluate_real_model_and_recompute_from_predictions(smollm2_dir, dataset, tmp_path):
    data, labels = dataset
    out = tmp_path / "eval"
    result = invoke("evaluate", smollm2_dir, data, labels, "--output", out,
                    "--tasks", "ner,re,ed", "--max-new-tokens", 24, "--name", "tiny")
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores.json").read_text())
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == ["a", "b"]
    assert scores["dataset"] == "tiny" and scores["n_docs"] == 2
    assert scores["tasks"] == ["ner", "re", "ed"]
    for p in predictions:  # nothing invented: every mention is in the text
        for e in p["entities"]:
            assert p["text"][e["start"]:e["end"]] == e["text"]
    for metric in ("ner_strict", "ner_text", "re_strict", "ed_trigger_cls"):
        m = scores["metrics"][metric]
        assert (m["tp"], m["fp"], m["fn"]) == recompute(data, out / "predictions.jsonl", metric)
    assert scores["metrics"]["ner_strict"]["fn"] + scores["metrics"]["ner_strict"]["tp"] == 5
    assert set(scores["diagnostics"]) >= {"parse_failures", "dropped_classes",
                                          "dropped_mentions", "hallucinations"}
    # `knowcoder score` on the same files gives the same numbers
    rescored = tmp_path / "rescored.json"
    result = invoke("score", data, out / "predictions.jsonl", labels, "--tasks", "ner,re,ed",
                    "--output", rescored, "--name", "tiny")
    assert result.exit_code == 0, result.output
    assert json.loads(rescored.read_text())["metrics"] == scores["metrics"]


@pytest.mark.model
def test_evaluate_with_typing_by_score_reports_the_threshold_curve(smollm2_dir, dataset,
                                                                    tmp_path):
    data, labels = dataset
    out = tmp_path / "eval"
    result = invoke("evaluate", smollm2_dir, data, labels, "--output", out, "--tasks", "ner",
                    "--max-new-tokens", 24, "--typing", "score", "--split", 1)
    assert result.exit_code == 0, result.output
    assert "precision and recall over the score threshold" in result.output
    scores = json.loads((out / "scores.json").read_text())
    assert scores["settings"] == {"typing": "score", "selection": {
        "@misc": "spacy_knowcoder.split_selection.v1", "budget": 1}}
    curve = scores["threshold_curve"]["ner"]
    assert [row["threshold"] for row in curve] == [round(0.1 * i, 1) for i in range(10)]
    assert curve[0]["f"] == scores["metrics"]["ner_strict"]["f"]
    assert [row["kept"] for row in curve] == sorted((row["kept"] for row in curve), reverse=True)
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    scored = [e["score"] for p in predictions for e in p["entities"]]
    assert scored and all(0 < s <= 1 for s in scored)
    assert (out / "threshold_curve.png").stat().st_size > 1000
    # The same scores and curve come back from the predictions file alone.
    rescored = tmp_path / "rescored.json"
    assert invoke("score", data, out / "predictions.jsonl", labels, "--tasks", "ner",
                  "--output", rescored).exit_code == 0
    assert json.loads(rescored.read_text())["threshold_curve"] == scores["threshold_curve"]


def _write(path, lines):
    path.write_text("".join(lines))
    return path


def test_score_counts_hits_of_a_hand_made_prediction(dataset, records, tmp_path):
    data, labels = dataset
    records[0]["entities"] = records[0]["entities"][:1]            # one FN
    records[1]["entities"][2]["label"] = "person"                  # one FP + one FN
    preds = _write(tmp_path / "p.jsonl", [json.dumps(r) + "\n" for r in records])
    out = tmp_path / "s.json"
    assert invoke("score", data, preds, labels, "-o", out).exit_code == 0
    ner = json.loads(out.read_text())["metrics"]["ner_strict"]
    assert (ner["tp"], ner["fp"], ner["fn"]) == (3, 1, 2)
    assert json.loads(out.read_text())["metrics"]["eae_arg_cls"]["f"] == 1.0


def test_bad_input_exits_non_zero_with_a_coded_message(dataset, records, tmp_path):
    data, labels = dataset
    wrong_labels = _write(tmp_path / "wrong.json", [json.dumps(
        {"entity_labels": {"person": "A human.", "organization": "A company."}})])
    result = invoke("score", data, data, wrong_labels)
    assert result.exit_code == 1 and "E457" in result.output and "city" in result.output
    result = invoke("evaluate", "unused-model", data, wrong_labels, "-o", tmp_path / "x")
    assert result.exit_code == 1 and "E457" in result.output
    missing = _write(tmp_path / "p.jsonl", [json.dumps(records[0]) + "\n"])
    result = invoke("score", data, missing, labels)
    assert result.exit_code == 1 and "E458" in result.output and "b" in result.output
    empty = _write(tmp_path / "empty.jsonl", ["\n"])
    result = invoke("evaluate", "unused-model", empty, labels, "-o", tmp_path / "x")
    assert result.exit_code == 1 and "E455" in result.output
    result = invoke("evaluate", tmp_path / "no-model", data, labels, "-o", tmp_path / "x")
    assert result.exit_code == 1 and "E460" in result.output
    result = invoke("evaluate", "unused", data, tmp_path / "missing.json", "-o", tmp_path)
    assert result.exit_code == 1 and "E021" in result.output
    result = invoke("score", data, data, labels, "--tasks", "ner,srl")
    assert result.exit_code == 1 and "E462" in result.output
    assert not (tmp_path / "x").exists()


def _real_records(data_root, path, n):
    from spacy_knowcoder.corpora.catalog import read_dataset

    lines = [json.dumps(r) for r in read_dataset("re3d", "test", data_root, limit=n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.model
def test_evaluate_resumes_after_a_kill_with_the_same_predictions(smollm2_dir, data_root,
                                                                 tmp_path):
    """A real ``knowcoder evaluate`` process killed after its first saved batch:
    the rerun keeps the saved batches and ends with an uninterrupted run's output."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from spacy_knowcoder.corpora.catalog import label_file

    data = _real_records(data_root, tmp_path / "re3d.jsonl", 10)
    args = [smollm2_dir, data, label_file("re3d"), "--batch-size", 2, "--max-new-tokens", 12,
            "--typing", "generate"]
    whole = tmp_path / "whole"
    assert invoke("evaluate", *args, "--output", whole).exit_code == 0
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "spacy_knowcoder.cli", "evaluate",
               *[str(a) for a in args], "--output", str(killed)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = killed / "predictions.partial.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if partial.is_file() and len(partial.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved = len(partial.read_text().splitlines())
    assert 2 <= saved < 10 and not (killed / "predictions.jsonl").exists()
    with partial.open("a") as handle:
        handle.write('{"id": "cut sho')  # what a kill in the middle of a write leaves
    result = invoke("evaluate", *args, "--output", killed)
    assert result.exit_code == 0, result.output
    scores = json.loads((killed / "scores.json").read_text())
    assert scores["resumed_docs"] == saved - saved % 2
    assert (killed / "predictions.jsonl").read_text() == (whole / "predictions.jsonl").read_text()
    assert scores["metrics"] == json.loads((whole / "scores.json").read_text())["metrics"]
    assert not partial.exists() and not (killed / "predictions.partial.json").exists()


def test_a_partial_run_of_other_settings_is_refused(tmp_path):
    from spacy_knowcoder.evaluation.resume import PartialPredictions

    PartialPredictions(tmp_path, {"limit": 10}, step=2).append([{"id": 1}, {"id": 2}])
    with pytest.raises(ValueError, match=r"E466.*'limit': 10.*'limit': 20"):
        PartialPredictions(tmp_path, {"limit": 20}, step=2)
    assert len(PartialPredictions(tmp_path, {"limit": 10}, step=2).done()) == 2


@pytest.mark.model
def test_evaluate_chinese_in_a_chinese_pipeline(smollm2_dir, data_root, tmp_path):
    """--lang zh: the blank pipeline splits Chinese into characters, so a mention inside
    a run of characters can be an entity; the scores record the language."""
    from spacy_knowcoder.corpora import label_file, read_dataset
    from spacy_knowcoder.corpora.benchmark import write_benchmark

    data = tmp_path / "weibo.jsonl"
    write_benchmark(data, list(read_dataset("weibo_ner", "dev", data_root, limit=3)))
    out = tmp_path / "zh"
    result = invoke("evaluate", smollm2_dir, data, label_file("weibo_ner"), "--output", out,
                    "--max-new-tokens", 24, "--lang", "zh")
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores.json").read_text())
    assert scores["language"] == "zh" and scores["n_docs"] == 3
    for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
        prediction = json.loads(line)
        for e in prediction["entities"]:
            assert prediction["text"][e["start"]:e["end"]] == e["text"]
    bad = invoke("evaluate", smollm2_dir, data, label_file("weibo_ner"), "--output",
                 tmp_path / "bad", "--lang", "qq")
    assert bad.exit_code == 1 and "E472" in bad.output


def test_a_pipeline_keeps_its_language(tmp_path):
    import spacy

    from spacy_knowcoder.corpora.benchmark import LabelSet
    from spacy_knowcoder.evaluation.evaluate import load_pipeline

    spacy.blank("de").to_disk(tmp_path / "pipeline")
    with pytest.raises(ValueError, match=r"E471.*'de' pipeline.*'zh'"):
        load_pipeline(str(tmp_path / "pipeline"), LabelSet(entity_labels={"person": "A human."}),
                      ["ner"], lang="zh")
