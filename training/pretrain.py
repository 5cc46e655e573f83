"""Phase 1, schema understanding: causal-LM pretraining under DeepSpeed (DESIGN §7).

The model trains on packed code documents (class definitions and instance
code) with a DeepSpeed engine: ZeRO stage 0-3 from the JSON named in
``[pretrain] deepspeed_config``, data parallel over all processes; with
``pipeline_stages >= 2`` the Llama model is split into pipeline stages instead
(:mod:`training.pipeline`). Runs on CPU with gloo (one process in-process, two
with ``torchrun --nproc_per_node 2``) and on GPUs with nccl. The result is a
plain Hugging Face directory ``<output_dir>/model`` (config.json, safetensors,
tokenizer) that ``from_pretrained`` loads.

Example:
    >>> from training.config import load_config, CONFIG_DIR
    >>> cfg = load_config(CONFIG_DIR / "default.cfg", {"pretrain.max_steps": 5})  # doctest: +SKIP
    >>> pretrain(cfg)["tokens_per_second"]  # doctest: +SKIP
    2150.3
"""
import hashlib
from pathlib import Path
from typing import Any, Dict, Optional

import srsly

from spacy_knowcoder.fileio import atomic_directory

from .config import PretrainSettings, TrainingConfig
from .datasets import micro_batches, micro_batches_per_epoch, pack_pretraining, read_pretraining
from .loop import SUMMARY_FILE, autocast_dtype, causal_lm_step, run_steps, write_summary
from .runtime import (barrier, check_memory, count_parameters, deepspeed_config, init_distributed,
                      load_model_config, make_optimizer, make_scheduler, seed_everything, total_steps,
                      zero_stage)

SECTION = "pretrain"
MODEL_SUBDIR = "model"


def fingerprint(settings: PretrainSettings, world_size: int) -> Dict[str, Any]:
    """Settings that a resumed run must share with its checkpoints."""
    return {"seq_length": settings.seq_length, "micro_batch_size": settings.micro_batch_size,
            "gradient_accumulation": settings.gradient_accumulation, "seed": settings.seed,
            "data": str(settings.data), "data_sha256": file_sha256(settings.data),
            "max_steps": settings.max_steps, "world_size": world_size,
            "pipeline_stages": settings.pipeline_stages}


