"""Shipping an SFT adapter as a package model: bf16 weights, metadata the loader checks."""
import json
import shutil

import pytest
import torch

from training.ship import ship

from .conftest import make_config


@pytest.fixture()
def prepared_tiny_base(tmp_path, tiny_llama_dir, smollm2_dir):
    """The tiny Llama with the marker 'knowcoder prepare-model' writes (copied from SmolLM2's)."""
    base = tmp_path / "base"
    shutil.copytree(tiny_llama_dir, base)
    shutil.copy(smollm2_dir / "knowcoder_source.json", base / "knowcoder_source.json")
    return base


def test_ship_writes_a_bf16_adapter_that_loads_and_matches(lora_run, prepared_tiny_base, tmp_path,
                                                          training_data):
    from spacy_knowcoder.generation.adapter import base_fingerprint, load_merged
    from spacy_knowcoder.models import get_shipped_model

    trained = lora_run["tmp"]
    cfg = make_config(trained, prepared_tiny_base, training_data)
    root = tmp_path / "models"
    result = ship(cfg, "tiny-knowcoder", models_root=root)
    folder = root / "tiny-knowcoder"
    assert result["sft"]["total_steps"] == 10
    fp32_size = (trained / "sft" / "adapter" / "adapter_model.safetensors").stat().st_size
    assert (folder / "adapter_model.safetensors").stat().st_size < 0.6 * fp32_size
    model = get_shipped_model("tiny-knowcoder", root)
    assert model.has_adapter and model.dtype == "bfloat16"
    assert model.base_fingerprint == base_fingerprint(prepared_tiny_base)
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == \
        "smollm2-135m"
    # the bf16 copy gives the fp32 adapter's logits up to bf16 rounding of the LoRA matrices
    ids = torch.tensor([[1, 5, 9, 42, 7]])
    shipped, _ = load_merged(prepared_tiny_base, folder, dtype="float32", sha256=model.adapter_sha256)
    original, _ = load_merged(prepared_tiny_base, trained / "sft" / "adapter", dtype="float32")
    with torch.no_grad():
        a, b = shipped(ids).logits, original(ids).logits
    assert torch.allclose(a, b, atol=2e-2), (a - b).abs().max()


def test_ship_refuses_a_base_that_prepare_model_did_not_make(lora_run, tiny_llama_dir, tmp_path,
                                                            training_data):
    cfg = make_config(lora_run["tmp"], tiny_llama_dir, training_data)
    with pytest.raises(ValueError, match="E313"):
        ship(cfg, "tiny-knowcoder", models_root=tmp_path / "models")


def _scores_dir(folder, f1_by_set, n_docs=100):
    for name, f1 in f1_by_set.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "scores.json").write_text(json.dumps(
            {"n_docs": n_docs, "metrics": {"ner_strict": {"p": f1, "r": f1, "f": f1}}}))
    return str(folder)


def test_ship_replaces_a_shipped_adapter_only_with_a_better_one(lora_run, prepared_tiny_base,
                                                                 tmp_path, training_data):
    cfg = make_config(lora_run["tmp"], prepared_tiny_base, training_data)
    root = tmp_path / "models"
    first = ship(cfg, "tiny", models_root=root,
                 scores_dir=_scores_dir(tmp_path / "a", {"re3d": 0.20, "gum": 0.10}))
    assert first["gate"]["shipped"] is None  # nothing shipped yet
    worse = _scores_dir(tmp_path / "b", {"re3d": 0.18, "gum": 0.11})
    with pytest.raises(ValueError, match=r"E317.*lower.*new 14\.5, shipped 15\.0"):
        ship(cfg, "tiny", models_root=root, scores_dir=worse)
    with pytest.raises(ValueError, match=r"E317.*no held-out NER set"):
        ship(cfg, "tiny", models_root=root)  # nothing to compare with
    other_docs = _scores_dir(tmp_path / "c", {"re3d": 0.5}, n_docs=50)
    with pytest.raises(ValueError, match=r"E317.*no held-out NER set"):
        ship(cfg, "tiny", models_root=root, scores_dir=other_docs)
    forced = ship(cfg, "tiny", models_root=root, scores_dir=worse, force=True)
    assert forced["gate"] == {"sets": ["re3d", "gum"], "new": 14.5, "shipped": 15.0,
                              "forced": True}
    # the shipped side measured again (--baseline) decides over the recorded numbers
    baseline = _scores_dir(tmp_path / "d", {"re3d": 0.10, "gum": 0.10})
    better = ship(cfg, "tiny", models_root=root, scores_dir=worse, baseline_dir=baseline)
    assert better["gate"] == {"sets": ["re3d", "gum"], "new": 14.5, "shipped": 10.0,
                              "forced": False}
