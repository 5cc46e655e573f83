"""The shipped default on the real base: a real peft LoRA adapter on SmolLM2-135M.

The adapter is made here (``get_peft_model``, r=4 on q_proj/v_proj, lora_B
perturbed so it is not a no-op) and put where the registry looks
(``KNOWCODER_SHIPPED_MODELS``); the user cache (``KNOWCODER_HOME``) holds the
session's prepared base, linked, so nothing is converted again.
"""
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import spacy

pytest.importorskip("peft")

from typer.testing import CliRunner  # noqa: E402

from spacy_knowcoder.cli import app  # noqa: E402
from spacy_knowcoder.generation import GenerationSettings, HFGenerator, smollm2  # noqa: E402
from spacy_knowcoder.generation.adapter import base_fingerprint  # noqa: E402
from spacy_knowcoder.generation.blocks import model_block_config  # noqa: E402
from spacy_knowcoder.generation.shipped import HOME_ENV, load_shipped  # noqa: E402
from spacy_knowcoder.models import (  # noqa: E402
    ADAPTER_WEIGHTS,
    DEFAULT_MODEL,
    ROOT_ENV,
    write_metadata,
)
from spacy_knowcoder.precision import resolve_dtype  # noqa: E402
from spacy_knowcoder.prompting import render_query, wrap_query  # noqa: E402
from spacy_knowcoder.schema import schema_from_dict  # noqa: E402

pytestmark = pytest.mark.model
SCHEMA = {"entities": {"person": "A human being.", "city": "A large town."}}
TEXTS = ["Barack Obama was born in Honolulu.", "Marie Curie moved from Warsaw to Paris."]
CONFIG = {"schema": SCHEMA, "tasks": ["ner"], "model": model_block_config(None, max_new_tokens=16),
          "store_completions": True}


def make_adapter(base: Path, folder: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = get_peft_model(lm, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                          target_modules=["q_proj", "v_proj"]))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:  # peft starts B at zero: the adapter would change nothing
                param.copy_(torch.randn(param.shape, generator=generator) * 0.02)
    model.save_pretrained(folder)
    return folder


def write_model_metadata(folder: Path, base: Path, fingerprint: str = "") -> None:
    write_metadata(folder, base=smollm2.BASE_ID,
                   base_fingerprint=fingerprint or base_fingerprint(base),
                   base_source=smollm2.read_marker(base)["source"],
                   training={"note": "a random test adapter"})


def link_base(home: Path, base: Path) -> None:
    target = home / "models" / smollm2.BASE_ID
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(base.resolve(), target_is_directory=True)


@pytest.fixture(scope="module")
def shipped(smollm2_dir: Path, tmp_path_factory):
    """The registry root with a trained-looking default, and a user cache."""
    root = tmp_path_factory.mktemp("shipped")
    folder = make_adapter(smollm2_dir, root / DEFAULT_MODEL)
    write_model_metadata(folder, smollm2_dir)
    home = tmp_path_factory.mktemp("home")
    link_base(home, smollm2_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ROOT_ENV, str(root))
        patch.setenv(HOME_ENV, str(home))
        yield SimpleNamespace(root=root, folder=folder, home=home, base=smollm2_dir)


@pytest.fixture(scope="module")
def default_nlp(shipped):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config=CONFIG)  # no model: the shipped default
    nlp.get_pipe("knowcoder").initialize()
    return nlp


def test_the_default_loads_merged_and_runs(default_nlp, shipped, assert_valid_results) -> None:
    import torch
    from safetensors.torch import load_file

    pipe = default_nlp.get_pipe("knowcoder")
    model = pipe.generator.model
    assert pipe.cfg["model"] is None and pipe.generator.name == DEFAULT_MODEL
    assert type(model).__name__ == "LlamaForCausalLM"  # merged: no peft wrapper left
    assert not any("lora" in name for name, _ in model.named_modules())
    assert model.dtype == resolve_dtype("auto", "cpu")
    base = load_file(str(shipped.base / "model.safetensors"))
    q_name = "model.layers.0.self_attn.q_proj.weight"
    merged_q = model.state_dict()[q_name].float()
    assert not torch.equal(merged_q, base[q_name].to(model.dtype).float())  # not a no-op
    docs = list(default_nlp.pipe(TEXTS))
    for doc in docs:
        assert_valid_results(doc)
        assert doc._.knowcoder_diagnostics["completions"]["ner"]


