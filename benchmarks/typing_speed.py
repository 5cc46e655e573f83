"""What the typing stage costs: docs/s with ``typing = "generate"`` against ``"score"``.

Runs the knowcoder component (``nlp.pipe``, default settings otherwise) over the
first ``--limit`` records of each held-out NER set (``training/long/data/heldout``,
built by ``python -m training build-data training/configs/long.cfg``) twice on
one loaded model: once typing by generation, once re-typing every generated
mention by calibrated class scoring. Generation is greedy, so both runs
generate the same text; the difference is the stage. One batch is run first
in each mode so that neither pays for the schema prefix's cache.

Reports per set: seconds and docs/s of each mode, the stage's share of
generation time (the issue's bar is 30%), how many items were scored, and
strict NER F1 of each mode against the gold records (the same spans, typed
two ways), and whether the scores mean something: the precision of scored
entities with score >= 0.5 against the rest (pooled over the sets too).
Writes ``typing_speed.json`` and ``typing_speed.md`` to ``--out``.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/typing_speed.py --limit 100
    python benchmarks/typing_speed.py --sets re3d --limit 16  # quick
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from spacy_knowcoder.corpora.benchmark import read_benchmark, read_label_file  # noqa: E402
from spacy_knowcoder.evaluation.evaluate import load_pipeline  # noqa: E402
from spacy_knowcoder.evaluation.gold_docs import doc_to_record  # noqa: E402
from spacy_knowcoder.evaluation.metrics import HEADLINE, score_records  # noqa: E402

HELDOUT = REPO / "training" / "long" / "data" / "heldout"
LABELS = REPO / "spacy_knowcoder" / "corpora" / "labels"
SETS = ("re3d", "anem", "gum", "wnut17")
#: Scores at or above it count as confident (the issue's test of meaningful scores).
CONFIDENT = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--model", default="knowcoder-smol")
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "typing_speed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = [run_set(name, args) for name in args.sets]
    total_gen = sum(r["generate"]["seconds"] for r in rows)
    total_score = sum(r["score"]["seconds"] for r in rows)
    summary = {"generate_seconds": round(total_gen, 1), "score_seconds": round(total_score, 1),
               "stage_share": round((total_score - total_gen) / total_gen, 3),
               "f1_generate": round(sum(r["generate"]["f1"] for r in rows) / len(rows), 1),
               "f1_score": round(sum(r["score"]["f1"] for r in rows) / len(rows), 1),
               "by_score": {side: [sum(r["score"]["by_score"][side][k] for r in rows)
                                   for k in (0, 1)] for side in ("high", "low")}}
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"model": args.model, "limit": args.limit, "batch_size": args.batch_size,
              "max_new_tokens": args.max_new_tokens, "rows": rows, "total": summary}
    (args.out / "typing_speed.json").write_text(json.dumps(report, indent=1))
    (args.out / "typing_speed.md").write_text(markdown(report))
    print(markdown(report))


def run_set(name: str, args: argparse.Namespace) -> Dict[str, Any]:
    labels = read_label_file(LABELS / f"{name}.json")
    gold = read_benchmark(args.heldout / f"{name}.jsonl", limit=args.limit)
    texts = [r["text"] for r in gold]
    pipelines = {}
    generator = None
    for typing in ("generate", "score"):
        nlp, pipe_name = load_pipeline(args.model, labels, ["ner"], batch_size=args.batch_size,
                                       max_new_tokens=args.max_new_tokens,
                                       settings={"typing": typing})
        pipe = nlp.get_pipe(pipe_name)
        if generator is None:
            generator = pipe.generator
        pipe.generator = generator  # one model: the same weights and prefix cache
        list(nlp.pipe(texts[:args.batch_size], batch_size=args.batch_size))  # warm-up
        pipelines[typing] = nlp
    row: Dict[str, Any] = {"set": name, "docs": len(texts)}
    for typing, nlp in pipelines.items():
        started = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        seconds = time.perf_counter() - started
        predicted = [doc_to_record(doc, record["id"]) for doc, record in zip(docs, gold)]
        f1 = score_records(list(zip(gold, predicted)), ["ner"])[HEADLINE["ner"]]["f"]
        row[typing] = {"seconds": round(seconds, 2), "docs_per_s": round(len(texts) / seconds, 3),
                       "entities": sum(len(d.ents) for d in docs), "f1": round(100 * f1, 1)}
        if typing == "score":
            row[typing]["scored_items"] = sum(
                d._.knowcoder_diagnostics.get("typing", {}).get("scored", 0) for d in docs)
            row[typing]["by_score"] = precision_by_score(gold, predicted, CONFIDENT)
    row["stage_share"] = round(
        (row["score"]["seconds"] - row["generate"]["seconds"]) / row["generate"]["seconds"], 3)
    print(json.dumps(row), flush=True)
    return row


def precision_by_score(gold: List[Dict[str, Any]], predicted: List[Dict[str, Any]],
                       cut: float) -> Dict[str, List[int]]:
    """[right, total] of scored entities with score >= cut ("high") and below ("low")."""
    buckets = {"high": [0, 0], "low": [0, 0]}
    for g, p in zip(gold, predicted):
        truth = {(e["start"], e["end"], e["label"]) for e in g["entities"]}
        for e in p["entities"]:
            if e.get("score") is None:
                continue
            bucket = buckets["high" if e["score"] >= cut else "low"]
            bucket[0] += int((e["start"], e["end"], e["label"]) in truth)
            bucket[1] += 1
    return buckets


def _precision(bucket: List[int]) -> str:
    return f"{100 * bucket[0] / bucket[1]:.1f} ({bucket[0]}/{bucket[1]})" if bucket[1] else "-"


def markdown(report: Dict[str, Any]) -> str:
    lines = [f"Model {report['model']}, first {report['limit']} records per held-out NER set, "
             f"batch size {report['batch_size']}, max_new_tokens {report['max_new_tokens']}.",
             "", "| set | docs | s generate | s score | docs/s generate | docs/s score "
             "| items scored | stage / generation | F1 generate | F1 score "
             f"| P score >= {CONFIDENT} | P score < {CONFIDENT} |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows: List[Dict[str, Any]] = report["rows"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['docs']} | {r['generate']['seconds']} "
                     f"| {r['score']['seconds']} | {r['generate']['docs_per_s']} "
                     f"| {r['score']['docs_per_s']} | {r['score']['scored_items']} "
                     f"| {100 * r['stage_share']:.1f}% | {r['generate']['f1']} "
                     f"| {r['score']['f1']} | {_precision(r['score']['by_score']['high'])} "
                     f"| {_precision(r['score']['by_score']['low'])} |")
    total = report["total"]
    lines.append(f"| **all** | {sum(r['docs'] for r in rows)} | {total['generate_seconds']} "
                 f"| {total['score_seconds']} | | | | {100 * total['stage_share']:.1f}% "
                 f"| {total['f1_generate']} | {total['f1_score']} "
                 f"| {_precision(total['by_score']['high'])} "
                 f"| {_precision(total['by_score']['low'])} |")
    lines.append("")
    lines.append("The **all** row: seconds summed, F1 the mean over sets, precision pooled.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
