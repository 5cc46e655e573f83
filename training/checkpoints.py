"""Resumable checkpoints: saved atomically, the last K kept, the newest found.

A checkpoint is ``<output_dir>/checkpoints/step_00000042/`` holding DeepSpeed's
engine state (model, optimizer, lr scheduler: ``engine.save_checkpoint``) and
``trainer_state.json`` (step, data position, the settings that must not change
on resume). Every process writes into a hidden ``.step_N.part`` folder; only
when all are done does rank 0 write ``trainer_state.json`` and rename the folder,
so a run killed during a save leaves a ``.part`` folder that is ignored and
removed, never a checkpoint that a rerun would trust.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> latest_checkpoint(root) is None
    True
"""
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

import srsly

from spacy_knowcoder.errors import Errors, Warnings, warn
from spacy_knowcoder.fileio import write_json

STATE_FILE = "trainer_state.json"
TAG = "engine"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def checkpoint_root(output_dir: Union[str, Path]) -> Path:
    """The folder that holds a run's checkpoints."""
    return Path(output_dir) / "checkpoints"


def step_dir_name(step: int) -> str:
    """``step_00000042`` for step 42 (sorts by name)."""
    return f"step_{step:08d}"


def latest_checkpoint(output_dir: Union[str, Path]) -> Optional[Path]:
    """The newest complete checkpoint of a run, or None.

    A folder counts only with its trainer_state.json (written last).
    """
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return None
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
        elif child.name.startswith(".step_") and child.name.endswith(".part"):
            warn(Warnings.W301.format(path=child, reason="no trainer_state.json"))
    return max(found)[1] if found else None


def read_state(checkpoint: Union[str, Path]) -> Dict[str, Any]:
    """The trainer state saved with a checkpoint."""
    return srsly.read_json(Path(checkpoint) / STATE_FILE)


def check_compatible(checkpoint: Path, state: Dict[str, Any], current: Dict[str, Any]) -> None:
    """Raise E315 when a setting that shapes the run differs from the checkpoint's."""
    saved = state.get("fingerprint", {})
    for key, value in current.items():
        if key in saved and saved[key] != value:
            raise ValueError(Errors.E315.format(path=checkpoint, what=key, saved=saved[key], current=value))


def save_checkpoint(engine: Any, output_dir: Union[str, Path], step: int, state: Dict[str, Any],
                    keep: int, rank: int, barrier: Callable[[], None]) -> Path:
    """Save engine and trainer state for ``step``; every process must call this.

    engine: A DeepSpeed engine. state (Dict): JSON-able trainer state.
    keep (int): How many checkpoints to keep (older ones are removed).
    rank (int): The global rank; rank 0 finalizes. barrier: Synchronizes ranks.
    RETURNS (Path): The final checkpoint folder.
    """
    root = checkpoint_root(output_dir)
    final = root / step_dir_name(step)
    tmp = root / f".{final.name}.part"
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier()
    engine.save_checkpoint(str(tmp), tag=TAG, save_latest=False)
    barrier()
    if rank == 0:
        write_json(tmp / STATE_FILE, {**state, "step": step})
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        _prune(root, keep)
    barrier()
    return final


def _prune(root: Path, keep: int) -> None:
    steps = sorted(c for c in root.iterdir() if _STEP_DIR.match(c.name))
    for old in steps[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for part in root.glob(".step_*.part"):
        shutil.rmtree(part, ignore_errors=True)


def load_checkpoint(engine: Any, checkpoint: Path) -> Tuple[Dict[str, Any], Any]:
    """Restore engine state (model, optimizer, scheduler) from a checkpoint.

    RETURNS (Tuple[Dict, Any]): The trainer state and DeepSpeed's client state.
    """
    path, client = engine.load_checkpoint(str(checkpoint), tag=TAG, load_optimizer_states=True,
                                          load_lr_scheduler_states=True)
    if path is None:
        raise ValueError(Errors.E315.format(path=checkpoint, what="engine state", saved="missing",
                                            current="required"))
    return read_state(checkpoint), client
