"""Decode steps that ``stop_repeats`` saves on the held-out NER sets, and what it costs in F1.

For each held-out NER set (``training/long/data/heldout``) the component runs
twice on the first ``--limit`` records, with ``stop_repeats`` off and on (same
model, same settings otherwise): new tokens decoded, rows closed at a repeat,
seconds and strict NER F1. ``--split 1`` asks one class per prompt, where
small models loop most.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/repeat_stops.py --limit 50
    OMP_NUM_THREADS=2 python benchmarks/repeat_stops.py --limit 20 --split 1
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from spacy_knowcoder.corpora.benchmark import read_benchmark, read_label_file  # noqa: E402
from spacy_knowcoder.evaluation.evaluate import load_pipeline, predict  # noqa: E402
from spacy_knowcoder.evaluation.metrics import HEADLINE, score_records  # noqa: E402

HELDOUT = REPO / "training" / "long" / "data" / "heldout"
LABELS = REPO / "spacy_knowcoder" / "corpora" / "labels"


def run(model: str, name: str, stop: bool, args: argparse.Namespace) -> Dict[str, Any]:
    labels = read_label_file(LABELS / f"{name}.json")
    gold = read_benchmark(HELDOUT / f"{name}.jsonl", limit=args.limit)
    settings: Dict[str, Any] = {"stop_repeats": stop}
    if args.split:
        settings["selection"] = {"@misc": "spacy_knowcoder.split_selection.v1",
                                 "budget": args.split}
    nlp, pipe_name = load_pipeline(model, labels, ["ner"], batch_size=8,
                                   max_new_tokens=args.max_new_tokens, settings=settings)
    pipe = nlp.get_pipe(pipe_name)
    pipe.initialize()
    start = time.perf_counter()
    predicted = predict(nlp, pipe_name, gold, gold_triggers=False, progress=False)
    seconds = time.perf_counter() - start
    f1 = score_records(list(zip(gold, predicted)), ["ner"])[HEADLINE["ner"]]["f"]
    stats = pipe.generator.decoder.stats
    return {"set": name, "stop_repeats": stop, "docs": len(gold), "f1": round(100 * f1, 1),
            "new_tokens": stats["new_tokens"], "repeat_stops": stats["repeat_stops"],
            "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="knowcoder-smol")
    parser.add_argument("--sets", nargs="+", default=["re3d", "anem", "gum", "wnut17"])
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--split", type=int, default=0, help="prompts of at most N classes")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "repeat_stops")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name in args.sets:
        for stop in (False, True):
            row = run(args.model, name, stop, args)
            print(json.dumps(row), flush=True)
            rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    tag = f"split{args.split}" if args.split else "whole"
    (args.out / f"repeat_stops_{tag}.json").write_text(json.dumps(
        {"model": args.model, "limit": args.limit, "split": args.split, "rows": rows}, indent=1))
    print(_table(rows))


def _table(rows: Any) -> str:
    lines = ["| set | new tokens off / on | saved | rows closed at a repeat | F1 off / on | s off / on |",
             "|---|---:|---:|---:|---:|---:|"]
    for off, on in zip(rows[::2], rows[1::2]):
        saved: Optional[float] = (1 - on["new_tokens"] / off["new_tokens"]) if off["new_tokens"] else None
        lines.append(f"| {off['set']} | {off['new_tokens']} / {on['new_tokens']} | "
                     f"{'-' if saved is None else f'{100 * saved:.0f}%'} | {on['repeat_stops']} | "
                     f"{off['f1']} / {on['f1']} | {off['seconds']} / {on['seconds']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
