import json

from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.corpora import convert


def test_convert_writes_limited_jsonl(data_root, tmp_path):
    out = tmp_path / "wnut.jsonl"
    assert convert("wnut17", "test", out, limit=5, data_root=data_root) == 5
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and rows[0]["id"].startswith("wnut17-")


def test_cli_convert_dataset(data_root, tmp_path):
    out = tmp_path / "geneva.jsonl"
    result = CliRunner().invoke(app, ["convert-dataset", "geneva", "test", str(out),
                                      "--limit", "3", "--data-root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    bad = CliRunner().invoke(app, ["convert-dataset", "nope", "test", str(out)])
    assert bad.exit_code == 1 and "E252" in bad.output