def test_prepare_model_merges_into_a_plain_directory(default_nlp, shipped, tmp_path) -> None:
    """Plain transformers loads the merged directory: same weights, same greedy output."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    result = CliRunner().invoke(app, ["prepare-model", str(out), "--source", DEFAULT_MODEL])
    assert result.exit_code == 0, result.output
    marker = smollm2.read_marker(out)
    assert marker["source"]["kind"] == "shipped" and marker["source"]["name"] == DEFAULT_MODEL
    assert not (out / "adapter_config.json").exists()
    plain = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    in_memory, _ = load_shipped(DEFAULT_MODEL, "cpu", "float32")
    expected = in_memory.state_dict()
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, expected[name]), name
    ids = tokenizer("sentence = \"Barack Obama was born in Honolulu.\"\nresults = [",
                    return_tensors="pt")
    greedy = dict(do_sample=False, max_new_tokens=12, pad_token_id=tokenizer.eos_token_id)
    with torch.inference_mode():
        assert torch.equal(plain.generate(**ids, **greedy), in_memory.generate(**ids, **greedy))
    # In the component's dtype too: the directory gives what the shipped load gives.
    pipe = default_nlp.get_pipe("knowcoder")
    from_dir = HFGenerator(out, GenerationSettings(max_new_tokens=16, constrained=False))
    from_shipped = HFGenerator.from_objects(pipe.generator.model, pipe.generator.tokenizer,
                                            from_dir.settings)
    prompts = [wrap_query(render_query("ner", schema_from_dict(SCHEMA), t)) for t in TEXTS]
    assert from_dir.generate(prompts) == from_shipped.generate(prompts)
    again = CliRunner().invoke(app, ["prepare-model", str(out), "--source", DEFAULT_MODEL])
    assert again.exit_code == 0 and "up to date" in again.output


def test_to_disk_refers_to_the_name_and_loads_elsewhere(default_nlp, shipped, tmp_path,
                                                        monkeypatch) -> None:
    default_nlp.to_disk(tmp_path / "pipe")
    for path in (tmp_path / "pipe").rglob("*"):
        if path.is_file() and path.stat().st_size < 1_000_000:
            text = path.read_text(encoding="utf8", errors="replace")
            assert str(shipped.home) not in text and ".cache" not in text, path
    saved = spacy.util.load_config(tmp_path / "pipe" / "config.cfg")
    assert saved["components"]["knowcoder"]["model"]["name"] is None  # no path saved
    elsewhere = tmp_path / "other-home"  # another machine: another user cache
    link_base(elsewhere, shipped.base)
    monkeypatch.setenv(HOME_ENV, str(elsewhere))
    loaded = spacy.load(tmp_path / "pipe")
    assert [d.to_json()["ents"] for d in loaded.pipe(TEXTS)] == [
        d.to_json()["ents"] for d in default_nlp.pipe(TEXTS)]


def test_a_truncated_adapter_is_e112(shipped, tmp_path, monkeypatch) -> None:
    folder = Path(shutil.copytree(shipped.folder, tmp_path / DEFAULT_MODEL))
    weights = folder / ADAPTER_WEIGHTS
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    pipe = spacy.blank("en").add_pipe("knowcoder", config=CONFIG)
    with pytest.raises(ValueError, match=r"\[E112\].*truncated"):
        pipe.initialize()


def test_an_adapter_for_another_base_is_e113(shipped, tmp_path, monkeypatch) -> None:
    folder = Path(shutil.copytree(shipped.folder, tmp_path / DEFAULT_MODEL))
    write_model_metadata(folder, shipped.base, fingerprint="0" * 64)
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    pipe = spacy.blank("en").add_pipe("knowcoder", config={
        **CONFIG, "model": model_block_config(DEFAULT_MODEL, max_new_tokens=16)})
    with pytest.raises(ValueError, match=r"\[E113\].*fingerprint 0000"):
        pipe.initialize()
