"""Merging the LoRA adapter gives a plain HF model that loads and generates."""
import pytest
import torch

from training.merge import merge


def test_merged_model_matches_adapter_and_generates(lora_run, tiny_llama_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from spacy_knowcoder.generation import GenerationSettings, HFGenerator

    cfg = lora_run["cfg"]
    result = merge(cfg.merge)
    merged = AutoModelForCausalLM.from_pretrained(result["output_dir"])
    assert not any("lora" in n for n, _ in merged.named_parameters())
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llama_dir),
                                        cfg.merge.adapter).eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    ids = torch.tensor([[1, 42, 7, 99, 5]])
    with torch.no_grad():
        want, got, old = adapted(ids).logits, merged(ids).logits, base(ids).logits
    assert torch.allclose(want, got, atol=1e-4)
    assert not torch.allclose(old, got, atol=1e-4)
    generator = HFGenerator(result["output_dir"], GenerationSettings(max_new_tokens=6))
    (text,) = generator.generate(['sentence = "Ada Lovelace lives in Paris."\nOutput:\n'])
    assert isinstance(text, str)


def test_merge_without_adapter_is_explained(tmp_path, tiny_llama_dir):
    from training.config import MergeSettings

    with pytest.raises(ValueError, match="E314"):
        merge(MergeSettings(base_model=str(tiny_llama_dir), adapter=str(tmp_path), output_dir=str(tmp_path / "m")))
