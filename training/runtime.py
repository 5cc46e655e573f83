"""The DeepSpeed runtime shared by both phases: processes, config, optimizer, memory.

* :func:`init_distributed` starts torch.distributed (gloo on CPU, nccl on GPU);
  a plain ``python -m training ...`` run is a world of one process, a
  ``torchrun --nproc_per_node N`` or ``deepspeed`` launch provides the
  environment itself.
* :func:`deepspeed_config` reads a ZeRO/precision JSON from
  ``training/configs/deepspeed/`` and adds the values owned by the training
  config (batch sizes, clipping, precision); a JSON that sets one of those
  fails with E308 so that every value lives in one place.
* :func:`make_optimizer` / :func:`make_scheduler`: AdamW (torch's, which runs on
  CPU and GPU without compiled DeepSpeed ops) with linear warmup then cosine,
  linear or constant decay, handed to ``deepspeed.initialize``.
* :func:`check_memory` estimates memory per process before the model is
  loaded (E310) and :func:`oom_guard` turns an out-of-memory error into E311.

Example:
    >>> from training.config import PretrainSettings
    >>> s = PretrainSettings(micro_batch_size=2, gradient_accumulation=4)
    >>> ds = deepspeed_config(s, "pretrain")
    >>> ds["train_micro_batch_size_per_gpu"], ds["gradient_accumulation_steps"], ds["zero_optimization"]["stage"]
    (2, 4, 1)
"""
import contextlib
import math
import os
import socket
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import srsly

from spacy_knowcoder.errors import Errors

from .config import CONFIG_DIR, TrainSettings

#: DeepSpeed keys that the training config owns: JSON key -> settings field.
OWNED_KEYS = {
    "train_batch_size": "micro_batch_size",
    "train_micro_batch_size_per_gpu": "micro_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation",
    "gradient_clipping": "gradient_clipping",
    "optimizer": "lr",
    "scheduler": "lr_scheduler",
    "bf16": "dtype",
    "fp16": "dtype",
}


