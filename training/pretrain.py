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

The run itself (reuse, resume, checkpoints, summary) is :mod:`training.phase`;
this module says what is pretraining's own: packed blocks, the full model
trained, a model directory as the result.
"""
from pathlib import Path
from typing import Any, Dict, Tuple

from .config import PretrainSettings, TrainingConfig
from .datasets import load_pretraining_examples, micro_batches, micro_batches_per_epoch
from .engine import build_engine, load_causal_lm, save_hf_model
from .loop import autocast_dtype, causal_lm_step
from .phase import Started, TrainingPhase
from .pipeline import build_pipeline_module, check_pipeline, load_stage_weights, save_pipeline_model
from .runtime import (check_memory, make_optimizer, make_scheduler, seed_everything, total_steps,
                      zero_stage)

SECTION = "pretrain"
MODEL_SUBDIR = "model"


class PretrainPhase(TrainingPhase):
    """Phase 1 on a ZeRO data-parallel engine (``pipeline_stages`` < 2; the
    pipeline-parallel run is :class:`PipelinePretrainPhase`)."""

    section = SECTION

    def result_dir(self) -> Path:
        return self.output_dir / MODEL_SUBDIR

    def fingerprint_extra(self) -> Dict[str, Any]:
        return {"pipeline_stages": self.settings.pipeline_stages}

    def check_memory(self, model_config: Any, n_params: int, ds_config: Dict[str, Any],
                     world: Dict[str, int]) -> None:
        check_memory(model_config, n_params, n_params, self.settings, SECTION,
                     zero_stage(ds_config), world["world_size"])

    def load_data(self) -> Tuple[Any, list]:
        return load_pretraining_examples(self.settings, SECTION)

    def start(self, model_config: Any, examples: list, tokenizer: Any,
              ds_config: Dict[str, Any], world: Dict[str, int], start_step: int) -> Started:
        settings = self.settings
        model = load_causal_lm(settings.model, settings)
        per_epoch = micro_batches_per_epoch(len(examples), settings.micro_batch_size,
                                            world["world_size"])
        total = total_steps(settings, per_epoch)
        engine = build_engine(model, settings, ds_config, total)
        batches = micro_batches(examples, settings.micro_batch_size, settings.seed,
                                start=start_step * settings.gradient_accumulation,
                                rank=world["rank"], world=world["world_size"],
                                bucket_by_length=settings.bucket_by_length)
        step_fn = causal_lm_step(engine, batches, settings.gradient_accumulation,
                                 autocast_dtype(settings.autocast, engine.device))
        return Started(engine, step_fn, total)

    def save(self, started: Started, model_config: Any, tokenizer: Any,
             ds_config: Dict[str, Any], world: Dict[str, int]) -> None:
        save_hf_model(started.engine, tokenizer, self.result_dir(), zero_stage(ds_config),
                      world["rank"])

    def describe(self) -> Dict[str, Any]:
        return {"model_dir": str(self.result_dir())}


class PipelinePretrainPhase(PretrainPhase):
    """Phase 1 with the model split into ``pipeline_stages`` stages (:mod:`training.pipeline`)."""

    def __init__(self, settings: PretrainSettings) -> None:
        super().__init__(settings)
        self.data_parallel = 1

    def check_memory(self, model_config: Any, n_params: int, ds_config: Dict[str, Any],
                     world: Dict[str, int]) -> None:
        stages = self.settings.pipeline_stages
        check_pipeline(stages, world["world_size"], model_config.num_hidden_layers,
                       zero_stage(ds_config))
        check_memory(model_config, n_params, n_params, self.settings, SECTION, 0,
                     world["world_size"] // stages, stages)

    def start(self, model_config: Any, examples: list, tokenizer: Any,
              ds_config: Dict[str, Any], world: Dict[str, int], start_step: int) -> Started:
        import deepspeed

        settings = self.settings
        data_parallel = self.data_parallel = world["world_size"] // settings.pipeline_stages
        seed_everything(settings.seed)
        pipe = build_pipeline_module(model_config, settings.pipeline_stages, settings.seed,
                                     settings.gradient_checkpointing)
        load_stage_weights(pipe, settings.model)
        per_epoch = micro_batches_per_epoch(len(examples), settings.micro_batch_size, data_parallel)
        total = total_steps(settings, per_epoch)
        optimizer = make_optimizer([p for p in pipe.parameters() if p.requires_grad], settings)
        scheduler = make_scheduler(optimizer, settings, total)
        engine, _, _, _ = deepspeed.initialize(model=pipe, optimizer=optimizer,
                                               lr_scheduler=scheduler, config=ds_config)
        batches = micro_batches(examples, settings.micro_batch_size, settings.seed,
                                start=start_step * settings.gradient_accumulation,
                                rank=engine.grid.get_data_parallel_rank(), world=data_parallel)
        pairs = ((b["input_ids"], b["labels"]) for b in batches)
        tokens = settings.micro_batch_size * settings.seq_length * settings.gradient_accumulation

        def step_fn(step: int) -> Tuple[float, int]:
            return float(engine.train_batch(data_iter=pairs)), tokens

        return Started(engine, step_fn, total, lr_of=lambda: scheduler.get_last_lr()[0])

    def save(self, started: Started, model_config: Any, tokenizer: Any,
             ds_config: Dict[str, Any], world: Dict[str, int]) -> None:
        save_pipeline_model(started.engine.module, model_config, tokenizer, self.result_dir(),
                            world["rank"])

    def describe(self) -> Dict[str, Any]:
        return {**super().describe(), "pipeline_stages": self.settings.pipeline_stages,
                "data_parallel": self.data_parallel}


def pretrain(cfg: TrainingConfig) -> Dict[str, Any]:
    """Run (or resume) phase 1 and save ``<output_dir>/model``.

    With ``pipeline_stages >= 2`` the model is split into pipeline stages
    (:class:`PipelinePretrainPhase`).

    cfg (TrainingConfig): The validated config; ``cfg.pretrain`` is used.
    RETURNS (Dict[str, Any]): The run summary (also in summary.json).
    """
    phase = PipelinePretrainPhase if cfg.pretrain.pipeline_stages >= 2 else PretrainPhase
    return phase(cfg.pretrain).run()
