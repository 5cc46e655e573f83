"""The optimizer-step loop shared by pretraining, pipeline pretraining and SFT.

It resumes from the newest checkpoint, runs the remaining steps, logs metrics,
saves checkpoints every ``checkpoint_every`` steps and writes ``summary.json``
(tokens per second included) when done. What one step does is a callable, so
the same loop drives a ZeRO engine (forward/backward/step per micro batch) and a
pipeline engine (``train_batch``).

Example:
    >>> result = run_steps(engine, step_fn, settings, "pretrain", out, total=100,  # doctest: +SKIP
    ...                    world=dist, fingerprint={"seq_length": 256})
"""
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from spacy_knowcoder.fileio import write_json

from . import checkpoints
from .config import TrainSettings, as_dict
from .datasets import IGNORE_INDEX, sample_tokens
from .metrics import MetricsLog
from .runtime import barrier, oom_guard, seed_everything

SUMMARY_FILE = "summary.json"
StepFn = Callable[[int], Tuple[float, int]]


def resume_step(engine: Any, output_dir: Path, fingerprint: Dict[str, Any]) -> int:
    """Load the newest checkpoint into the engine; the step it ends at (0 if none)."""
    latest = checkpoints.latest_checkpoint(output_dir)
    if latest is None:
        return 0
    state = checkpoints.read_state(latest)
    checkpoints.check_compatible(latest, state, fingerprint)
    checkpoints.load_checkpoint(engine, latest)
    return int(state["step"])


