"""Statistics written next to each training-data file (``<name>.stats.json``).

Counts per task, dataset and kind, the share of empty answers and character
length statistics (token-free, so they do not depend on a tokenizer).

Example:
    >>> rows = [{"prompt": "ab", "response": "results = []", "task": "ner", "dataset": "x"}]
    >>> sft_stats(rows)["empty_answer_share"]
    1.0
"""
import statistics
from collections import Counter
from typing import Any, Dict, List, Sequence

from .responses import EMPTY


def length_stats(lengths: Sequence[int]) -> Dict[str, float]:
    """min / mean / median / p95 / max of character lengths."""
    if not lengths:
        return {"min": 0, "mean": 0.0, "median": 0.0, "p95": 0, "max": 0}
    ordered = sorted(lengths)
    return {"min": ordered[0], "mean": round(statistics.fmean(ordered), 1),
            "median": float(statistics.median(ordered)),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1]}


def sft_stats(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Statistics of SFT samples."""
    empty = [r for r in rows if r["response"] == EMPTY]
    by_task: Dict[str, Counter] = {}
    for r in rows:
        by_task.setdefault(r["task"], Counter())[r["dataset"]] += 1
    return {
        "samples": len(rows),
        "per_task": dict(Counter(r["task"] for r in rows)),
        "per_dataset": dict(Counter(r["dataset"] for r in rows)),
        "per_task_dataset": {t: dict(c) for t, c in by_task.items()},
        "empty_answer_share": round(len(empty) / len(rows), 4) if rows else 0.0,
        "empty_per_task": dict(Counter(r["task"] for r in empty)),
        "prompt_chars": length_stats([len(r["prompt"]) for r in rows]),
        "response_chars": length_stats([len(r["response"]) for r in rows]),
        "total_chars": length_stats([len(r["prompt"]) + len(r["response"]) for r in rows]),
    }


def pretrain_stats(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Statistics of pretraining documents."""
    kinds: Dict[str, List[int]] = {}
    for r in rows:
        kinds.setdefault(r["kind"], []).append(len(r["text"]))
    return {
        "documents": len(rows),
        "per_kind": {k: len(v) for k, v in kinds.items()},
        "per_source": dict(Counter(r["source"] for r in rows)),
        "chars": length_stats([len(r["text"]) for r in rows]),
        "chars_per_kind": {k: length_stats(v) for k, v in kinds.items()},
        "total_chars": sum(len(r["text"]) for r in rows),
    }