def file_sha256(path: "str | Path") -> str:
    """The SHA-256 of a file's bytes ("" if it does not exist: the reader reports that)."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def reusable(done: Dict[str, Any], settings: Any, prints: Dict[str, Any]) -> bool:
    """Whether a finished run's summary belongs to these settings (same steps, data, ...).

    A summary without a fingerprint (written before fingerprints were saved) is
    trusted when its step count matches, as before.
    """
    if not done or not settings.max_steps or done.get("total_steps") != settings.max_steps:
        return False
    from . import checkpoints

    checkpoints.check_compatible(Path(settings.output_dir) / SUMMARY_FILE, done, prints)
    return True


def finished_summary(output_dir: Path, model_dir: Path) -> Dict[str, Any]:
    """The summary of a completed run whose model (or adapter) exists, else an empty dict."""
    summary_file = output_dir / SUMMARY_FILE
    saved = (model_dir / "config.json").is_file() or (model_dir / "adapter_config.json").is_file()
    if summary_file.is_file() and saved:
        return dict(srsly.read_json(summary_file))
    return {}


def pretrain(cfg: TrainingConfig) -> Dict[str, Any]:
    """Run (or resume) phase 1 and save ``<output_dir>/model``.

    cfg (TrainingConfig): The validated config; ``cfg.pretrain`` is used.
    RETURNS (Dict[str, Any]): The run summary (also in summary.json).
    """
    settings = cfg.pretrain
    if settings.pipeline_stages >= 2:
        from .pipeline import pretrain_pipeline

        return pretrain_pipeline(cfg)
    world = init_distributed()
    output_dir = Path(settings.output_dir)
    done = finished_summary(output_dir, output_dir / MODEL_SUBDIR)
    prints = fingerprint(settings, world["world_size"])
    if reusable(done, settings, prints):
        return done
    ds_config = deepspeed_config(settings, SECTION)
    model_config = load_model_config(settings.model, SECTION)
    n_params = count_parameters(model_config)
    check_memory(model_config, n_params, n_params, settings, SECTION, zero_stage(ds_config),
                 world["world_size"])
    tokenizer, examples = _load_data(settings)
    model = load_causal_lm(settings.model, settings)
    per_epoch = micro_batches_per_epoch(len(examples), settings.micro_batch_size, world["world_size"])
    total = total_steps(settings, per_epoch)
    engine = build_engine(model, settings, ds_config, total)
    start = _peek_start(output_dir)
    batches = micro_batches(examples, settings.micro_batch_size, settings.seed,
                            start=start * settings.gradient_accumulation, rank=world["rank"],
                            world=world["world_size"], bucket_by_length=settings.bucket_by_length)
    step_fn = causal_lm_step(engine, batches, settings.gradient_accumulation,
                             autocast_dtype(settings.autocast, engine.device))
    summary = run_steps(engine, step_fn, settings, SECTION, output_dir, total, world, prints)
    save_hf_model(engine, tokenizer, output_dir / MODEL_SUBDIR, zero_stage(ds_config), world["rank"])
    summary.update({"model_dir": str(output_dir / MODEL_SUBDIR), "parameters": n_params,
                    "examples": len(examples)})
    write_summary(output_dir, summary, world["rank"])
    return summary


def _peek_start(output_dir: Path) -> int:
    """The step the newest checkpoint ends at (read before the engine loads it)."""
    from . import checkpoints

    latest = checkpoints.latest_checkpoint(output_dir)
    return int(checkpoints.read_state(latest)["step"]) if latest else 0


def _load_data(settings: PretrainSettings) -> tuple:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(settings.model)
    texts = read_pretraining(settings.data, SECTION)
    return tokenizer, pack_pretraining(texts, tokenizer, settings.seq_length, settings.data, SECTION)


def load_causal_lm(model: str, settings: Any, dtype: Optional[str] = None) -> Any:
    """Load a transformers causal LM in the training dtype (or ``dtype``), ready to train."""
    from transformers import AutoModelForCausalLM

    from .runtime import torch_dtype

    seed_everything(settings.seed)
    lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype(dtype or settings.dtype),
                                              attn_implementation=settings.attention)
    lm.config.use_cache = False
    if settings.gradient_checkpointing:
        lm.gradient_checkpointing_enable()
    lm.train()
    return lm


def build_engine(model: Any, settings: Any, ds_config: Dict[str, Any], total: int) -> Any:
    """``deepspeed.initialize`` with torch AdamW on the trainable parameters and the lr schedule."""
    import deepspeed

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, settings)
    scheduler = make_scheduler(optimizer, settings, total)
    engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler,
                                           config=ds_config)
    return engine


def full_state_dict(engine: Any, stage: int, rank: int) -> Dict[str, Any]:
    """The full model weights on rank 0 (ZeRO-3 partitions are gathered first)."""
    module = engine.module
    if stage >= 3:
        import deepspeed

        state: Dict[str, Any] = {}
        for name, param in module.named_parameters():
            with deepspeed.zero.GatheredParameters([param], modifier_rank=None):
                if rank == 0:
                    state[name] = param.detach().cpu().clone()
        for name, buf in module.named_buffers():
            if rank == 0:
                state[name] = buf.detach().cpu().clone()
        return state
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()} if rank == 0 else {}


def save_hf_model(engine: Any, tokenizer: Any, target: Path, stage: int, rank: int) -> None:
    """Write a plain HF directory (config.json + safetensors + tokenizer) atomically."""
    state = full_state_dict(engine, stage, rank)
    if rank == 0:
        with atomic_directory(target) as tmp:
            engine.module.save_pretrained(tmp, state_dict=state, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
    barrier()