def run_steps(engine: Any, step_fn: StepFn, settings: TrainSettings, section: str, output_dir: Path,
              total: int, world: Dict[str, int], fingerprint: Dict[str, Any],
              lr_of: Optional[Callable[[], float]] = None) -> Dict[str, Any]:
    """Train from the last checkpoint to ``total`` optimizer steps.

    step_fn (Callable[[int], Tuple[float, int]]): Runs optimizer step ``n``
        (1-based) and returns its mean loss and the tokens it processed.
    world (Dict[str, int]): rank / world_size from ``init_distributed``.
    fingerprint (Dict): Settings a resumed run must share with the checkpoint.
    RETURNS (Dict): The summary, also written to ``output_dir/summary.json``.
    """
    rank = world["rank"]
    start = resume_step(engine, output_dir, fingerprint)
    seed_everything(settings.seed * 100_003 + start + rank)
    log = MetricsLog(output_dir / "metrics.jsonl", total=total, start_step=start,
                     progress=settings.progress, enabled=rank == 0, desc=section)
    lr_of = lr_of or (lambda: engine.get_lr()[0])
    step_ref = {"step": start}
    losses = []
    with oom_guard(settings, section, step_ref):
        for step in range(start + 1, total + 1):
            step_ref["step"] = step
            loss, tokens = step_fn(step)
            losses.append(loss)
            log.add_tokens(tokens)
            if step % settings.log_every == 0 or step == total:
                log.log(step, loss=loss, lr=lr_of())
            if settings.checkpoint_every and step % settings.checkpoint_every == 0 and step < total:
                checkpoints.save_checkpoint(engine, output_dir, step, {"fingerprint": fingerprint},
                                            settings.keep_checkpoints, rank, barrier)
    log.close()
    speed = log.summary()
    summary = {"section": section, "total_steps": total, "resumed_from": start,
               "steps_run": total - start, "world_size": world["world_size"],
               "tokens_this_process": speed["tokens"], "seconds": speed["seconds"],
               "tokens_per_second": speed["tokens_per_second"] * _token_share(world, fingerprint),
               "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
               "settings": as_dict(settings), "fingerprint": fingerprint,
               "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    return summary


def _token_share(world: Dict[str, int], fingerprint: Dict[str, Any]) -> float:
    """Scale one process's token rate to the whole run (data-parallel replicas)."""
    stages = max(1, int(fingerprint.get("pipeline_stages", 0) or 1))
    return world["world_size"] / stages


def write_summary(output_dir: Path, summary: Dict[str, Any], rank: int) -> None:
    """Write summary.json on rank 0."""
    if rank == 0:
        write_json(output_dir / SUMMARY_FILE, summary)


def trim_padding(batch: Dict[str, Any]) -> Dict[str, Any]:
    """Cut the columns that are padding in every row (right padding), saving compute.

    Example:
        >>> import torch
        >>> b = {"input_ids": torch.tensor([[5, 6, 0], [7, 0, 0]]), "attention_mask": torch.tensor([[1, 1, 0], [1, 0, 0]])}
        >>> trim_padding(b)["input_ids"].tolist()
        [[5, 6], [7, 0]]
    """
    mask = batch.get("attention_mask")
    if mask is None:
        return batch
    length = int(mask.sum(dim=1).max())
    return {k: v[:, :length] if v.shape == mask.shape else v for k, v in batch.items()}


def autocast_dtype(setting: str, device: Any) -> Optional[Any]:
    """The torch dtype to autocast the forward pass to, or None for float32.

    "auto" asks :func:`spacy_knowcoder.precision.resolve_dtype` (bfloat16 where
    the hardware computes it natively; float32 with a one-line notice elsewhere).

    Example:
        >>> autocast_dtype("off", "cpu") is None
        True
        >>> autocast_dtype("bfloat16", "cpu")
        torch.bfloat16
    """
    import torch

    if setting == "off":
        return None
    if setting == "auto":
        from spacy_knowcoder.precision import resolve_dtype

        chosen = resolve_dtype("auto", str(torch.device(device).type))
        return None if chosen == torch.float32 else chosen
    return getattr(torch, setting)


def label_loss(model: Any, batch: Dict[str, Any]) -> Any:
    """Mean next-token cross-entropy over the positions that have a label.

    Only the hidden states of those positions are projected onto the vocabulary:
    for SFT the prompt is 90% of the tokens and carries no loss, so projecting it
    (a ``tokens x hidden x vocab`` matmul plus its softmax) is wasted work and
    memory. Same value as transformers' ``outputs.loss`` (logits in float32,
    final logit soft-capping applied where the model has it).
    """
    import torch

    hidden = _hidden_states(model.get_decoder(), batch)
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE_INDEX
    logits = model.get_output_embeddings()(hidden[:, :-1][keep]).float()
    cap = getattr(getattr(model, "config", None), "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def _hidden_states(decoder: Any, batch: Dict[str, Any]) -> Any:
    """The decoder's last hidden states at the positions of ``input_ids``.

    With ``prefix_ids`` (1, P) in the batch, the rows of ``input_ids`` are
    suffixes of that one prefix: the prefix runs once, its key/value cache is
    repeated once per row, and the rows attend to it (the gradient flows back
    through the cache into the prefix pass, so it equals the full sequences').
    """
    import torch

    prefix = batch.get("prefix_ids")
    mask = batch.get("attention_mask")
    if prefix is None:
        return decoder(input_ids=batch["input_ids"], attention_mask=mask).last_hidden_state
    cache = decoder(input_ids=prefix, use_cache=True).cache
    rows = batch["input_ids"].shape[0]
    cache.batch_repeat_interleave(rows)
    prefix_mask = torch.ones(rows, prefix.shape[1], dtype=mask.dtype, device=mask.device)
    return decoder(input_ids=batch["input_ids"], attention_mask=torch.cat([prefix_mask, mask], dim=1),
                   cache=cache, use_cache=True).last_hidden_state


def causal_lm_step(engine: Any, batches: Iterator[Dict[str, Any]], accumulation: int,
                   autocast: Optional[Any] = None) -> StepFn:
    """A step function for a DeepSpeed engine around a transformers causal LM.

    Each optimizer step runs ``accumulation`` micro batches (forward,
    ``engine.backward``, ``engine.step``; DeepSpeed applies the update at the
    accumulation boundary) and returns their mean loss and token count. The
    forward runs under ``torch.autocast`` to ``autocast`` (a torch dtype; None:
    no autocast), the weights and optimizer stay in their own dtype.
    """
    import torch

    device_type = torch.device(engine.device).type

    def forward(batch: Dict[str, Any]) -> Any:
        if autocast is None:
            return label_loss(engine.module, batch)
        with torch.autocast(device_type, dtype=autocast):
            return label_loss(engine.module, batch)

    def step_fn(step: int) -> Tuple[float, int]:
        total_loss, tokens = 0.0, 0
        for _ in range(accumulation):
            batch = {k: v.to(engine.device) for k, v in trim_padding(next(batches)).items()}
            loss = forward(batch)
            engine.backward(loss)
            engine.step()
            total_loss += float(loss.detach())
            tokens += sample_tokens(batch) if "attention_mask" in batch else batch["input_ids"].numel()
        if not torch.isfinite(torch.tensor(total_loss)):
            raise FloatingPointError(f"loss is {total_loss} at step {step}")
        return total_loss / accumulation, tokens

    return step_fn