def init_distributed() -> Dict[str, int]:
    """Start torch.distributed once; a lone process becomes a world of one.

    RETURNS (Dict[str, int]): rank, world_size and local_rank.
    """
    import deepspeed
    import torch

    if "WORLD_SIZE" not in os.environ:
        os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0",
                           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())})
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        deepspeed.init_distributed(dist_backend=backend, verbose=False)
    return {"rank": torch.distributed.get_rank(), "world_size": torch.distributed.get_world_size(),
            "local_rank": int(os.environ.get("LOCAL_RANK", "0"))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def barrier() -> None:
    """Wait for all processes (a no-op without torch.distributed)."""
    import torch

    if torch.distributed.is_initialized():
        torch.distributed.barrier()


def read_deepspeed_json(path: str, section: str) -> Dict[str, Any]:
    """Read a DeepSpeed JSON and reject keys the training config owns (E308, E309).

    A relative path is looked up from the working directory first, then in
    ``training/configs`` (so ``deepspeed/zero1.json`` works from anywhere).
    """
    file = Path(path)
    if not file.is_absolute() and not file.is_file() and (CONFIG_DIR / file).is_file():
        file = CONFIG_DIR / file
    if not file.is_file():
        raise ValueError(Errors.E309.format(path=path, section=section, reason="the file does not exist"))
    try:
        data = srsly.read_json(file)
    except ValueError as err:
        raise ValueError(Errors.E309.format(path=path, section=section, reason=f"invalid JSON ({err})")) from None
    if not isinstance(data, dict):
        raise ValueError(Errors.E309.format(path=path, section=section, reason="not a JSON object"))
    for key, owner in OWNED_KEYS.items():
        if key in data:
            raise ValueError(Errors.E308.format(path=path, key=key, section=section, field=owner))
    return data


def deepspeed_config(settings: TrainSettings, section: str) -> Dict[str, Any]:
    """The full DeepSpeed config dict for a phase (see module docs)."""
    data = read_deepspeed_json(settings.deepspeed_config, section)
    data.update({
        "train_micro_batch_size_per_gpu": settings.micro_batch_size,
        "gradient_accumulation_steps": settings.gradient_accumulation,
        "gradient_clipping": settings.gradient_clipping,
        "bf16": {"enabled": settings.dtype == "bfloat16"},
        "fp16": {"enabled": settings.dtype == "float16"},
        "steps_per_print": 10 ** 9,
        "wall_clock_breakdown": False,
    })
    data.setdefault("zero_optimization", {"stage": 0})
    return data


def zero_stage(ds_config: Dict[str, Any]) -> int:
    """The ZeRO stage of a DeepSpeed config dict."""
    return int(ds_config.get("zero_optimization", {}).get("stage", 0))


def validate_deepspeed_config(ds_config: Dict[str, Any], path: str, section: str) -> None:
    """Let DeepSpeed parse the config (as for a single process), without a model.

    RAISES: ValueError (E309) with DeepSpeed's own complaint.
    """
    from deepspeed.runtime.config import DeepSpeedConfig

    try:
        DeepSpeedConfig(dict(ds_config))
    except Exception as err:  # DeepSpeed raises assertion, value and pydantic errors
        raise ValueError(Errors.E309.format(path=path, section=section, reason=err)) from None


def make_optimizer(params: Any, settings: TrainSettings) -> Any:
    """torch AdamW with the settings' lr, betas and weight decay."""
    import torch

    return torch.optim.AdamW(params, lr=settings.lr, betas=(settings.adam_beta1, settings.adam_beta2),
                             weight_decay=settings.weight_decay)


def lr_factor(step: int, total: int, warmup: int, kind: str, min_ratio: float) -> float:
    """The lr multiplier after ``step`` optimizer steps.

    Example:
        >>> [round(lr_factor(s, 10, 2, "cosine", 0.0), 2) for s in (0, 1, 2, 6, 10)]
        [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if step < warmup:
        return (step + 1) / warmup
    if kind == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    decay = 0.5 * (1 + math.cos(math.pi * progress)) if kind == "cosine" else 1 - progress
    return min_ratio + (1 - min_ratio) * decay


def make_scheduler(optimizer: Any, settings: TrainSettings, total_steps: int) -> Any:
    """LambdaLR: linear warmup over warmup_ratio of the steps, then decay."""
    import torch

    warmup = int(round(settings.warmup_ratio * total_steps))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, warmup, settings.lr_scheduler, settings.min_lr_ratio))


def total_steps(settings: TrainSettings, micro_per_epoch: int) -> int:
    """max_steps, or epochs over the data in optimizer steps (at least 1)."""
    if settings.max_steps:
        return settings.max_steps
    return max(1, math.ceil(settings.epochs * micro_per_epoch / settings.gradient_accumulation))


def count_parameters(model_config: Any) -> int:
    """Parameters of a model built from its config on the meta device (no memory)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
    return sum(p.numel() for p in model.parameters())


def estimate_memory_gb(model_config: Any, n_params: int, n_trainable: int, settings: TrainSettings,
                       stage: int, data_parallel: int, pipeline_stages: int = 1) -> Dict[str, float]:
    """A conservative per-process memory estimate in GB, by part.

    Weights in the training dtype, fp32 gradients and AdamW states for the
    trainable part (divided by the data-parallel size as ZeRO partitions them),
    plus activations: per token and layer about 16 hidden-sized and 3
    intermediate-sized values kept for backward, and the logits (with their
    softmax and gradient) of a micro batch.
    """
    width = 2 if settings.dtype in ("bfloat16", "float16") else 4
    share = max(1, pipeline_stages)
    dp = max(1, data_parallel)
    weights = n_params * width / share / (dp if stage >= 3 else 1)
    grads = n_trainable * 4 / share / (dp if stage >= 2 else 1)
    optim = n_trainable * (12 if width == 2 else 8) / share / (dp if stage >= 1 else 1)
    tokens = settings.micro_batch_size * settings.seq_length
    hidden = getattr(model_config, "hidden_size", 0)
    inter = getattr(model_config, "intermediate_size", 4 * hidden)
    layers = getattr(model_config, "num_hidden_layers", 0) / share
    per_layer = (16 * hidden + 3 * inter) * width
    if settings.gradient_checkpointing:
        per_layer = hidden * width * 2
    acts = tokens * layers * per_layer + tokens * getattr(model_config, "vocab_size", 0) * 4 * 3
    gb = 1024 ** 3
    return {"weights": weights / gb, "gradients": grads / gb, "optimizer": optim / gb,
            "activations": acts / gb}


def memory_limit_gb(settings: TrainSettings) -> tuple:
    """The budget per process and where it comes from."""
    if settings.max_memory_gb:
        return settings.max_memory_gb, "max_memory_gb"
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        return props.total_memory / 1024 ** 3, f"GPU {props.name}"
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    procs = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    return total / max(1, procs), f"machine memory shared by {procs} process(es)"


def check_memory(model_config: Any, n_params: int, n_trainable: int, settings: TrainSettings, section: str,
                 stage: int, data_parallel: int, pipeline_stages: int = 1) -> Dict[str, float]:
    """Raise E310 when the estimate exceeds the budget; return the estimate."""
    parts = estimate_memory_gb(model_config, n_params, n_trainable, settings, stage, data_parallel,
                               pipeline_stages)
    need = sum(parts.values())
    limit, source = memory_limit_gb(settings)
    if need > limit:
        detail = ", ".join(f"{k} {v:.2f} GB" for k, v in parts.items())
        raise MemoryError(Errors.E310.format(section=section, need_gb=need, detail=detail, limit_gb=limit,
                                             limit_source=source, micro_batch_size=settings.micro_batch_size,
                                             seq_length=settings.seq_length))
    return parts


@contextlib.contextmanager
def oom_guard(settings: TrainSettings, section: str, step_ref: Dict[str, int]) -> Iterator[None]:
    """Re-raise torch's out-of-memory errors as E311 with the batch settings."""
    import torch

    try:
        yield
    except (torch.OutOfMemoryError, MemoryError) as err:
        if "[E310]" in str(err):
            raise
        raise MemoryError(Errors.E311.format(section=section, step=step_ref.get("step", 0),
                                             micro_batch_size=settings.micro_batch_size,
                                             seq_length=settings.seq_length, reason=_first_line(err))) from err
    except RuntimeError as err:
        if "out of memory" not in str(err).lower() and "can't allocate" not in str(err).lower():
            raise
        raise MemoryError(Errors.E311.format(section=section, step=step_ref.get("step", 0),
                                             micro_batch_size=settings.micro_batch_size,
                                             seq_length=settings.seq_length, reason=_first_line(err))) from err


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def torch_dtype(name: str) -> Any:
    """The torch dtype for a dtype setting."""
    import torch

    return getattr(torch, name)


def load_model_config(model: str, section: str) -> Any:
    """The transformers config of a local dir or hub id (E313 when unusable)."""
    from transformers import AutoConfig

    path = Path(model)
    if (model.startswith((".", "/", "~")) or path.exists()) and not (path / "config.json").is_file():
        raise ValueError(Errors.E313.format(path=model, section=section, reason="no config.json there"))
    try:
        return AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as err:
        raise ValueError(Errors.E313.format(path=model, section=section, reason=_first_line(err))) from None


def seed_everything(seed: int) -> None:
    """Seed python, numpy (when present) and torch."""
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    with contextlib.suppress(ImportError):
        import numpy

        numpy.random.seed(seed % 2 ** 32)


def rank_zero(rank: Optional[int] = None) -> bool:
    """True on the process that writes shared files."""
    return (rank if rank is not None else int(os.environ.get("RANK", "0"))) == 0
