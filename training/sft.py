"""Phase 2, schema following: instruction tuning with the loss on the response only.

The default is the reference's LoRA setup (KnowCoder sft/: r 32, alpha 64,
dropout 0.1 on every linear layer but lm_head, lr 3e-4 cosine, warmup 0.1,
one epoch), with peft under a DeepSpeed engine (the ZeRO JSON named in
``[sft] deepspeed_config``). ``method = "full"`` fine-tunes every weight
instead. Prompts are masked (labels -100, see :mod:`training.datasets`).
LoRA writes ``<output_dir>/adapter`` (merge it with ``python -m training merge``);
full fine-tuning writes a plain model directory ``<output_dir>/model``.

Example:
    >>> from training.config import load_config, CONFIG_DIR
    >>> cfg = load_config(CONFIG_DIR / "default.cfg", {"sft.max_steps": 5})  # doctest: +SKIP
    >>> sft(cfg)["last_loss"] < sft(cfg)["first_loss"]  # doctest: +SKIP
    True
"""
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from spacy_knowcoder.errors import Errors
from spacy_knowcoder.fileio import atomic_directory

from .config import SFTSettings, TrainingConfig
from .datasets import (encode_sft, encode_sft_shared, micro_batches, micro_batches_per_epoch, read_sft,
                       shared_micro_batches, shared_units_per_epoch, special_ids)
from .engine import build_engine, full_state_dict, load_causal_lm, save_hf_model
from .loop import autocast_dtype, causal_lm_step
from .phase import Started, TrainingPhase
from .runtime import barrier, check_memory, total_steps, zero_stage

SECTION = "sft"
ADAPTER_SUBDIR = "adapter"
MODEL_SUBDIR = "model"


def result_dir(settings: SFTSettings) -> Path:
    """Where the final adapter (LoRA) or model (full) goes."""
    return Path(settings.output_dir) / (ADAPTER_SUBDIR if settings.method == "lora" else MODEL_SUBDIR)


def add_lora(model: Any, settings: SFTSettings) -> Any:
    """Wrap a causal LM with peft LoRA adapters on the configured linear layers
    (fresh, or trainable copies of ``settings.init_adapter``)."""
    from peft import LoraConfig, TaskType, get_peft_model

    if settings.init_adapter:
        return _continue_adapter(model, settings)
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=settings.lora_r, lora_alpha=settings.lora_alpha,
                        lora_dropout=settings.lora_dropout, target_modules=list(settings.lora_target_modules),
                        bias="none")
    return get_peft_model(model, config)


def init_adapter_dir(name: str) -> Path:
    """The folder of an ``init_adapter`` setting: a shipped model's name (such as
    ``knowcoder-smol``, found wherever the package is installed) or a path.

    Example:
        >>> init_adapter_dir("knowcoder-smol").name
        'knowcoder-smol'
    """
    from spacy_knowcoder.models import is_shipped_name, shipped_root

    return shipped_root() / name if is_shipped_name(name) else Path(name)


def _continue_adapter(model: Any, settings: SFTSettings) -> Any:
    """The model with ``settings.init_adapter`` loaded trainable (E316 on a mismatch)."""
    from peft import PeftConfig, PeftModel

    path = init_adapter_dir(settings.init_adapter)
    if not (path / "adapter_config.json").is_file():
        raise ValueError(Errors.E316.format(path=path, reason="it has no adapter_config.json"))
    saved = PeftConfig.from_pretrained(str(path))
    wanted = sorted(settings.lora_target_modules)
    if getattr(saved, "r", None) != settings.lora_r or sorted(saved.target_modules or []) != wanted:
        raise ValueError(Errors.E316.format(
            path=path, reason=f"it has r = {getattr(saved, 'r', None)} on "
            f"{sorted(saved.target_modules or [])}, the config r = {settings.lora_r} on {wanted}"))
    return PeftModel.from_pretrained(model, str(path), is_trainable=True)


