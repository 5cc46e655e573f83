"""Predictions that survive a kill: ``knowcoder evaluate`` writes as it goes.

Each batch of predictions is appended to ``predictions.partial.jsonl`` in the
output folder (flushed to disk) beside ``predictions.partial.json``, which
records what the run is: model, data file and its sha256, limit, tasks, batch
size, max new tokens and settings. A second run with the same run description
keeps the finished batches and predicts from the next one; batches are cut at
the same places as before, so the final predictions are the ones an
uninterrupted run writes. A partial run of other settings is refused (E466)
rather than mixed in or silently overwritten. When all records are predicted,
the partial files become ``predictions.jsonl``.

Example:
    >>> import tempfile, pathlib
    >>> run = PartialPredictions(pathlib.Path(tempfile.mkdtemp()), {"model": "m"}, step=2)
    >>> run.done()
    []
    >>> run.append([{"id": 1}, {"id": 2}])
    >>> PartialPredictions(run.folder, {"model": "m"}, step=2).done()
    [{'id': 1}, {'id': 2}]
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

from ..errors import Errors
from ..fileio import write_json

PARTIAL = "predictions.partial.jsonl"
PARTIAL_RUN = "predictions.partial.json"


class PartialPredictions:
    """The finished batches of one evaluation run in ``folder``.

    folder (Path): The evaluation's output folder.
    run (Mapping[str, Any]): What makes two runs the same (JSON-serialisable).
    step (int): Records per batch; only whole batches are kept on resume.
    """

    def __init__(self, folder: Path, run: Mapping[str, Any], step: int):
        self.folder = Path(folder)
        self.run = json.loads(json.dumps(dict(run), sort_keys=True))
        self.step = max(1, step)
        self.path = self.folder / PARTIAL
        self.run_path = self.folder / PARTIAL_RUN
        self._described = self.path.is_file()
        self._done = self._read()

    def done(self) -> List[Dict[str, Any]]:
        """The predictions kept from an earlier run (whole batches, in order)."""
        return list(self._done)

    def append(self, predictions: Sequence[Mapping[str, Any]]) -> None:
        """Add one batch and flush it to disk."""
        if not self._described:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json(self.run_path, self.run)
            self._described = True
        lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())
        self._done.extend(dict(p) for p in predictions)

    def finish(self) -> None:
        """Remove the partial files (the caller has written ``predictions.jsonl``)."""
        for path in (self.path, self.run_path):
            if path.exists():
                path.unlink()

    def _read(self) -> List[Dict[str, Any]]:
        if not self.path.is_file():
            return []
        saved = json.loads(self.run_path.read_text(encoding="utf-8")) \
            if self.run_path.is_file() else None
        if saved != self.run:
            raise ValueError(Errors.E466.format(folder=self.folder, saved=saved, run=self.run))
        lines = self.path.read_text(encoding="utf-8").split("\n")
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # the line a kill cut short, and everything after it
        keep = len(records) - len(records) % self.step
        records = records[:keep]
        if keep != len([line for line in lines if line]):  # drop what is not kept
            with open(self.path, "w", encoding="utf-8") as handle:
                handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        return records
