"""Shared class-definition prefixes in SFT: same loss and gradients, fewer tokens computed."""
import json

import pytest
import torch

from training.datasets import (IGNORE_INDEX, SFTRecord, SharedExample, collate_shared,
                               encode_sft_shared, sample_tokens, shared_micro_batches,
                               shared_units)
from training.loop import label_loss
from training.sft import frozen_dtype, sft

from .conftest import make_config, sft_rows


@pytest.fixture(scope="module")
def tokenizer(tiny_llama_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_llama_dir)


@pytest.fixture(scope="module")
def examples(tokenizer):
    records = [SFTRecord(r["prompt"], r["response"]) for r in sft_rows(6)]
    return encode_sft_shared(records, tokenizer, 512)


def _lora_model(tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    from training.config import SFTSettings
    from training.sft import add_lora

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)
    model = add_lora(base, SFTSettings(lora_r=4, lora_dropout=0.0))
    for name, param in model.named_parameters():  # non-zero B, so every LoRA weight gets a gradient
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.02)
    return model


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_the_toy_prompts_share_one_prefix(examples):
    assert len({e.prefix for e in examples}) == 1
    assert all(e.labels[0] == IGNORE_INDEX for e in examples)  # the suffix starts with the sentence


def test_shared_loss_and_gradients_equal_the_full_sequences(tiny_llama_dir, examples, tokenizer):
    model = _lora_model(tiny_llama_dir)
    pad = tokenizer.eos_token_id
    shared = collate_shared(examples, pad)
    assert "prefix_ids" in shared and shared["input_ids"].shape[0] == len(examples)
    model.zero_grad()
    loss = label_loss(model, shared)
    loss.backward()
    shared_grads = _grads(model)

    model.zero_grad()
    n_labels = [sum(1 for t in e.labels if t != IGNORE_INDEX) for e in examples]
    total = 0.0
    for example, n in zip(examples, n_labels):
        alone = collate_shared([example], pad)  # one example: the plain full sequence
        assert "prefix_ids" not in alone
        part = label_loss(model, alone) * n / sum(n_labels)
        part.backward()
        total += float(part)
    full_grads = _grads(model)

    assert abs(float(loss) - total) < 1e-5
    assert shared_grads.keys() == full_grads.keys() and any("lora_A" in k for k in shared_grads)
    for name in shared_grads:
        assert torch.allclose(shared_grads[name], full_grads[name], atol=1e-6, rtol=1e-4), name


def test_tokenization_is_the_inference_paths(hf_generator, smollm2_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    row = sft_rows(1)[0]
    example = encode_sft_shared([SFTRecord(row["prompt"], row["response"])], tokenizer, 1024)[0]
    prefix, suffix = hf_generator.encode_split(row["prompt"])
    n_prompt = sum(1 for t in example.labels if t == IGNORE_INDEX)
    assert list(example.prefix) == prefix
    assert example.suffix[:n_prompt] == suffix
    response = tokenizer(row["response"], add_special_tokens=False)["input_ids"]
    assert example.suffix[n_prompt:] == response + [tokenizer.eos_token_id]


def test_a_too_long_example_loses_the_end_of_its_response(tokenizer, examples):
    row = sft_rows(1)[0]
    length = examples[0].length
    with pytest.warns(UserWarning, match="W300"):
        cut = encode_sft_shared([SFTRecord(row["prompt"], row["response"])], tokenizer, length - 3)
    assert cut[0].length == length - 3 and cut[0].labels[-1] != IGNORE_INDEX


def _toy(prefixes):
    return [SharedExample(tuple(p), [i, i], [IGNORE_INDEX, i]) for i, p in enumerate(prefixes)]


def test_units_cover_each_example_once_per_epoch_and_group_by_prefix():
    examples = _toy([[1]] * 5 + [[2]] * 3 + [[3], [4], [5]])
    units = shared_units(examples, 2, seed=0, epoch=0)
    assert sorted(i for u in units for i in u) == list(range(len(examples)))
    for unit in units:
        prefixes = {examples[i].prefix for i in unit}
        if any(examples[i].prefix[0] >= 3 for i in unit):  # lone prefixes: plain rows, half as many
            assert len(unit) == 1
        else:
            assert len(unit) <= 2 and len(prefixes) == 1
    assert shared_units(examples, 2, seed=0, epoch=1) != units  # reshuffled every epoch


def test_a_resumed_stream_sees_the_same_units():
    examples = _toy([[1]] * 6 + [[2]] * 4 + [[7], [8]])
    first = [b["input_ids"][:, 0].tolist() for _, b in zip(range(14), shared_micro_batches(examples, 2, 0, 0))]
    resumed = shared_micro_batches(examples, 2, 0, 0, start=5)
    assert [next(resumed)["input_ids"][:, 0].tolist() for _ in range(9)] == first[5:]


def test_sample_tokens_count_the_prefix_once_per_row():
    examples = _toy([[1, 1, 1]] * 2)
    batch = collate_shared(examples, 0)
    assert sample_tokens(batch) == 2 * (3 + 2)


def test_frozen_dtype_follows_autocast():
    from training.config import SFTSettings

    assert frozen_dtype(SFTSettings(base_dtype="float32")) == "float32"
    assert frozen_dtype(SFTSettings(base_dtype="auto", autocast="bfloat16")) == "bfloat16"
    assert frozen_dtype(SFTSettings(method="full")) is None


def test_full_fine_tuning_refuses_a_bf16_base(tmp_path, tiny_llama_dir, training_data):
    with pytest.raises(ValueError, match="base_dtype"):
        make_config(tmp_path, tiny_llama_dir, training_data, sft={"method": "full", "base_dtype": "bfloat16"})


def test_sft_with_shared_prefixes_on_a_bf16_base_learns(tmp_path, tiny_llama_dir, training_data):
    cfg = make_config(tmp_path, tiny_llama_dir, training_data,
                      sft={"max_steps": 8, "micro_batch_size": 4, "lr": 1e-2, "share_prefix": True,
                           "base_dtype": "bfloat16", "autocast": "bfloat16", "attention": "eager",
                           "lora_dropout": 0.0})
    summary = sft(cfg)
    assert summary["fingerprint"]["share_prefix"] is True
    rows = [json.loads(r) for r in (tmp_path / "sft" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and rows[-1]["loss"] < rows[0]["loss"]
    weights = (tmp_path / "sft" / "adapter" / "adapter_model.safetensors")
    from safetensors.torch import load_file

    assert all(t.dtype == torch.float32 for t in load_file(weights).values())  # adapters stay fp32
