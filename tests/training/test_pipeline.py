"""Phase 1 as a 2-stage DeepSpeed pipeline in two processes (torchrun, gloo on CPU)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from training.datasets import micro_batches, pack_pretraining, read_pretraining
from training.pipeline import check_pipeline

from .conftest import clean_env


def write_cfg(path, model, data, out, **values):
    lines = ["[pretrain]", f'model = "{model}"', f'data = "{data}"', f'output_dir = "{out}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_stage_pipeline_trains_and_gathers_an_hf_model(tmp_path, tiny_llama_dir, training_data):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "pipe"
    cfg = write_cfg(tmp_path / "pipe.cfg", tiny_llama_dir, training_data["pretrain"], out,
                    pipeline_stages=2, seq_length=64, micro_batch_size=2, gradient_accumulation=2,
                    max_steps=8, lr=3e-3, warmup_ratio=0.0, checkpoint_every=4, progress=False,
                    deepspeed_config=os.path.join("training", "configs", "deepspeed", "zero1.json"))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                "--master_port", str(_free_port())]
    env = clean_env()
    proc = subprocess.run(torchrun + ["-m", "training", "pretrain", str(cfg)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pipeline_stages"] == 2 and summary["world_size"] == 2 and summary["total_steps"] == 8
    losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 8 and sum(losses[-2:]) / 2 < sum(losses[:2]) / 2 - 0.1
    # the pipeline's first loss is the HF model's loss on the same two micro batches
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    blocks = pack_pretraining(read_pretraining(training_data["pretrain"]), tokenizer, 64)
    stream = micro_batches(blocks, 2, seed=0)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    with torch.no_grad():
        expected = sum(base(**next(stream)).loss.item() for _ in range(2)) / 2
    assert losses[0] == pytest.approx(expected, abs=1e-3)
    merged = AutoModelForCausalLM.from_pretrained(out / "model")
    assert merged.config.tie_word_embeddings
    first = next(micro_batches(blocks, 2, seed=0))
    with torch.no_grad():
        assert merged(**first).loss.item() < base(**first).loss.item() - 0.1
    assert any((out / "checkpoints").glob("step_*"))


@pytest.mark.parametrize("stages,world,layers,zero", [(2, 3, 4, 0), (4, 4, 2, 0), (2, 2, 4, 2)])
def test_impossible_pipeline_splits_are_explained(stages, world, layers, zero):
    with pytest.raises(ValueError, match="E312"):
        check_pipeline(stages, world, layers, zero)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
