"""Which score should type a gold mention? Variants of typing by score on gold spans.

The typing stage (docs/inference.md §8) scores ``log p(\\tClass("mention") | prompt
+ "results = [\\n")`` for every candidate class and, with ``calibrate`` on,
subtracts the same class's score under a content-free sentence. This benchmark
types every gold mention of each set (one prompt per record, all its classes)
under five scores, and reports type accuracy and the majority-class share:

- ``raw``: the score as is (``calibrate = false``);
- ``calibrated``: minus the content-free score (``calibrate = true``, the default;
  Zhao et al. 2021, arXiv 2102.09690);
- ``likelihood``: minus ``log p(\\tClass(" | prompt)``, the class prior in this very
  prompt, leaving ``log p(mention | class, prompt)`` (a generative classifier;
  compare domain-conditional PMI, Holtzman et al. 2021, arXiv 2104.08315);
- ``likelihood_calibrated``: the likelihood minus its content-free counterpart;
- ``batch_calibrated``: raw scores normalised over the classes, minus the log of
  each class's mean probability over all the set's mentions (batch calibration,
  Zhou et al. 2024, arXiv 2309.17249).

Choose on development sets (``--split dev``: evaluation splits of the training
sets, which the profile does not train on); ``--split heldout`` only reports.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/typing_scores.py --model knowcoder-x-smol \\
        --data-dir training/multilingual/data --split dev --limit 50
    python benchmarks/typing_scores.py --sets sec_filings --limit 5   # quick check
"""
import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from spacy_knowcoder.answer import ITEM_INDENT, RESULTS_OPEN, entity_item  # noqa: E402
from spacy_knowcoder.class_scoring import CONTENT_FREE_TEXT, score_requests  # noqa: E402
from spacy_knowcoder.corpora.benchmark import read_benchmark, read_label_file  # noqa: E402
from spacy_knowcoder.evaluation.evaluate import load_pipeline  # noqa: E402

LABELS = REPO / "spacy_knowcoder" / "corpora" / "labels"
#: Development NER sets with two or more classes (English first).
DEV_SETS = ("multiconer2_en", "broad_twitter_corpus", "litbank", "sec_filings", "bionlp11id",
            "bc5cdr", "universal_ner_da", "conll2002_es", "resume_ner", "universal_ner_zh")
VARIANTS = ("raw", "calibrated", "likelihood", "likelihood_calibrated", "batch_calibrated")


def label_file(name: str) -> Path:
    """The label file of a set (``universal_ner_da`` uses ``universal_ner.json``)."""
    path = LABELS / f"{name}.json"
    return path if path.exists() else LABELS / f"{name.rsplit('_', 1)[0]}.json"


