"""The run skeleton every training phase shares: reuse, checks, steps, save, summary.

Pretraining (:mod:`training.pretrain`), its pipeline-parallel variant
(:mod:`training.pipeline`) and SFT (:mod:`training.sft`) run the same way:

1. join the process group;
2. return the summary of a finished run with the same fingerprint (settings a
   run must share with its checkpoints) instead of training again;
3. read the DeepSpeed JSON and the model config, check memory;
4. load the data and build the engine, from the newest checkpoint's step on;
5. run the optimizer steps (``loop.run_steps``: resume, log, checkpoint);
6. save the result and write ``summary.json``.

A phase subclasses :class:`TrainingPhase` and fills in what is its own: the
result folder, extra fingerprint keys, the memory check, the data, the engine
and the save.

Example:
    >>> from training.pretrain import PretrainPhase
    >>> PretrainPhase(cfg.pretrain).run()["total_steps"]  # doctest: +SKIP
    200
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import srsly

from spacy_knowcoder.fileio import file_sha256

from . import checkpoints
from .loop import SUMMARY_FILE, StepFn, run_steps, write_summary
from .runtime import count_parameters, deepspeed_config, init_distributed, load_model_config


@dataclass
class Started:
    """What a phase's ``start`` returns: the engine and how to take one step.

    engine (Any): The DeepSpeed engine (checkpoints load into it).
    step_fn (StepFn): Runs optimizer step n; returns its loss and token count.
    total (int): The run's optimizer steps.
    lr_of (Optional[Callable[[], float]]): The current learning rate (None: the engine's).
    """

    engine: Any
    step_fn: StepFn
    total: int
    lr_of: Optional[Callable[[], float]] = None


class TrainingPhase:
    """One training phase; ``run`` is the shared skeleton (see the module docs).

    settings (TrainSettings): The phase's section of the training config.
    """

    #: The config section, used in messages, metrics and the summary.
    section = ""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.output_dir = Path(settings.output_dir)

    # -- what a phase supplies ------------------------------------------------

    def result_dir(self) -> Path:
        """Where the trained model (or adapter) is saved."""
        raise NotImplementedError

    def fingerprint_extra(self) -> Dict[str, Any]:
        """Settings of this phase that a resumed run must also share."""
        return {}

    def check_memory(self, model_config: Any, n_params: int, ds_config: Dict[str, Any],
                     world: Dict[str, int]) -> None:
        """Refuse (E303) a run that would not fit in memory."""
        raise NotImplementedError

    def load_data(self) -> Tuple[Any, list]:
        """The tokenizer and the encoded examples."""
        raise NotImplementedError

    def start(self, model_config: Any, examples: list, tokenizer: Any,
              ds_config: Dict[str, Any], world: Dict[str, int], start_step: int) -> Started:
        """Build the model and engine; the step function from ``start_step`` on."""
        raise NotImplementedError

    def save(self, started: Started, model_config: Any, tokenizer: Any,
             ds_config: Dict[str, Any], world: Dict[str, int]) -> None:
        """Write the result to ``result_dir()`` (rank 0; every rank takes part)."""
        raise NotImplementedError

    def describe(self) -> Dict[str, Any]:
        """Extra summary keys of this phase."""
        return {}

    # -- the skeleton ---------------------------------------------------------

    def fingerprint(self, world_size: int) -> Dict[str, Any]:
        """Settings that a resumed run must share with its checkpoints."""
        settings = self.settings
        data = Path(settings.data)
        return {"seq_length": settings.seq_length, "micro_batch_size": settings.micro_batch_size,
                "gradient_accumulation": settings.gradient_accumulation, "seed": settings.seed,
                "data": str(settings.data),
                "data_sha256": file_sha256(data) if data.is_file() else "",
                "max_steps": settings.max_steps, "world_size": world_size,
                **self.fingerprint_extra()}

    def run(self) -> Dict[str, Any]:
        """Run (or resume, or reuse) the phase.

        RETURNS (Dict[str, Any]): The run summary (also in summary.json).
        """
        settings, section = self.settings, self.section
        world = init_distributed()
        done = finished_summary(self.output_dir, self.result_dir())
        prints = self.fingerprint(world["world_size"])
        if reusable(done, settings, prints):
            return done
        ds_config = deepspeed_config(settings, section)
        model_config = load_model_config(settings.model, section)
        n_params = count_parameters(model_config)
        self.check_memory(model_config, n_params, ds_config, world)
        tokenizer, examples = self.load_data()
        started = self.start(model_config, examples, tokenizer, ds_config, world,
                             peek_start(self.output_dir))
        summary = run_steps(started.engine, started.step_fn, settings, section, self.output_dir,
                            started.total, world, prints, lr_of=started.lr_of)
        self.save(started, model_config, tokenizer, ds_config, world)
        summary.update({"parameters": n_params, "examples": len(examples), **self.describe()})
        write_summary(self.output_dir, summary, world["rank"])
        return summary


def reusable(done: Dict[str, Any], settings: Any, prints: Dict[str, Any]) -> bool:
    """Whether a finished run's summary belongs to these settings (same steps, data, ...).

    A summary without a fingerprint (written before fingerprints were saved) is
    trusted when its step count matches, as before.
    """
    if not done or not settings.max_steps or done.get("total_steps") != settings.max_steps:
        return False
    checkpoints.check_compatible(Path(settings.output_dir) / SUMMARY_FILE, done, prints)
    return True


def finished_summary(output_dir: Path, model_dir: Path) -> Dict[str, Any]:
    """The summary of a completed run whose model (or adapter) exists, else an empty dict."""
    summary_file = output_dir / SUMMARY_FILE
    saved = (model_dir / "config.json").is_file() or (model_dir / "adapter_config.json").is_file()
    if summary_file.is_file() and saved:
        return dict(srsly.read_json(summary_file))
    return {}


def peek_start(output_dir: Path) -> int:
    """The step the newest checkpoint ends at (read before the engine loads it)."""
    latest = checkpoints.latest_checkpoint(output_dir)
    return int(checkpoints.read_state(latest)["step"]) if latest else 0
