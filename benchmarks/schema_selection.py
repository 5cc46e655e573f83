"""Benchmark candidate selection: speed over a 30k-class library and gold recall.

Speed: a library with 30,000 entity classes (the entity classes built from
``../shared/data`` plus synthetic classes whose labels and descriptions are
drawn from the real relation descriptions' vocabulary, with random parents),
and 1,000 real sentences (MultiCoNER II dev); reports the median and p95 time
per sentence of a full selector call (retrieval + split into prompt schemas).

Recall (is the gold class among the selected candidates?):

- NER, MultiCoNER II dev: the library is the 30k-class library plus the 33
  MultiCoNER types (labels from the tag names, no descriptions); the counts
  (priors) of those types come from ``en-train90.conll``, never from dev.
- RE, Re-DocRED test: the library built from ``../shared/data`` (its relation
  counts come from Re-DocRED *dev*); the text is the whole document.

Each recall is reported for the default policy and for ablations (lexical only,
no priors) so the contribution of each part is visible.

    python benchmarks/schema_selection.py --data-root ../shared/data [--sentences 1000]
"""
import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from spacy_knowcoder.schema.builders.shared_data import build_from_shared_data
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.selection import SelectionPolicy, SelectionSettings

Mention = Tuple[str, str]  # (sentence text, gold label)


def read_conll(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """(sentence text, gold labels of its mentions) from a MultiCoNER file."""
    tokens: List[str] = []
    labels: List[str] = []
    for line in list(path.read_text(encoding="utf-8").splitlines()) + [""]:
        if line.startswith("# id"):
            continue
        if not line.strip():
            if tokens:
                yield " ".join(tokens), labels
            tokens, labels = [], []
            continue
        parts = line.split()
        tokens.append(parts[0])
        if parts[-1].startswith("B-"):
            labels.append(parts[-1][2:])


def multiconer_label(tag: str) -> str:
    """A readable label from a tag: "HumanSettlement" -> "human settlement"."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", tag.replace("/", " "))
    expand = {"PER": "person", "LOC": "location", "PROD": "product", "ORG": "organization",
              "GRP": "group", "MED": "medical"}
    return " ".join(expand.get(w, w.lower()) for w in words)


def synthetic_entities(library: SchemaLibrary, n: int, seed: int = 0) -> List[LibraryClass]:
    """Distractor entity classes with real vocabulary and a random taxonomy."""
    rng = random.Random(seed)
    vocab = sorted({w for cls in library for w in re.findall(r"[a-z]{3,}", cls.description)})
    out: List[LibraryClass] = []
    for i in range(n):
        label = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 3)))
        description = " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 14)))
        parents = (out[rng.randrange(len(out))].key,) if out and rng.random() < 0.9 else ()
        out.append(LibraryClass("entity", f"syn:{i}", label, description, parents=parents))
    return out


def big_library(base: SchemaLibrary, total_entities: int) -> SchemaLibrary:
    lib = SchemaLibrary(base)
    missing = total_entities - len(lib.keys("entity"))
    for cls in synthetic_entities(base, max(0, missing)):
        lib.add(cls)
    return lib


def ner_recall(lib: SchemaLibrary, sentences: List[Tuple[str, List[str]]],
               policy: SelectionPolicy) -> float:
    selector = policy.bind(lib)
    hit = total = 0
    for text, labels in sentences:
        chosen = {lib[k].label for k in selector.candidates("ner", text)}
        hit += sum(label in chosen for label in labels)
        total += len(labels)
    return hit / max(1, total)


def re_recall(lib: SchemaLibrary, docs: List[dict], policy: SelectionPolicy) -> float:
    selector = policy.bind(lib)
    hit = total = 0
    for doc in docs:
        text = " ".join(" ".join(s) for s in doc["sents"])
        chosen = set(selector.candidates("re", text))
        for label in doc["labels"]:
            key = lib.resolve(label["r"], "relation")
            hit += key in chosen
            total += 1
    return hit / max(1, total)


def policies(settings: SelectionSettings) -> Dict[str, SelectionPolicy]:
    from dataclasses import replace

    out = {"default": SelectionPolicy(settings),
           "lexical + ancestors only": SelectionPolicy(replace(settings, lexical_share=1.0)),
           "priors only": SelectionPolicy(replace(settings, lexical_share=0.0))}
    for n in (32, 96, 128):
        out[f"default split, max_candidates={n}"] = SelectionPolicy(
            replace(settings, max_candidates=n))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=30000)
    parser.add_argument("--output", type=Path, default=None, help="Write results as JSON.")
    args = parser.parse_args()
    root = args.data_root
    base, _ = build_from_shared_data(root)
    settings = SelectionSettings()
    results: Dict[str, object] = {"settings": settings.__dict__}

    # -- NER library: 30k entity classes + MultiCoNER types with train counts.
    lib = big_library(base, args.classes - 33)
    train_counts = Counter(l for _, ls in read_conll(root / "multiconer2_en/en-train90.conll")
                           for l in ls)
    for tag, count in sorted(train_counts.items()):
        lib.add(LibraryClass("entity", f"multiconer:{tag}", multiconer_label(tag),
                             count=count))
    dev = list(read_conll(root / "multiconer2_en/en-dev.conll"))
    # Gold labels are compared as library labels.
    label_of = {tag: lib[f"multiconer:{tag}"].label for tag in train_counts}
    dev = [(text, [label_of[l] for l in labels if l in label_of]) for text, labels in dev]
    results["entity_classes"] = len(lib.keys("entity"))

    selector = SelectionPolicy(settings).bind(lib)
    start = time.perf_counter()
    selector.index("entity")
    results["index_build_s"] = round(time.perf_counter() - start, 2)
    texts = [t for t, _ in dev]
    texts = (texts * (args.sentences // max(1, len(texts)) + 1))[:args.sentences]
    times = []
    for text in texts:
        start = time.perf_counter()
        selector("ner", None, text)
        times.append(time.perf_counter() - start)
    results["ms_per_sentence_median"] = round(1000 * statistics.median(times), 3)
    results["ms_per_sentence_p95"] = round(1000 * sorted(times)[int(0.95 * len(times))], 3)

    results["ner_recall_multiconer_dev"] = {
        name: round(ner_recall(lib, dev, policy), 4) for name, policy in policies(settings).items()}
    results["ner_gold_mentions"] = sum(len(l) for _, l in dev)

    docs = json.loads((root / "re_docred/test_revised.json").read_text(encoding="utf-8"))
    results["relation_classes"] = len(base.keys("relation"))
    results["re_recall_redocred_test"] = {
        name: round(re_recall(base, docs, policy), 4) for name, policy in policies(settings).items()}
    results["re_gold_triples"] = sum(len(d["labels"]) for d in docs)
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
