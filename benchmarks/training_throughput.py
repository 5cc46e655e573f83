"""Tokens per second of training and inference in float32 and bfloat16, against a matmul roofline.

Measures, in one process and one run (so every number shares the machine state):

* the roofline: a 2048x576 @ 576x1536 matmul in float32 and bfloat16 (GFLOP/s);
* SFT (LoRA r 32 on every linear layer, real SFT samples from ``--sft-data``),
  one row per throughput measure of the training issue, each added on top of the
  previous one: the old path (float32, dropout 0.1, logits for every token),
  bf16 autocast, logits only at label positions, LoRA dropout 0, length buckets;
* pretraining (full weights, packed blocks), float32 and bf16 autocast;
* prefill (8 prompts of 800 tokens) and greedy decode (batch 1, 8 and 32) with
  the KV cache, float32 and bfloat16 weights.

Each row gives tokens/s, the achieved GFLOP/s (2 x parameters per token for a
forward pass, 4x for a LoRA step, which skips weight gradients of the frozen
base, 6x for full training; attention and the share of positions projected
onto the vocabulary included) and that as a share of the
roofline of the row's dtype. Training rows use plain torch AdamW and the
training package's own loss and batching (``training.loop.label_loss``,
``training.datasets.micro_batches``), not DeepSpeed, so they isolate compute.

Run alone (two torch processes on 2 cores slow each other many times over):

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/training_throughput.py \
        --model models/smollm2-135m --sft-data training/long/data/sft.jsonl \
        --output benchmarks/results/training
"""
import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch

from training.datasets import (encode_sft, encode_sft_shared, micro_batches, pack_pretraining, read_sft,
                               sample_tokens, shared_micro_batches, special_ids)
from training.loop import label_loss, trim_padding

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def matmul_gflops(dtype: torch.dtype, repeats: int = 40) -> float:
    """GFLOP/s of a 2048x576 @ 576x1536 matmul (the shapes of a SmolLM2 MLP)."""
    a, b = torch.randn(2048, 576, dtype=dtype), torch.randn(576, 1536, dtype=dtype)
    for _ in range(5):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * 2048 * 576 * 1536 * repeats / (time.perf_counter() - start) / 1e9


def flops_per_token(model: Any, seq: int, passes: int, logits_share: float = 1.0) -> float:
    """Matmul FLOPs per token: ``passes`` x (2 x weights, the lm_head scaled by the share
    of positions projected, plus attention over ``seq`` tokens). Passes: 1 for a forward,
    2 for a LoRA step (forward + input gradients), 3 for full training."""
    cfg = model.config
    head = cfg.hidden_size * cfg.vocab_size
    body = sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n
               and "lm_head" not in n and "lora_" not in n)
    attention = 2 * cfg.num_hidden_layers * seq * cfg.hidden_size  # QK^T and AV, causal half of 4
    return passes * (2 * body + 2 * head * logits_share + 2 * attention)


def load(model_dir: str, dtype: torch.dtype, dropout: Optional[float] = None) -> Any:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    model.config.use_cache = dropout is None
    if dropout is None:
        return model.eval()
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=32, lora_alpha=64, lora_dropout=dropout,
                        target_modules=LORA_TARGETS)
    return get_peft_model(model, config).train()


def hf_loss(model: Any, batch: Dict[str, Any]) -> Any:
    """The old path: transformers' loss over logits of every position."""
    return model(**batch).loss


