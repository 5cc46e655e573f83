"""The training step: loss at label positions only, bf16 autocast, length buckets."""
import json

import pytest
import torch

from training.datasets import IGNORE_INDEX, micro_batches
from training.loop import autocast_dtype, label_loss
from training.sft import sft

from .conftest import make_config

#: bf16 autocast keeps 8 mantissa bits in the matmuls; over a short run the
#: per-step losses stay within 2% of float32's on average (measured: well below).
LOSS_CURVE_TOLERANCE = 0.02


def _batch(tokenizer_size: int, prompt: int = 12, response: int = 5):
    torch.manual_seed(1)
    ids = torch.randint(5, tokenizer_size, (3, prompt + response + 2))
    labels = ids.clone()
    labels[:, :prompt] = IGNORE_INDEX
    labels[:, -2:] = IGNORE_INDEX  # right padding
    mask = torch.ones_like(ids)
    mask[:, -2:] = 0
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


@pytest.fixture(scope="module")
def tiny_model(tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)


def test_label_loss_equals_the_loss_over_all_logits(tiny_model):
    batch = _batch(tiny_model.config.vocab_size)
    expected = tiny_model(**batch).loss
    assert torch.allclose(label_loss(tiny_model, batch), expected, atol=1e-5)


def test_label_loss_works_through_peft_and_sends_gradients_to_lora(tiny_model):
    from training.config import SFTSettings
    from training.sft import add_lora

    model = add_lora(tiny_model, SFTSettings(lora_r=4, lora_target_modules=["q_proj", "v_proj"]))
    batch = _batch(model.config.vocab_size)
    loss = label_loss(model, batch)
    assert torch.allclose(loss, model(**batch).loss, atol=1e-5)
    loss.backward()
    grads = [p.grad for n, p in model.named_parameters() if "lora_A" in n]
    assert grads and all(g is not None for g in grads)
    model.unload()


def test_bf16_autocast_loss_is_close_to_float32(tiny_model):
    batch = _batch(tiny_model.config.vocab_size)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = label_loss(tiny_model, batch)
    high = label_loss(tiny_model, batch)
    assert low.dtype == torch.float32
    assert abs(float(low) - float(high)) / float(high) < 0.02


def test_autocast_setting(monkeypatch):
    assert autocast_dtype("off", "cpu") is None
    assert autocast_dtype("bfloat16", "cpu") is torch.bfloat16
    monkeypatch.setenv("KNOWCODER_CPU_BF16", "1")
    assert autocast_dtype("auto", "cpu") is torch.bfloat16


def test_auto_falls_back_to_float32_with_a_notice(monkeypatch):
    from spacy_knowcoder import precision

    monkeypatch.setenv("KNOWCODER_CPU_BF16", "0")
    monkeypatch.setattr(precision, "_warned_float32", False)
    with pytest.warns(UserWarning, match="W101"):
        assert autocast_dtype("auto", "cpu") is None


def test_an_unknown_autocast_setting_is_rejected(tmp_path, tiny_llama_dir, training_data):
    with pytest.raises(ValueError, match=r"E302.*autocast"):
        make_config(tmp_path, tiny_llama_dir, training_data, sft={"autocast": "fp8"})


def test_bf16_and_float32_loss_curves_agree(tmp_path, tiny_llama_dir, training_data):
    curves = {}
    for setting in ("off", "bfloat16"):
        cfg = make_config(tmp_path / setting, tiny_llama_dir, training_data,
                          sft={"max_steps": 8, "micro_batch_size": 4, "lr": 1e-2, "autocast": setting,
                               "lora_dropout": 0.0})
        sft(cfg)
        rows = (tmp_path / setting / "sft" / "metrics.jsonl").read_text().splitlines()
        curves[setting] = [json.loads(r)["loss"] for r in rows]
    gaps = [abs(a - b) / a for a, b in zip(curves["off"], curves["bfloat16"])]
    assert len(gaps) == 8
    assert sum(gaps) / len(gaps) < LOSS_CURVE_TOLERANCE, (curves, gaps)
    assert curves["bfloat16"][-1] < curves["bfloat16"][0]


def _examples(lengths):
    rows = []
    for i, n in enumerate(lengths):
        mask = torch.tensor([1] * n + [0] * (10 - n))
        rows.append({"input_ids": torch.full((10,), i), "labels": torch.full((10,), i),
                     "attention_mask": mask})
    return rows


def test_length_buckets_group_similar_lengths_and_resume_exactly():
    lengths = [1, 9, 2, 8, 3, 7, 4, 6, 5, 10, 1, 9, 2, 8, 3, 7]
    examples = _examples(lengths)
    stream = micro_batches(examples, 2, seed=3, bucket_by_length=True)
    first = [next(stream)["input_ids"][:, 0].tolist() for _ in range(20)]
    seen = sorted(i for batch in first[:8] for i in batch)
    assert seen == list(range(16))  # an epoch covers every example once
    spread = [abs(lengths[a] - lengths[b]) for a, b in first[:8]]
    assert max(spread) <= 2
    resumed = micro_batches(examples, 2, seed=3, start=5, bucket_by_length=True)
    assert [next(resumed)["input_ids"][:, 0].tolist() for _ in range(15)] == first[5:]
