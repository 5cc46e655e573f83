"""Phase 1 with a real DeepSpeed ZeRO-1 engine in one process on a tiny random Llama."""
import json

import pytest
import torch

from training.datasets import SFTRecord, encode_sft, micro_batches, pack_pretraining, read_pretraining
from training.pretrain import pretrain

from .conftest import make_config


def test_zero1_pretraining_lowers_loss_and_writes_hf_dir(tmp_path, tiny_llama_dir, training_data):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg = make_config(tmp_path, tiny_llama_dir, training_data, pretrain={"max_steps": 10, "checkpoint_every": 5})
    summary = pretrain(cfg)
    assert summary["total_steps"] == 10 and summary["tokens_per_second"] > 0
    rows = [json.loads(line) for line in (tmp_path / "pretrain" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 11))
    losses = [r["loss"] for r in rows]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.1
    # step 1's loss is the untrained model's loss on the first batch: the engine trains the real model
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    blocks = pack_pretraining(read_pretraining(training_data["pretrain"]), tokenizer, 64)
    first = next(micro_batches(blocks, 2, seed=0))
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    with torch.no_grad():
        # (float32 here; the run computes in bf16 under autocast where the CPU has it: 0.2%)
        assert base(**first).loss.item() == pytest.approx(losses[0], rel=2e-3)
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "pretrain" / "model")
    with torch.no_grad():
        assert trained(**first).loss.item() < losses[0] - 0.1
    assert (tmp_path / "pretrain" / "model" / "tokenizer.json").is_file()
    assert (tmp_path / "pretrain" / "checkpoints" / "step_00000005" / "trainer_state.json").is_file()


def test_zero3_gathers_partitioned_weights(tmp_path, tiny_llama_dir, training_data):
    from transformers import AutoModelForCausalLM

    from training.config import DEEPSPEED_DIR

    cfg = make_config(tmp_path, tiny_llama_dir, training_data,
                      pretrain={"max_steps": 2, "deepspeed_config": str(DEEPSPEED_DIR / "zero3.json")})
    pretrain(cfg)
    saved = AutoModelForCausalLM.from_pretrained(tmp_path / "pretrain" / "model").state_dict()
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir).state_dict()
    assert saved.keys() == base.keys()
    assert all(saved[k].shape == base[k].shape for k in base)
    assert any(not torch.equal(saved[k], base[k]) for k in base)


def test_packing_adds_the_tokenizers_bos_and_eos(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    blocks = pack_pretraining(["class Person(Entity):\n\tpass"] * 6, tok, 16)
    stream = torch.cat([b["input_ids"] for b in blocks]).tolist()
    assert stream.count(tok.eos_token_id) >= 3
    assert all(len(b["input_ids"]) == 16 for b in blocks)


def test_sft_labels_cover_only_response_and_eos(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    record = SFTRecord("SYSTEM\nInput:\nsentence = \"x\"\nOutput:\n", 'results = [\n\tPerson("x")\n]')
    (example,) = encode_sft([record], tok, 64)
    labelled = example["input_ids"][example["labels"] != -100].tolist()
    assert labelled[-1] == tok.eos_token_id
    assert tok.decode(labelled[:-1]) == record.response
    n_prompt = len(tok(record.prompt, add_special_tokens=False)["input_ids"])
    assert (example["labels"][:n_prompt] == -100).all()


def test_bad_data_names_file_and_line(tmp_path, tiny_llama_dir, training_data):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "kind": "definition"}\n{"text": 3}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="E306") as err:
        read_pretraining(bad)
    assert f"{bad}, line 2" in str(err.value) and "'text'" in str(err.value)
    bad.write_text('{"text": "ok"}\n\n{"text": "cut\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: invalid JSON"):
        read_pretraining(bad)
    cfg = make_config(tmp_path, tiny_llama_dir, {**training_data, "pretrain": tmp_path / "missing.jsonl"})
    with pytest.raises(FileNotFoundError, match="E305"):
        pretrain(cfg)


def test_oom_sized_batch_is_refused_before_training(tmp_path, tiny_llama_dir, training_data):
    cfg = make_config(tmp_path, tiny_llama_dir, training_data,
                      pretrain={"micro_batch_size": 4096, "seq_length": 4096, "max_memory_gb": 8.0})
    with pytest.raises(MemoryError, match="E310") as err:
        pretrain(cfg)
    assert "micro_batch_size (now 4096)" in str(err.value)
    assert not (tmp_path / "pretrain" / "metrics.jsonl").exists()
