"""``knowcoder report``: markdown, JSON and a PNG across datasets."""
import json

import pytest
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.evaluation.report import build_report

runner = CliRunner()


def scores(name, tasks, f1):
    headline = {"ner": "ner_strict", "re": "re_strict", "ed": "ed_trigger_cls",
                "eae": "eae_arg_cls"}
    return {"dataset": name, "n_docs": 10, "tasks": tasks, "headline": dict(zip(tasks, f1)),
            "metrics": {headline[t]: {"f": f} for t, f in zip(tasks, f1)},
            "diagnostics": {"hallucinations": 2}}


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def test_mean_is_the_plain_mean_of_per_dataset_f1():
    report = build_report([scores("a", ["ner"], [0.2]), scores("b", ["ner", "re"], [0.6, 0.5]),
                           scores("c", ["ed", "eae"], [0.1, 0.3])])
    assert report["mean"]["ner"] == pytest.approx(0.4)
    assert report["mean"]["re"] == 0.5 and report["mean"]["eae"] == 0.3


def test_report_cli_writes_markdown_json_and_png(tmp_path):
    after = [write(tmp_path / n / "scores.json", scores(n, ["ner"], [f]))
             for n, f in (("wikigold", 0.5), ("wnut17", 0.3))]
    before = [write(tmp_path / "base" / n / "scores.json", scores(n, ["ner"], [f]))
              for n, f in (("wikigold", 0.1), ("wnut17", 0.05))]
    out = tmp_path / "report"
    args = [*after, "--output", str(out)]
    for path in before:
        args += ["--baseline", path]
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["mean"]["ner"] == pytest.approx(0.4)
    assert report["baseline"]["mean"]["ner"] == pytest.approx(0.075)
    md = (out / "report.md").read_text()
    assert "| wikigold | 10 | 50.0 |" in md and "10.0 → 50.0" in md and "**mean**" in md
    png = (out / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_report_rejects_bad_scores_files(tmp_path):
    good = write(tmp_path / "a.json", scores("a", ["ner"], [0.5]))
    bad = write(tmp_path / "b.json", {"f1": 0.3})
    result = runner.invoke(app, ["report", good, bad, "-o", str(tmp_path / "r")])
    assert result.exit_code == 1 and "E463" in result.output
    result = runner.invoke(app, ["report", good, good, "-o", str(tmp_path / "r")])
    assert result.exit_code == 1 and "E465" in result.output


def test_report_gives_means_per_language_seen_and_held_out(tmp_path):
    def in_language(name, lang, f1):
        return dict(scores(name, ["ner"], [f1]), language=lang)

    after = [write(tmp_path / n / "scores.json", in_language(n, lang, f))
             for n, lang, f in (("universal_ner_zh", "zh", 0.4), ("weibo_ner", "zh", 0.2),
                                ("universal_ner_pt", "pt", 0.3), ("conll2002_nl", "nl", 0.1))]
    before = [write(tmp_path / "base" / n / "scores.json", in_language(n, lang, 0.0))
              for n, lang in (("universal_ner_zh", "zh"), ("weibo_ner", "zh"),
                              ("universal_ner_pt", "pt"), ("conll2002_nl", "nl"))]
    out = tmp_path / "report"
    args = [*after, "--output", str(out)]
    for path in before:
        args += ["--baseline", path]
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    languages = json.loads((out / "report.json").read_text())["languages"]
    assert languages["per_language"]["zh"]["ner"] == pytest.approx(0.3)
    assert languages["held_out_languages"] == ["nl", "pt"]
    assert languages["seen"]["ner"] == pytest.approx(0.3)
    assert languages["held_out"]["ner"] == pytest.approx(0.2)
    md = (out / "report.md").read_text()
    assert "| pt | yes | 0.0 → 30.0 |" in md and "| zh |  | 0.0 → 30.0 |" in md
    assert (out / "languages.png").read_bytes()[:4] == b"\x89PNG"


def test_one_language_adds_no_language_table():
    report = build_report([scores("a", ["ner"], [0.2]), scores("b", ["ner"], [0.4])])
    assert "languages" not in report
    assert report["datasets"][0]["language"] == "en"
