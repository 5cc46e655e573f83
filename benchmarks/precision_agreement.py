"""float32 against bfloat16 on real prompts: identical greedy outputs and held-out F1.

The component (default settings otherwise: constrained decoding, typing by
score) runs the first ``--limit`` records of each held-out NER set twice, once
with ``dtype = "float32"`` and once with ``dtype = "bfloat16"``, keeping the
completions. Reported per set: the share of documents whose completions are the
same in both, strict NER F1 in each dtype, and seconds. Needs the held-out files
of ``python -m training build-data training/configs/long.cfg`` (or
``--heldout`` with another profile's ``data/heldout``: the files are the same).

Usage:
    OMP_NUM_THREADS=2 python benchmarks/precision_agreement.py --limit 50
    python benchmarks/precision_agreement.py --sets re3d --limit 5  # quick
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from spacy_knowcoder.corpora.benchmark import read_benchmark, read_label_file  # noqa: E402
from spacy_knowcoder.evaluation.evaluate import load_pipeline  # noqa: E402
from spacy_knowcoder.evaluation.gold_docs import doc_to_record  # noqa: E402
from spacy_knowcoder.evaluation.metrics import score_records  # noqa: E402
from spacy_knowcoder.extensions import DIAGNOSTICS  # noqa: E402
from class_following import HELDOUT, LABELS, SETS  # noqa: E402  (the same sets and files)

DTYPES = ("float32", "bfloat16")


def run(model: str, name: str, dtype: str, args: argparse.Namespace) -> Dict[str, Any]:
    """Predictions, completions per doc, F1 and seconds of one set in one dtype."""
    labels = read_label_file(LABELS / f"{name}.json")
    gold = read_benchmark(args.heldout / f"{name}.jsonl", limit=args.limit)
    nlp, pipe = load_pipeline(model, labels, ["ner"], batch_size=args.batch_size,
                              max_new_tokens=args.max_new_tokens,
                              settings={"dtype": dtype, "store_completions": True})
    spans_key = nlp.get_pipe(pipe).cfg["spans_key"]
    started = time.perf_counter()
    docs = list(nlp.pipe((nlp.make_doc(r["text"]) for r in gold), batch_size=args.batch_size))
    seconds = time.perf_counter() - started
    predicted = [doc_to_record(doc, r["id"], spans_key=spans_key) for doc, r in zip(docs, gold)]
    completions = [json.dumps(doc._.get(DIAGNOSTICS).get("completions"), sort_keys=True)
                   for doc in docs]
    f1 = score_records(list(zip(gold, predicted)), ["ner"])["ner_strict"]["f"]
    return {"predicted": predicted, "completions": completions, "f1": round(100 * f1, 1),
            "seconds": round(seconds, 1)}


def _spans(record: Dict[str, Any]) -> list:
    """A prediction's entities without their scores (which differ in the last bits)."""
    return sorted((e["start"], e["end"], e["label"]) for e in record["entities"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="knowcoder-smol")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--heldout", type=Path, default=HELDOUT,
                        help="folder of the held-out JSONL files (any profile's build-data)")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / "precision_agreement.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name in args.sets:
        runs = {dtype: run(args.model, name, dtype, args) for dtype in DTYPES}
        pairs = list(zip(runs["float32"]["completions"], runs["bfloat16"]["completions"]))
        same = sum(a == b for a, b in pairs)
        same_entities = sum(_spans(a) == _spans(b) for a, b in
                            zip(runs["float32"]["predicted"], runs["bfloat16"]["predicted"]))
        row = {"set": name, "docs": len(pairs),
               "same_completions_pct": round(100 * same / len(pairs), 1),
               "same_entities_pct": round(100 * same_entities / len(pairs), 1),
               **{f"f1_{d}": runs[d]["f1"] for d in DTYPES},
               **{f"seconds_{d}": runs[d]["seconds"] for d in DTYPES}}
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "limit": args.limit, "rows": rows},
                                   indent=1))


if __name__ == "__main__":
    main()
