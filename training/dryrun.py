"""``--dry-run``: check a profile end to end without loading model weights.

It validates the config (already done by loading it), lets DeepSpeed parse the
final DeepSpeed config, reads the model's config.json (or, offline, a copy of
a public architecture config in ``training/configs/models/``), checks the
pipeline split and the memory estimate for the intended world size, and
checks the data files line by line when they exist. The GPU profile is
checked this way on a machine without GPUs.

Example:
    >>> from training.config import load_config, CONFIG_DIR
    >>> report = dry_run("pretrain", load_config(CONFIG_DIR / "gpu.cfg"), world_size=8)  # doctest: +SKIP
    >>> report["memory_gb_per_process"]["total"] < 80  # doctest: +SKIP
    True
"""
import os
from pathlib import Path
from typing import Any, Dict, Optional

from .config import CONFIG_DIR, TrainingConfig, TrainSettings
from .datasets import PRETRAIN_FIELDS, SFT_FIELDS, iter_jsonl
from .runtime import (check_memory, count_parameters, deepspeed_config, load_model_config,
                      validate_deepspeed_config, zero_stage)

MODEL_CONFIG_DIR = CONFIG_DIR / "models"


def model_config_for_dry_run(model: str, section: str) -> Any:
    """The model's config; a hub id with a copy in training/configs/models/NAME.json
    uses that copy (no network)."""
    known = MODEL_CONFIG_DIR / f"{model.rstrip('/').split('/')[-1]}.json"
    if not Path(model).exists() and known.is_file():
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(str(known))
    return load_model_config(model, section)


def dry_run(command: str, cfg: TrainingConfig, world_size: Optional[int] = None) -> Dict[str, Any]:
    """Validate one command's settings; returns a report (raises on a problem).

    world_size (Optional[int]): Processes the real run will have (default:
        WORLD_SIZE, else the pipeline stages, else 1).
    """
    report: Dict[str, Any] = {"command": command, "config": cfg.source, "ok": True}
    if command in ("pretrain", "sft"):
        settings = getattr(cfg, command)
        model = settings.model
        planned = str(Path(cfg.pretrain.output_dir) / "model")
        if command == "sft" and not Path(model).exists() and str(Path(model)) == planned:
            model = cfg.pretrain.model  # the pretrain output does not exist yet: same architecture
            report["model_note"] = f"{settings.model} is written by pretrain; checked as {model}"
        report.update(_check_training(command, settings, world_size, model))
    elif command == "merge":
        report["merge"] = {"base_model": cfg.merge.base_model, "adapter": cfg.merge.adapter,
                           "output_dir": cfg.merge.output_dir}
    elif command == "build-data":
        report["data"] = dict(cfg.data)
    return report


def _check_training(section: str, settings: TrainSettings, world_size: Optional[int],
                    model: str) -> Dict[str, Any]:
    stages = getattr(settings, "pipeline_stages", 0)
    world = world_size or int(os.environ.get("WORLD_SIZE", "0")) or max(1, stages)
    ds_config = deepspeed_config(settings, section)
    validate_deepspeed_config(ds_config, settings.deepspeed_config, section)
    model_config = model_config_for_dry_run(model, section)
    if stages >= 2:
        from .pipeline import check_pipeline

        check_pipeline(stages, world, model_config.num_hidden_layers, zero_stage(ds_config))
    n_params = count_parameters(model_config)
    lora = getattr(settings, "method", "full") == "lora"
    trainable = n_params // 20 if lora else n_params
    data_parallel = world // max(1, stages)
    parts = check_memory(model_config, n_params, trainable, settings, section, zero_stage(ds_config),
                         data_parallel, max(1, stages))
    tokens_per_step = settings.micro_batch_size * settings.seq_length * settings.gradient_accumulation
    return {"world_size": world, "pipeline_stages": stages, "data_parallel": data_parallel,
            "zero_stage": zero_stage(ds_config), "parameters": n_params,
            "tokens_per_optimizer_step": tokens_per_step * data_parallel,
            "memory_gb_per_process": {**{k: round(v, 3) for k, v in parts.items()},
                                      "total": round(sum(parts.values()), 3)},
            "data": _check_data(section, settings.data)}


def _check_data(section: str, path: str) -> Dict[str, Any]:
    if not Path(path).is_file():
        return {"path": path, "status": "missing: run 'python -m training build-data CONFIG' first"}
    fields = PRETRAIN_FIELDS if section == "pretrain" else SFT_FIELDS
    n = sum(1 for _ in iter_jsonl(path, f"{section} data", section, fields))
    return {"path": path, "status": "ok", "rows": n}