def train_rate(model: Any, batches: Any, steps: int, autocast: bool,
               loss_fn: Callable[[Any, Dict[str, Any]], Any]) -> Dict[str, float]:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    tokens, labelled, lengths, seconds = 0, 0, [], 0.0
    for step in range(steps + 1):
        batch = trim_padding(next(batches))
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = loss_fn(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step:  # the first step warms up kernels
            seconds += time.perf_counter() - start
            mask = batch.get("attention_mask")
            tokens += sample_tokens(batch) if mask is not None else batch["input_ids"].numel()
            labelled += int((batch["labels"] != -100).sum())
            prefix = batch["prefix_ids"].shape[1] if "prefix_ids" in batch else 0
            lengths.append(prefix + batch["input_ids"].shape[1])
    return {"tokens_per_second": tokens / seconds, "label_share": labelled / max(1, tokens),
            "mean_padded_length": sum(lengths) / len(lengths), "loss": float(loss)}


def sft_rows(args: argparse.Namespace, tokenizer: Any, roof: Dict[str, float]) -> List[Dict[str, Any]]:
    records = read_sft(args.sft_data)[: args.sft_samples]
    examples = encode_sft(records, tokenizer, args.seq_length)
    variants = [
        ("float32, dropout 0.1, all logits (before)", torch.float32, False, hf_loss, 0.1, False),
        ("+ bf16 autocast", torch.float32, True, hf_loss, 0.1, False),
        ("+ logits at label positions only", torch.float32, True, label_loss, 0.1, False),
        ("+ LoRA dropout 0", torch.float32, True, label_loss, 0.0, False),
        ("+ length buckets (the long profile)", torch.float32, True, label_loss, 0.0, True),
    ]
    rows = []
    for name, dtype, autocast, loss_fn, dropout, buckets in variants:
        model = load(args.model, dtype, dropout)
        stream = micro_batches(examples, args.micro_batch_size, seed=0, bucket_by_length=buckets)
        result = train_rate(model, stream, args.steps, autocast, loss_fn)
        share = 1.0 if loss_fn is hf_loss else result["label_share"]
        flops = flops_per_token(model, int(result["mean_padded_length"]), 2, share)  # forward + dX
        rows.append(_row("sft", name, result, flops, roof["bfloat16" if autocast else "float32"]))
        print(rows[-1])
        del model
    if args.grouped_sft_data:
        rows.append(shared_prefix_row(args, tokenizer, roof))
    return rows


def shared_prefix_row(args: argparse.Namespace, tokenizer: Any, roof: Dict[str, float]) -> Dict[str, Any]:
    """SFT on data whose prompts share candidate lists in groups ([data]
    schema_group_size), each prefix computed once per unit, on a bf16 base.

    Whole groups are kept (the first groups covering ``--sft-samples`` examples),
    so units are as in a real run. Tokens/s counts each example's full sequence,
    as the rows above do; GFLOP/s counts that same work, so a share above the
    roofline's means compute was saved, not done faster.
    """
    records = read_sft(args.grouped_sft_data)
    examples = encode_sft_shared(records, tokenizer, args.seq_length)
    groups: Dict[Any, List[Any]] = {}
    for example in examples:
        if len(groups) * args.micro_batch_size >= args.sft_samples and example.prefix not in groups:
            continue
        groups.setdefault(example.prefix, []).append(example)
    kept = [e for group in groups.values() for e in group]
    model = load(args.model, torch.bfloat16, 0.0)
    stream = shared_micro_batches(kept, 2 * args.micro_batch_size, 0, special_ids(tokenizer)[2])
    result = train_rate(model, stream, args.steps, True, label_loss)
    flops = flops_per_token(model, int(result["mean_padded_length"]), 2, result["label_share"])
    row = _row("sft", "+ shared prefixes (groups of 8), bf16 base", result, flops, roof["bfloat16"])
    print(row)
    return row


def pretrain_rows(args: argparse.Namespace, tokenizer: Any, roof: Dict[str, float]) -> List[Dict[str, Any]]:
    records = read_sft(args.sft_data)[: args.sft_samples]
    blocks = pack_pretraining([r.prompt + r.response for r in records], tokenizer, 512)
    rows = []
    for name, autocast in (("float32", False), ("bf16 autocast", True)):
        model = load(args.model, torch.float32, dropout=None).train()
        model.config.use_cache = False
        result = train_rate(model, micro_batches(blocks, args.micro_batch_size, seed=0), args.steps,
                            autocast, label_loss)
        rows.append(_row("pretrain", name, result, flops_per_token(model, 512, 3),
                         roof["bfloat16" if autocast else "float32"]))
        print(rows[-1])
        del model
    return rows


def inference_rows(args: argparse.Namespace, tokenizer: Any, roof: Dict[str, float]) -> List[Dict[str, Any]]:
    rows = []
    prompt = read_sft(args.sft_data)[0].prompt
    ids = tokenizer(prompt * 4, return_tensors="pt")["input_ids"][:, :800]
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = load(args.model, dtype)
        with torch.inference_mode():
            batch = ids.repeat(8, 1)
            model(batch)
            start = time.perf_counter()
            model(batch)
            seconds = time.perf_counter() - start
            result = {"tokens_per_second": batch.numel() / seconds}
            rows.append(_row("prefill", f"{name}, 8 x 800 tokens", result,
                             flops_per_token(model, 400, 1), roof[name]))
            print(rows[-1])
            for size in (1, 8, 32):
                result = {"tokens_per_second": decode_rate(model, ids[:, :200].repeat(size, 1), 32)}
                rows.append(_row("decode", f"{name}, batch {size}", result,
                                 flops_per_token(model, 216, 1), roof[name]))
                print(rows[-1])
        del model
    return rows


def decode_rate(model: Any, prompt: torch.Tensor, new_tokens: int) -> float:
    """Greedy decode tokens/s with the KV cache (prefill not counted)."""
    out = model(prompt, use_cache=True)
    cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    start = time.perf_counter()
    for _ in range(new_tokens):
        out = model(token, past_key_values=cache, use_cache=True)
        cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    return prompt.shape[0] * new_tokens / (time.perf_counter() - start)


def _row(phase: str, name: str, result: Dict[str, float], flops: float, roofline: float) -> Dict[str, Any]:
    gflops = result["tokens_per_second"] * flops / 1e9
    return {"phase": phase, "setting": name, **{k: round(v, 3) for k, v in result.items()},
            "gflops": round(gflops, 1), "roofline_share": round(gflops / roofline, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/smollm2-135m")
    parser.add_argument("--sft-data", default="training/long/data/sft.jsonl")
    parser.add_argument("--grouped-sft-data", default="",
                        help="SFT JSONL built with [data] schema_group_size > 1 (the long profile's)")
    parser.add_argument("--sft-samples", type=int, default=400)
    parser.add_argument("--seq-length", type=int, default=1024)
    parser.add_argument("--micro-batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--parts", default="sft,pretrain,inference")
    parser.add_argument("--output", default="benchmarks/results/training")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    roof = {"float32": matmul_gflops(torch.float32), "bfloat16": matmul_gflops(torch.bfloat16)}
    print("roofline GFLOP/s", roof)
    rows: List[Dict[str, Any]] = []
    parts = args.parts.split(",")
    for part, fn in (("sft", sft_rows), ("pretrain", pretrain_rows), ("inference", inference_rows)):
        if part in parts:
            rows.extend(fn(args, tokenizer, roof))
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "training_throughput.json").write_text(json.dumps(
        {"roofline_gflops": roof, "threads": torch.get_num_threads(), "rows": rows,
         "args": vars(args)}, indent=2))
    lines = ["| phase | setting | tokens/s | GFLOP/s | share of roofline |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['phase']} | {r['setting']} | {r['tokens_per_second']:.0f} | {r['gflops']:.0f} | "
              f"{r['roofline_share']:.0%} |" for r in rows]
    lines.append(f"\nRoofline (2048x576 @ 576x1536 matmul): float32 {roof['float32']:.0f} GFLOP/s, "
                 f"bfloat16 {roof['bfloat16']:.0f} GFLOP/s, {torch.get_num_threads()} threads.")
    (out / "training_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
