"""Benchmark learned candidate selection: gold recall on many datasets, and speed, at 30k classes.

The library: every class built from ``../shared/data`` (``build_from_shared_data``),
plus the entity and relation labels of every dataset in the catalog (with the
descriptions of their label files; a label that names an existing class is that
class), padded with synthetic distractor entity classes to ``--classes``
(``schema_selection.synthetic_entities``). Priors are fair as in
``schema_selection.py``: each class's count is its number of mentions in the
*training* splits, and every class without one (the distractors included) gets
a count drawn from those real counts, so having a count marks nothing.

The rankers (``ClassRanker``, one per kind) are trained on the training splits
of the datasets that are not held out (``knowcoder schema train-ranker`` does
the same from JSONL files). Recall of the gold class among the selected
candidates is measured on each dataset's evaluation split, held-out datasets
included (their classes have no training data, so only lexical hits and
priors can find them), for:

- ``lexical_selection.v1`` (the default without a ranker),
- priors only,
- ``learned_selection.v1`` (ranker 0.5, lexical 0.25, priors the rest),
- the ranker alone (learned_share 1.0), at the default 96 candidates and at 16
  (one prompt's budget). Fewer entity classes have training data than the 96
  candidates, so at 96 the ranker alone holds every one of them; the 16-class
  row shows how well it ranks.

Latency: median and p95 of full selector calls (retrieval and the split into
prompt schemas) over ``--sentences`` MultiCoNER II dev sentences.

    python benchmarks/learned_selection.py --data-root ../shared/data --output benchmarks/results/selection/learned.json
"""
import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from schema_selection import big_library, latency

from spacy_knowcoder.corpora.catalog import CATALOG, LABELS_DIR, read_dataset
from spacy_knowcoder.schema.builders.shared_data import build_from_shared_data
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.ranker import ClassRanker
from spacy_knowcoder.schema.selection import (
    LearnedSelector,
    LexicalPolicy,
    SelectionSettings,
)

KIND_OF_TASK = {"ner": ("entity", "entities", "entity_labels"),
                "re": ("relation", "relations", "relation_labels")}
Example = Tuple[str, List[str]]


def add_dataset_classes(lib: SchemaLibrary, kind: str, label_field: str) -> Dict[str, str]:
    """Add the labels of every catalog dataset as classes; RETURNS label -> key."""
    keys: Dict[str, str] = {}
    for name in CATALOG:
        path = LABELS_DIR / f"{name}.json"
        if not path.exists():
            continue
        for label, description in json.loads(path.read_text("utf-8")).get(label_field,
                                                                          {}).items():
            key = lib.resolve(label, kind)
            if key is None:
                key = lib.add(LibraryClass(kind, f"label:{label}", label, description))
            keys[label] = key
    return keys


def examples(name: str, split: str, task: str, root: Path, keys: Dict[str, str],
             limit: int, part: str = "all") -> List[Example]:
    """(text, gold keys, one per mention) of a dataset split, at most ``limit``.

    part (str): "train" (records 1-4 of every 5), "eval" (record 5 of every 5)
        or "all"; for datasets whose training and evaluation split is one file.
    """
    field = KIND_OF_TASK[task][1]
    out: List[Example] = []
    for i, record in enumerate(read_dataset(name, split, root)):
        if (part == "train" and i % 5 == 4) or (part == "eval" and i % 5 != 4):
            continue
        gold = [keys[m["label"]] for m in record[field] if m["label"] in keys]
        if gold:
            out.append((record["text"], gold))
        if limit and len(out) >= limit:
            break
    return out


def parts(info: object) -> Tuple[str, str]:
    """(training part, evaluation part): disjoint fifths when both splits are one file."""
    same = info.train_split == info.eval_split  # type: ignore[attr-defined]
    return ("train", "eval") if same else ("all", "all")


def recall(selector: object, task: str, data: Sequence[Example]) -> float:
    hit = total = 0
    for text, gold in data:
        chosen = set(selector.candidates(task, text))  # type: ignore[attr-defined]
        hit += sum(key in chosen for key in gold)
        total += len(gold)
    return round(hit / max(1, total), 4)


