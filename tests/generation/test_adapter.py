"""LoRA adapter checks on a tiny random Llama (fast; the real base is in
tests/test_component_shipped.py): fingerprint, damaged files, wrong base, merge."""
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("peft")

import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from spacy_knowcoder.generation.adapter import (  # noqa: E402
    base_fingerprint,
    check_adapter,
    check_fits,
    load_merged,
    read_safetensors_header,
)
from spacy_knowcoder.models import ADAPTER_CONFIG, ADAPTER_WEIGHTS  # noqa: E402


def tiny_llama(path: Path, hidden: int = 16, layers: int = 1, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=49152, hidden_size=hidden, intermediate_size=32,
                         num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=1, max_position_embeddings=128)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def lora_on(base: Path, out: Path) -> Path:
    model = get_peft_model(LlamaForCausalLM.from_pretrained(base),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.fill_(0.05)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, smollm2_dir) -> Path:
    """A tiny random Llama that borrows SmolLM2's tokenizer (load_merged loads both)."""
    from transformers import AutoTokenizer

    path = tiny_llama(tmp_path_factory.mktemp("tiny") / "base")
    AutoTokenizer.from_pretrained(smollm2_dir).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def adapter(tiny, tmp_path_factory) -> Path:
    return lora_on(tiny, tmp_path_factory.mktemp("lora") / "adapter")


def copy_of(adapter: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(adapter, tmp_path / "adapter"))


def test_fingerprint_is_stable_and_ignores_bookkeeping(tiny, tmp_path) -> None:
    other = Path(shutil.copytree(tiny, tmp_path / "copy"))
    config = json.loads((other / "config.json").read_text())
    config.update(transformers_version="0.0.1", dtype="bfloat16", _name_or_path="elsewhere")
    (other / "config.json").write_text(json.dumps(config))
    assert base_fingerprint(other) == base_fingerprint(tiny)
    # Same shapes, other weights: same fingerprint (it is about what fits).
    assert base_fingerprint(tiny_llama(tmp_path / "reseeded", seed=1)) == base_fingerprint(tiny)
    assert base_fingerprint(tiny_llama(tmp_path / "wider", hidden=32)) != base_fingerprint(tiny)
    assert base_fingerprint(tiny_llama(tmp_path / "deeper", layers=2)) != base_fingerprint(tiny)


def test_fingerprint_of_an_unreadable_base_is_e103(tmp_path) -> None:
    with pytest.raises(OSError, match=r"\[E103\].*cannot read its config"):
        base_fingerprint(tmp_path)


def test_a_whole_adapter_passes(adapter) -> None:
    tensors = check_adapter(adapter)
    assert tensors and all(".lora_" in name for name in tensors)
    header, size = read_safetensors_header(adapter / ADAPTER_WEIGHTS)
    assert size == (adapter / ADAPTER_WEIGHTS).stat().st_size


@pytest.mark.parametrize("damage,reason", [
    (lambda d: (d / ADAPTER_WEIGHTS).unlink(), "cannot be read"),
    (lambda d: (d / ADAPTER_CONFIG).unlink(), "cannot be read"),
    (lambda d: (d / ADAPTER_CONFIG).write_text("{not json"), "cannot be read"),
    (lambda d: (d / ADAPTER_CONFIG).write_text("[]"), "not a JSON object"),
    (lambda d: (d / ADAPTER_CONFIG).write_text('{"peft_type": "LORA", "r": 0}'),
     "r is 0"),
    (lambda d: (d / ADAPTER_CONFIG).write_text('{"peft_type": "IA3", "r": 2, '
                                                '"target_modules": ["q_proj"]}'),
     "not 'LORA'"),
    (lambda d: _truncate(d / ADAPTER_WEIGHTS, 100), "truncated"),
    (lambda d: _truncate(d / ADAPTER_WEIGHTS, 5), "cannot be read"),
    (lambda d: (d / ADAPTER_WEIGHTS).write_bytes(b"\xff" * 64), "cannot be read"),
])
def test_damaged_adapter_is_e112(adapter, tmp_path, damage, reason) -> None:
    folder = copy_of(adapter, tmp_path)
    damage(folder)
    with pytest.raises(ValueError, match=r"\[E112\].*" + reason):
        check_adapter(folder)


def _truncate(path: Path, drop: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:max(0, len(data) - drop)] if drop > 8 else data[:drop])


def test_recorded_sha256_catches_other_damage(adapter, tmp_path) -> None:
    folder = copy_of(adapter, tmp_path)
    weights = folder / ADAPTER_WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte inside a tensor: the header still agrees
    weights.write_bytes(bytes(data))
    check_adapter(folder)
    with pytest.raises(ValueError, match=r"\[E112\].*sha256"):
        check_adapter(folder, sha256="0" * 64)


def test_an_adapter_for_a_wider_base_is_e113(adapter, tmp_path) -> None:
    wider = LlamaForCausalLM.from_pretrained(tiny_llama(tmp_path / "wider", hidden=32))
    with pytest.raises(ValueError, match=r"\[E113\].*does not fit"):
        check_fits(check_adapter(adapter), wider, adapter, "wider")


def test_an_adapter_for_a_deeper_base_is_e113(tmp_path) -> None:
    deep = tiny_llama(tmp_path / "deep", layers=2)
    deep_adapter = lora_on(deep, tmp_path / "deep-adapter")
    shallow = LlamaForCausalLM.from_pretrained(tiny_llama(tmp_path / "shallow"))
    with pytest.raises(ValueError, match=r"\[E113\].*layers\.1\.self_attn"):
        check_fits(check_adapter(deep_adapter), shallow, deep_adapter, "shallow")


def test_load_merged_equals_peft_in_float32_then_cast(tiny, adapter) -> None:
    from peft import PeftModel

    reference = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tiny),
                                          str(adapter)).merge_and_unload()
    base = LlamaForCausalLM.from_pretrained(tiny)
    merged, tokenizer = load_merged(tiny, adapter, dtype="bfloat16")
    assert tokenizer is not None
    assert merged.dtype == torch.bfloat16 and not merged.training
    for name, param in merged.state_dict().items():
        assert torch.equal(param, reference.state_dict()[name].to(torch.bfloat16)), name
    q_name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(reference.state_dict()[q_name], base.state_dict()[q_name])
    # Buffers stay as from_pretrained(dtype=bfloat16) leaves them: RoPE's inv_freq
    # rounded to bf16 would shift every position's angle.
    loaded = LlamaForCausalLM.from_pretrained(tiny, dtype=torch.bfloat16)
    expected = {name: (b.dtype, b.float()) for name, b in loaded.named_buffers()}
    for name, buffer in merged.named_buffers():
        assert buffer.dtype == expected[name][0] and torch.equal(buffer.float(),
                                                                 expected[name][1]), name