class SFTPhase(TrainingPhase):
    """Phase 2: LoRA (peft) or full fine-tuning on prompt/response pairs."""

    section = SECTION

    def __init__(self, settings: SFTSettings) -> None:
        super().__init__(settings)
        self.n_trainable = 0

    def result_dir(self) -> Path:
        return result_dir(self.settings)

    def fingerprint_extra(self) -> Dict[str, Any]:
        settings = self.settings
        return {"method": settings.method, "lora_r": settings.lora_r, "model": str(settings.model),
                "share_prefix": settings.share_prefix, "init_adapter": settings.init_adapter}

    def check_memory(self, model_config: Any, n_params: int, ds_config: Dict[str, Any],
                     world: Dict[str, int]) -> None:
        trainable_guess = n_params if self.settings.method == "full" else n_params // 20
        check_memory(model_config, n_params, trainable_guess, self.settings, SECTION,
                     zero_stage(ds_config), world["world_size"])

    def load_data(self) -> Tuple[Any, list]:
        from transformers import AutoTokenizer

        settings = self.settings
        tokenizer = AutoTokenizer.from_pretrained(settings.model)
        records = read_sft(settings.data, SECTION)
        encode = encode_sft_shared if settings.share_prefix else encode_sft
        return tokenizer, encode(records, tokenizer, settings.seq_length, settings.data, SECTION)

    def start(self, model_config: Any, examples: list, tokenizer: Any,
              ds_config: Dict[str, Any], world: Dict[str, int], start_step: int) -> Started:
        settings = self.settings
        model = load_causal_lm(settings.model, settings, frozen_dtype(settings))
        if settings.method == "lora":
            model = add_lora(model, settings)
            if settings.gradient_checkpointing:
                model.enable_input_require_grads()
        self.n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        if settings.share_prefix:
            per_epoch = shared_units_per_epoch(examples, settings.micro_batch_size, settings.seed,
                                               world["world_size"])
        else:
            per_epoch = micro_batches_per_epoch(len(examples), settings.micro_batch_size,
                                                world["world_size"])
        total = total_steps(settings, per_epoch)
        engine = build_engine(model, settings, ds_config, total)
        batches = _batches(examples, tokenizer, settings, start_step, world)
        step_fn = causal_lm_step(engine, batches, settings.gradient_accumulation,
                                 autocast_dtype(settings.autocast, engine.device))
        return Started(engine, step_fn, total)

    def save(self, started: Started, model_config: Any, tokenizer: Any,
             ds_config: Dict[str, Any], world: Dict[str, int]) -> None:
        _save_result(started.engine, tokenizer, self.settings, zero_stage(ds_config),
                     world["rank"])

    def describe(self) -> Dict[str, Any]:
        return {"result_dir": str(self.result_dir()), "method": self.settings.method,
                "trainable_parameters": self.n_trainable}


def sft(cfg: TrainingConfig) -> Dict[str, Any]:
    """Run (or resume) phase 2 and save the adapter or the fine-tuned model.

    cfg (TrainingConfig): The validated config; ``cfg.sft`` is used.
    RETURNS (Dict[str, Any]): The run summary (also in summary.json).
    """
    return SFTPhase(cfg.sft).run()


def frozen_dtype(settings: SFTSettings) -> Optional[str]:
    """The dtype to load the base in: ``base_dtype`` for LoRA ("auto" follows
    autocast), None (the ``dtype`` setting) for full fine-tuning.

    Example:
        >>> frozen_dtype(SFTSettings(base_dtype="bfloat16"))
        'bfloat16'
        >>> frozen_dtype(SFTSettings(base_dtype="auto", autocast="off"))
        'float32'
    """
    if settings.method != "lora":
        return None
    if settings.base_dtype != "auto":
        return settings.base_dtype
    import torch

    chosen = autocast_dtype(settings.autocast, "cuda" if torch.cuda.is_available() else "cpu")
    return "bfloat16" if chosen == torch.bfloat16 else "float32"


def _batches(examples: list, tokenizer: Any, settings: SFTSettings, start_step: int,
             world: Dict[str, int]) -> Iterator[Dict[str, Any]]:
    """The micro-batch stream from optimizer step ``start_step`` on (for resuming)."""
    start = start_step * settings.gradient_accumulation
    if settings.share_prefix:
        return shared_micro_batches(examples, settings.micro_batch_size, settings.seed,
                                    special_ids(tokenizer)[2], start=start, rank=world["rank"],
                                    world=world["world_size"],
                                    bucket_by_length=settings.bucket_by_length)
    return micro_batches(examples, settings.micro_batch_size, settings.seed, start=start,
                         rank=world["rank"], world=world["world_size"],
                         bucket_by_length=settings.bucket_by_length)


def _save_result(engine: Any, tokenizer: Any, settings: SFTSettings, stage: int, rank: int) -> None:
    target = result_dir(settings)
    if settings.method == "full":
        save_hf_model(engine, tokenizer, target, stage, rank)
        return
    state = full_state_dict(engine, stage, rank)
    if rank == 0:
        with atomic_directory(target) as tmp:
            engine.module.save_pretrained(tmp, state_dict=state)
            tokenizer.save_pretrained(tmp)
    barrier()
