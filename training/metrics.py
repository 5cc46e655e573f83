"""Metrics to JSONL, a progress bar and the final summary of a training run.

Each logged step is one JSON line ``{"step", "loss", "lr", "tokens",
"tokens_per_second", "elapsed"}`` in ``<output_dir>/metrics.jsonl``. Lines are
appended and flushed as they are written; on resume, lines past the
checkpoint's step are dropped first (the file is rewritten atomically), so the
file always describes one consistent run.

Example:
    >>> import tempfile, pathlib
    >>> log = MetricsLog(pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl", total=2, progress=False)
    >>> log.log(1, loss=2.5, lr=1e-4, tokens=512)["tokens"]
    512
    >>> log.close()
    >>> [r["step"] for r in read_metrics(log.path)]
    [1]
"""
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from spacy_knowcoder.fileio import write_jsonl


def read_metrics(path: Union[str, Path]) -> List[Dict[str, Any]]:
    """The complete lines of a metrics file (a torn last line is skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a kill; the step is logged again after resume
    return rows


class MetricsLog:
    """Append metric lines and drive a tqdm bar (quiet off a TTY or when disabled).

    path (Path): The JSONL file.
    total (int): Total optimizer steps, for the bar.
    start_step (int): The step a resumed run starts after; later lines are dropped.
    progress (bool): Show a bar (only when stderr is a TTY).
    enabled (bool): False on non-zero ranks: nothing is written.
    """

    def __init__(self, path: Union[str, Path], total: int, start_step: int = 0, progress: bool = True,
                 enabled: bool = True, desc: str = "train"):
        self.path = Path(path)
        self.enabled = enabled
        self.start_time = time.perf_counter()
        self.tokens = 0
        self.window_tokens = 0
        self.window_start = self.start_time
        self.bar: Optional[Any] = None
        if not enabled:
            return
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= start_step]
        write_jsonl(self.path, kept)
        self.handle = self.path.open("a", encoding="utf-8")
        if progress and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start_step, desc=desc, unit="step", dynamic_ncols=True)

    def add_tokens(self, n: int) -> None:
        """Count tokens processed since the last logged line."""
        self.tokens += n
        self.window_tokens += n

    def log(self, step: int, loss: float, lr: float, tokens: int = 0, **extra: Any) -> Dict[str, Any]:
        """Write one line; ``tokens`` are added to the running counts first."""
        self.add_tokens(tokens)
        now = time.perf_counter()
        record = {"step": step, "loss": round(float(loss), 6), "lr": float(lr), "tokens": self.tokens,
                  "tokens_per_second": round(self.window_tokens / max(now - self.window_start, 1e-9), 2),
                  "elapsed": round(now - self.start_time, 3), **extra}
        self.window_tokens, self.window_start = 0, now
        if self.enabled:
            self.handle.write(json.dumps(record) + "\n")
            self.handle.flush()
            if self.bar is not None:
                self.bar.update(step - self.bar.n)
                self.bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{record['tokens_per_second']:.0f}")
        return record

    def summary(self) -> Dict[str, Any]:
        """Tokens and tokens per second of this process since it started."""
        elapsed = time.perf_counter() - self.start_time
        return {"tokens": self.tokens, "seconds": round(elapsed, 3),
                "tokens_per_second": round(self.tokens / max(elapsed, 1e-9), 2)}

    def close(self) -> None:
        """Close the file and the bar."""
        if self.enabled:
            self.handle.close()
            if self.bar is not None:
                self.bar.close()