def run_set(model: str, name: str, args: argparse.Namespace) -> Dict[str, Any]:
    labels = read_label_file(label_file(name))
    gold = read_benchmark(args.data_dir / args.split / f"{name}.jsonl", limit=args.limit)
    nlp, pipe_name = load_pipeline(model, labels, ["ner"], batch_size=8, max_new_tokens=8,
                                   settings={"typing": "score"})
    pipe = nlp.get_pipe(pipe_name)
    extractor, generator = pipe.extractor, pipe.generator
    class_of = {t.label: t.class_name for t in pipe.schema.entities}
    clock = time.perf_counter()
    rows: List[Dict[str, Any]] = []  # per gold mention: score lists and the gold index
    content_free = None
    for record in gold:
        mentions = [(e["text"], class_of[e["label"]]) for e in record["entities"]
                    if e["label"] in class_of]
        if not mentions:
            continue
        doc = nlp.make_doc(record["text"])
        job = extractor.jobs("ner", [extractor.start(doc, [doc[:]])])[0]
        classes = list(job.classes)
        texts = list(dict.fromkeys(text for text, _ in mentions))
        prompt = job.prompt + RESULTS_OPEN
        requests = [(prompt, [ITEM_INDENT + entity_item(c, t) for t in texts for c in classes]),
                    (prompt, [ITEM_INDENT + c + '("' for c in classes])]
        if content_free is None:
            free = extractor.content_free_prompt(job) + RESULTS_OPEN
            requests += [(free, [ITEM_INDENT + entity_item(c, CONTENT_FREE_TEXT)
                                 for c in classes]),
                         (free, [ITEM_INDENT + c + '("' for c in classes])]
        answers = score_requests(generator, requests)
        if content_free is None:
            content_free = (answers[2], answers[3])
        full, prior = answers[0], answers[1]
        free_full, free_prior = content_free
        width = len(classes)
        for k, text in enumerate(texts):
            raw = full[k * width:(k + 1) * width]
            scores = {
                "raw": raw,
                "calibrated": [r - f for r, f in zip(raw, free_full)],
                "likelihood": [r - p for r, p in zip(raw, prior)],
                "likelihood_calibrated": [r - p - (f - fp) for r, p, f, fp
                                          in zip(raw, prior, free_full, free_prior)],
            }
            for mention_text, gold_class in mentions:
                if mention_text == text:
                    rows.append({**scores, "gold": classes.index(gold_class)})
    for row, adjusted in zip(rows, batch_calibrated([row["raw"] for row in rows])):
        row["batch_calibrated"] = adjusted
    result: Dict[str, Any] = {"model": model, "set": name, "mentions": len(rows),
                              "classes": len(class_of)}
    for variant in VARIANTS:
        best = [max(range(len(row[variant])), key=row[variant].__getitem__) for row in rows]
        right = sum(b == row["gold"] for b, row in zip(best, rows))
        result[f"acc_{variant}"] = _share(right, len(rows))
        result[f"majority_{variant}"] = _share(max(Counter(best).values(), default=0), len(rows))
    result["majority_gold"] = _share(max(Counter(r["gold"] for r in rows).values(), default=0),
                                     len(rows))
    result["seconds"] = round(time.perf_counter() - clock, 1)
    return result


def batch_calibrated(rows: Sequence[Sequence[float]]) -> List[List[float]]:
    """Log-softmax of each row minus the log of each class's mean probability.

    Example:
        >>> [[round(v, 2) for v in r] for r in batch_calibrated([[0.0, 0.0], [0.0, -9.0]])]
        [[-0.41, 0.69], [0.29, -7.61]]
    """
    if not rows:
        return []
    normed = [_log_softmax(row) for row in rows]
    width = len(normed[0])
    means = [math.log(sum(math.exp(n[j]) for n in normed) / len(normed)) for j in range(width)]
    return [[v - m for v, m in zip(n, means)] for n in normed]


def _log_softmax(row: Sequence[float]) -> List[float]:
    top = max(row)
    total = math.log(sum(math.exp(v - top) for v in row)) + top
    return [v - total for v in row]


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def markdown(rows: Sequence[Dict[str, Any]]) -> str:
    head = ("| model | set | mentions | " + " | ".join(VARIANTS) + " | majority: "
            + " / ".join(VARIANTS) + " / gold |")
    lines = [head, "|" + "---|" * 3 + "---:|" * (len(VARIANTS) + 1)]
    for row in rows + _means(rows):
        lines.append(f"| {row['model']} | {row['set']} | {row['mentions']} | "
                     + " | ".join(f"{row[f'acc_{v}']:.1f}" for v in VARIANTS) + " | "
                     + " / ".join(f"{row[f'majority_{v}']:.1f}" for v in VARIANTS + ("gold",))
                     + " |")
    return "\n".join(lines) + "\n"


def _means(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        mean = {"model": model, "set": "**mean**", "mentions": sum(r["mentions"] for r in mine)}
        for key in [k for k in mine[0] if k.startswith(("acc_", "majority_"))]:
            mean[key] = sum(r[key] for r in mine) / len(mine)
        out.append(mean)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="knowcoder-x-smol")
    parser.add_argument("--data-dir", type=Path, default=REPO / "training/multilingual/data")
    parser.add_argument("--split", choices=("dev", "heldout"), default="dev")
    parser.add_argument("--sets", nargs="+", default=list(DEV_SETS))
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/typing_scores")
    args = parser.parse_args()
    rows = []
    for name in args.sets:
        row = run_set(args.model, name, args)
        if row["classes"] < 2:
            continue
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"typing_scores_{args.split}.json").write_text(
        json.dumps({"limit": args.limit, "split": args.split, "rows": rows}, indent=1))
    (args.out / f"typing_scores_{args.split}.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