def set_priors(lib: SchemaLibrary, kind: str, train: Iterable[Example], seed: int) -> int:
    """Counts from the training mentions; every other class draws one from them."""
    counts = Counter(key for _, gold in train for key in gold)
    pool = sorted(counts.values())
    rng = random.Random(seed)
    for key in lib.keys(kind):
        lib.update(key, count=counts.get(key) or rng.choice(pool))
    return len(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--classes", type=int, default=30000)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--train-limit", type=int, default=5000,
                        help="Records per training split (0: all).")
    parser.add_argument("--eval-limit", type=int, default=1000,
                        help="Records per evaluation split (0: all).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    root = args.data_root
    base, _ = build_from_shared_data(root)
    settings = SelectionSettings()
    learned = SelectionSettings(learned_share=0.5, lexical_share=0.25)
    compared = {"lexical_selection.v1": SelectionSettings(),
                "priors only": SelectionSettings(lexical_share=0.0),
                "learned_selection.v1": learned,
                "ranker only": SelectionSettings(learned_share=1.0, lexical_share=0.0),
                "ranker only, 16 candidates (one prompt)": SelectionSettings(
                    max_candidates=16, learned_share=1.0, lexical_share=0.0)}
    results: Dict[str, object] = {"settings": settings.__dict__,
                                  "train_limit": args.train_limit,
                                  "eval_limit": args.eval_limit}
    for task in ("ner", "re"):
        kind, _, label_field = KIND_OF_TASK[task]
        lib = big_library(base, args.classes) if task == "ner" else SchemaLibrary(base)
        keys = add_dataset_classes(lib, kind, label_field)
        datasets = [d for d in CATALOG.values() if task in d.tasks]
        train: List[Example] = []
        start = time.perf_counter()
        for info in datasets:
            if not info.held_out:
                train += examples(info.name, info.train_split, task, root, keys,
                                  args.train_limit, parts(info)[0])
        ranker = ClassRanker.train(kind, train)
        train_s = time.perf_counter() - start
        trained_classes = set_priors(lib, kind, train, args.seed)
        part: Dict[str, object] = {
            "classes": len(lib.keys(kind)), "classes_with_training_data": trained_classes,
            "training_texts": len(train), "ranker_features": len(ranker.postings),
            "read_and_train_s": round(train_s, 2)}
        selectors = {name: (LearnedSelector(lib, s, {kind: ranker}) if s.learned_share
                            else LexicalPolicy(s).bind(lib))
                     for name, s in compared.items()}
        per_dataset: Dict[str, Dict[str, object]] = {}
        totals: Dict[str, List[float]] = {name: [0, 0] for name in compared}
        for info in datasets:
            data = examples(info.name, info.eval_split, task, root, keys, args.eval_limit,
                            parts(info)[1])
            mentions = sum(len(g) for _, g in data)
            row: Dict[str, object] = {"held_out": info.held_out, "split": info.eval_split,
                                      "gold_mentions": mentions}
            for name, selector in selectors.items():
                r = recall(selector, task, data)
                row[name] = r
                if not info.held_out:
                    totals[name][0] += r * mentions
                    totals[name][1] += mentions
            per_dataset[info.name] = row
            print(task, info.name, row, file=sys.stderr)
        part["recall_per_dataset"] = per_dataset
        part["recall_seen_datasets_micro"] = {
            name: round(hit / max(1, n), 4) for name, (hit, n) in totals.items()}
        if task == "ner":
            texts = [t for t, _ in examples("multiconer2_en", "dev", "ner", root, keys,
                                            args.sentences)]
            texts = (texts * (args.sentences // max(1, len(texts)) + 1))[:args.sentences]
            selector = selectors["learned_selection.v1"]
            start = time.perf_counter()
            selector.index(kind).build()  # type: ignore[attr-defined]
            part["lexical_index_build_s"] = round(time.perf_counter() - start, 2)
            part[f"latency_learned_selection_{len(texts)}_sentences"] = latency(
                selector, texts)  # type: ignore[arg-type]
            part[f"latency_lexical_selection_{len(texts)}_sentences"] = latency(
                selectors["lexical_selection.v1"], texts)  # type: ignore[arg-type]
        results[task] = part
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
