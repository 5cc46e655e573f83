"""Faults: broken model directories, killed writes, and how CLI outputs are written.

- A model directory that is corrupt (truncated config, weights or tokenizer;
  missing weights; no config) gives a coded error, never a raw traceback from
  transformers or safetensors. The directories are real: a tiny Llama model
  saved by transformers, then damaged.
- A process killed (SIGKILL) in the middle of writing an output leaves either
  no file or the previous complete file, never a half-written one; a rerun
  then writes the complete file.
- Every CLI module writes through spacy_knowcoder.fileio (checked on the
  syntax tree), so the guarantee above holds for every command.
"""
import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, List

import pytest

import spacy_knowcoder.cli
from spacy_knowcoder.fileio import write_json

CLI_DIR = Path(spacy_knowcoder.cli.__file__).resolve().parent


# ---------------------------------------------------------------------------
# Corrupt model directories


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny, random) Llama model with a real tokenizer, saved by transformers."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("models") / "tiny"
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{c: i + 3 for i, c in enumerate("abcdefgh ")}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>",
                                        bos_token="<s>", eos_token="</s>")
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=64)
    LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


def _damaged(tiny_model: Path, tmp_path: Path, damage: Callable[[Path], None]) -> Path:
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    damage(target)
    return target


def _truncate(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = (path / name).read_bytes()
        (path / name).write_bytes(data[: int(len(data) * keep)])

    return damage


def _remove(name: str) -> Callable[[Path], None]:
    return lambda path: (path / name).unlink()


def test_the_intact_tiny_model_loads(tiny_model: Path) -> None:
    from spacy_knowcoder.generation.hf import load_model_and_tokenizer

    lm, tokenizer = load_model_and_tokenizer(tiny_model)
    assert lm.config.num_hidden_layers == 1 and tokenizer("abc")["input_ids"]


@pytest.mark.parametrize("damage,code,hint", [
    (_truncate("config.json"), "E103", "config"),
    (_truncate("model.safetensors"), "E103", "SafetensorError"),
    (_truncate("model.safetensors", keep=0.001), "E103", "SafetensorError"),
    (_remove("model.safetensors"), "E103", "model.safetensors"),
    (_truncate("tokenizer.json"), "E103", "tokenizer"),
    (_remove("config.json"), "E101", "model.safetensors"),
], ids=["truncated-config", "truncated-weights", "weights-header-only", "missing-weights",
        "truncated-tokenizer", "missing-config"])
def test_corrupt_model_directory_is_a_coded_error(tiny_model: Path, tmp_path: Path,
                                                  damage: Callable[[Path], None], code: str,
                                                  hint: str) -> None:
    from spacy_knowcoder.generation import GenerationSettings, HFGenerator

    path = _damaged(tiny_model, tmp_path, damage)
    with pytest.raises((OSError, ValueError)) as caught:
        HFGenerator(path, GenerationSettings(max_new_tokens=4))
    message = str(caught.value)
    assert f"[{code}]" in message and str(path) in message
    assert hint.lower() in message.lower()


def test_corrupt_model_through_the_component_is_a_coded_error(tiny_model: Path,
                                                              tmp_path: Path) -> None:
    import spacy

    path = _damaged(tiny_model, tmp_path, _truncate("model.safetensors"))
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": str(path),
                                      "schema": {"entities": {"person": "A human."}}})
    with pytest.raises(OSError, match=r"\[E103\].*SafetensorError"):
        nlp("Ann met Bob.")


# ---------------------------------------------------------------------------
# Killed writes


WRITER = textwrap.dedent("""
    import sys, time
    from spacy_knowcoder.fileio import atomic_directory, atomic_output
    target, kind = sys.argv[1], sys.argv[2]
    if kind == "file":
        with atomic_output(target) as handle:
            for i in range(1000):
                handle.write("partial line %d\\n" % i)
            handle.flush()
            print("WRITING", flush=True)
            time.sleep(120)
    else:
        with atomic_directory(target) as folder:
            (folder / "half.txt").write_text("half")
            print("WRITING", flush=True)
            time.sleep(120)
""")


def _kill_mid_write(target: Path, kind: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(target), kind],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        line = process.stdout.readline()
        assert line.strip() == b"WRITING", process.stderr.read()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def _visible(folder: Path) -> List[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_killed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "predictions.jsonl"
    _kill_mid_write(target, "file")
    assert not target.exists()
    assert _visible(tmp_path) == []  # only a hidden .predictions.jsonl.*.part remains
    write_json(target, {"complete": True})  # a rerun
    assert json.loads(target.read_text(encoding="utf-8")) == {"complete": True}


def test_killed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "scores.json"
    write_json(target, {"run": 1})
    before = target.read_bytes()
    _kill_mid_write(target, "file")
    assert target.read_bytes() == before


def test_killed_directory_write_keeps_the_previous_directory(tmp_path: Path) -> None:
    target = tmp_path / "model-best"
    target.mkdir()
    (target / "weights.bin").write_text("complete")
    _kill_mid_write(target, "dir")
    assert _visible(target) == ["weights.bin"]
    assert (target / "weights.bin").read_text() == "complete"
    _kill_mid_write(tmp_path / "fresh", "dir")
    assert not (tmp_path / "fresh").exists()


# ---------------------------------------------------------------------------
# Every CLI module writes atomically


DIRECT_WRITES = {"write_text", "write_bytes", "to_disk", "write_json", "write_jsonl",
                 "write_msgpack", "save_pretrained", "dump", "savefig"}


# Method calls known to write through fileio, each with the function that proves it
# (checked below, so this list cannot go stale silently).
ATOMIC_METHODS = {
    "library.to_disk": ("spacy_knowcoder.schema.library", "SchemaLibrary.to_disk"),
}


def direct_writes(source: str) -> List[str]:
    """Calls in ``source`` that write files without spacy_knowcoder.fileio.

    Method calls (``path.write_text``, ``srsly.write_json``, ``doc_bin.to_disk``)
    and ``open(..., "w")`` count; the fileio helpers imported by name do not.

    Example:
        >>> direct_writes("from ..fileio import write_text\\nwrite_text(p, s)")
        []
        >>> direct_writes("p.write_text(s)\\nopen(p, 'w')")
        ['1: .write_text()', "2: open(..., 'w')"]
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in DIRECT_WRITES:
            if ast.unparse(func) not in ATOMIC_METHODS:
                found.append(f"{node.lineno}: .{func.attr}()")
        elif isinstance(func, ast.Name) and func.id == "open":
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords
                      if k.arg == "mode" and isinstance(k.value, ast.Constant)]
            if any(isinstance(m, str) and set(m) & set("wax+") for m in modes):
                found.append(f"{node.lineno}: open(..., {modes[0]!r})")
    return found


@pytest.mark.parametrize("call", sorted(ATOMIC_METHODS))
def test_allowed_methods_really_write_through_fileio(call: str) -> None:
    import importlib
    import inspect

    module_name, qualname = ATOMIC_METHODS[call]
    target = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    calls = {n.func.id for n in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(target))))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert calls & {"write_text", "write_bytes", "write_json", "write_jsonl",
                    "atomic_output", "atomic_directory"}, f"{qualname} does not use fileio"


@pytest.mark.parametrize("module", sorted(p.name for p in CLI_DIR.glob("*.py")))
def test_cli_module_writes_through_fileio(module: str) -> None:
    source = (CLI_DIR / module).read_text(encoding="utf-8")
    assert direct_writes(source) == [], (
        f"cli/{module} writes files directly; use spacy_knowcoder.fileio "
        f"(write_text, write_json, atomic_output, atomic_directory)")
