"""DeepSpeed engines for the training phases: load the model, build the engine, save.

``load_causal_lm`` loads a transformers causal LM ready to train,
``build_engine`` wraps it (torch AdamW on the trainable parameters and the lr
schedule) with ``deepspeed.initialize``, and ``save_hf_model`` writes the result
as a plain Hugging Face directory, gathering ZeRO-3 partitions first.

Example:
    >>> model = load_causal_lm("models/smollm2-135m", cfg.sft)  # doctest: +SKIP
    >>> engine = build_engine(model, cfg.sft, ds_config, total=200)  # doctest: +SKIP
"""
from pathlib import Path
from typing import Any, Dict, Optional

from spacy_knowcoder.fileio import atomic_directory

from .runtime import barrier, make_optimizer, make_scheduler, seed_everything


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
