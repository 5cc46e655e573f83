"""Benchmark candidate selection: speed over a 30k-class library and gold recall.

Speed: a library with 30,000 entity classes (the entity classes built from
``../shared/data`` plus synthetic classes whose labels and descriptions are
drawn from the real relation descriptions' vocabulary, with random parents),
and 1,000 real sentences (MultiCoNER II dev); reports the median and p95 time
per sentence of a full selector call (retrieval + split into prompt schemas),
for lexical and for hybrid selection (one sentence per call, and with the
sentences embedded in batches first, as the component does). Index builds
(lexical; class embeddings computed, then read from the disk cache) are timed
separately.

Recall (is the gold class among the selected candidates?):

- NER, MultiCoNER II dev: the library is the 30k-class library plus the 33
  MultiCoNER types (labels from the tag names, no descriptions); the counts
  (priors) of those types come from ``en-train90.conll``, never from dev.
- RE, Re-DocRED test: the library built from ``../shared/data`` (its relation
  counts come from Re-DocRED *dev*); the text is the whole document.

Priors are fair by default: every other class (the distractors, and for RE the
relations without a Re-DocRED count) gets a count drawn, seeded, from the real
counts (MultiCoNER train counts; Re-DocRED dev counts), so a gold class is not
marked by having a count at all. ``--gold-priors-only`` restores the old,
unfair setting where only the gold label set has counts.

Each recall is reported for lexical selection, lexical + priors (the
``lexical_selection.v1`` default), priors only, embedding only, embedding +
priors (``embedding_selection.v1``) and hybrid (``hybrid_selection.v1``).

    python benchmarks/schema_selection.py --data-root ../shared/data [--sentences 1000]

On a busy machine, torch's and OpenBLAS's threads wait on each other (a
single-sentence forward pass went from 15 ms to 400+ ms with 2 threads on 2
loaded cores); ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` avoids that. The
settings used are in the output (``threads``).
"""
import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from spacy_knowcoder.schema.builders.shared_data import build_from_shared_data
from spacy_knowcoder.schema.embeddings import load_encoder, split_for_embedding
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.selection import (
    EmbeddingSettings,
    LibrarySelector,
    HybridPolicy,
    LexicalPolicy,
    SelectionPolicy,
    SelectionSettings,
)

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


def add_distractor_priors(lib: SchemaLibrary, kind: str, counts: Sequence[int],
                          seed: int = 0) -> int:
    """Give every class of ``kind`` without a count one drawn from ``counts``.

    RETURNS (int): How many classes got a count.
    """
    rng = random.Random(seed)
    pool = sorted(c for c in counts if c > 0)
    changed = 0
    for key in lib.keys(kind):
        if lib[key].count == 0:
            lib.update(key, count=rng.choice(pool))
            changed += 1
    return changed


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


def policies(settings: SelectionSettings,
             embedding: EmbeddingSettings) -> Dict[str, SelectionPolicy]:
    """The compared policies, all at ``settings``' budget and candidate count."""
    def hybrid(lexical: float, emb: float, **changes: int) -> SelectionPolicy:
        return HybridPolicy(replace(settings, lexical_share=lexical, embedding_share=emb,
                                    **changes), embedding)

    out = {"lexical only (+ ancestors)": LexicalPolicy(replace(settings, lexical_share=1.0)),
           "lexical + priors (lexical_selection.v1)": LexicalPolicy(settings),
           "priors only": LexicalPolicy(replace(settings, lexical_share=0.0)),
           "embedding only (+ ancestors)": hybrid(0.0, 1.0),
           "embedding + priors (embedding_selection.v1)": hybrid(0.0, 0.5),
           "hybrid (hybrid_selection.v1)": hybrid(0.25, 0.5),
           "hybrid, no priors (lexical 0.5, embedding 0.5)": hybrid(0.5, 0.5)}
    for n in (32, 128):
        out[f"hybrid_selection.v1, max_candidates={n}"] = hybrid(0.25, 0.5, max_candidates=n)
    return out


def hybrid_policy(settings: SelectionSettings, embedding: EmbeddingSettings) -> SelectionPolicy:
    return HybridPolicy(replace(settings, lexical_share=0.25, embedding_share=0.5), embedding)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return round(time.perf_counter() - start, 2)


def latency(selector: LibrarySelector, texts: List[str], before_each: Optional[Callable] = None,
            batch: int = 0) -> Dict[str, float]:
    """Per-sentence times (ms) of full selector calls; ``batch``: prepare that many first."""
    times = []
    total = time.perf_counter()
    for start in range(0, len(texts), batch or len(texts)):
        chunk = texts[start:start + (batch or len(texts))]
        if batch:
            selector.prepare("ner", chunk)  # type: ignore[attr-defined]
        for text in chunk:
            if before_each:
                before_each()
            t0 = time.perf_counter()
            selector("ner", None, text)
            times.append(time.perf_counter() - t0)
    total = time.perf_counter() - total
    return {"median_ms": round(1000 * statistics.median(times), 3),
            "p95_ms": round(1000 * sorted(times)[int(0.95 * len(times))], 3),
            "mean_ms_including_batch_embedding": round(1000 * total / len(texts), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=30000)
    parser.add_argument("--output", type=Path, default=None, help="Write results as JSON.")
    parser.add_argument("--gold-priors-only", action="store_true",
                        help="Old, unfair setting: only the gold label set has counts.")
    parser.add_argument("--embedding-model", default="all-MiniLM-L6-v2",
                        help="Encoder directory, hub id or the packaged all-MiniLM-L6-v2.")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="Class-embedding cache (default: a fresh temporary folder, so "
                             "the first index build is timed cold).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the distractor priors.")
    args = parser.parse_args()
    root = args.data_root
    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="knowcoder-embeddings-"))
    embedding = EmbeddingSettings(args.embedding_model, cache_dir=str(cache_dir))
    base, _ = build_from_shared_data(root)
    settings = SelectionSettings()
    results: Dict[str, object] = {
        "settings": settings.__dict__, "embedding_model": args.embedding_model,
        "priors": "gold label set only (unfair)" if args.gold_priors_only else
                  "every class (distractors drawn from the real counts)",
        "threads": {"torch": torch.get_num_threads(),
                    **{v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}}

    # -- NER library: 30k entity classes + MultiCoNER types with train counts.
    lib = big_library(base, args.classes - 33)
    train_counts = Counter(tag for _, tags in read_conll(root / "multiconer2_en/en-train90.conll")
                           for tag in tags)
    if not args.gold_priors_only:
        results["entity_classes_given_drawn_counts"] = add_distractor_priors(
            lib, "entity", list(train_counts.values()), args.seed)
    for tag, count in sorted(train_counts.items()):
        lib.add(LibraryClass("entity", f"multiconer:{tag}", multiconer_label(tag),
                             count=count))
    dev = list(read_conll(root / "multiconer2_en/en-dev.conll"))
    # Gold labels are compared as library labels.
    label_of = {tag: lib[f"multiconer:{tag}"].label for tag in train_counts}
    dev = [(text, [label_of[t] for t in tags if t in label_of]) for text, tags in dev]
    results["entity_classes"] = len(lib.keys("entity"))

    texts = [t for t, _ in dev]
    texts = (texts * (args.sentences // max(1, len(texts)) + 1))[:args.sentences]
    build: Dict[str, float] = {}
    speed: Dict[str, Dict[str, float]] = {}
    lexical = LexicalPolicy(settings).bind(lib)
    build["lexical_index_s"] = timed(lambda: lexical.index("entity").build())
    speed["lexical_selection.v1"] = latency(lexical, texts)

    hybrid = hybrid_policy(settings, embedding).bind(lib)
    build["encoder_load_s"] = timed(lambda: hybrid.encoder)
    build["lexical_index_s (hybrid)"] = timed(lambda: hybrid.index("entity").build())
    cached = any(cache_dir.glob("*.npy"))
    build["class_embeddings_from_cache_s" if cached else "class_embeddings_computed_s"] = timed(
        lambda: hybrid.embedding_index("entity"))
    build["class_embeddings_from_cache_s"] = timed(
        lambda: hybrid_policy(settings, embedding).bind(lib).embedding_index("entity"))
    encoder = hybrid.encoder
    speed["hybrid_selection.v1, one sentence per call"] = latency(
        hybrid, texts, before_each=encoder.clear_queries)
    encoder.clear_queries()
    speed["hybrid_selection.v1, sentences embedded in batches of 64"] = latency(
        hybrid, texts, batch=64)
    results["index_build"] = build
    results[f"latency_per_sentence_{len(texts)}_sentences"] = speed

    compared = policies(settings, embedding)
    encoder.clear_queries()
    load_encoder(embedding.model, embedding.device, embedding.batch_size).encode_queries(
        [t for t, _ in dev])  # every embedding policy reuses these query vectors
    results["ner_recall_multiconer_dev"] = {
        name: round(ner_recall(lib, dev, policy), 4) for name, policy in compared.items()}
    results["ner_gold_mentions"] = sum(len(labels) for _, labels in dev)

    docs = json.loads((root / "re_docred/test_revised.json").read_text(encoding="utf-8"))
    rel_lib = SchemaLibrary(base)
    if not args.gold_priors_only:
        real = [rel_lib[k].count for k in rel_lib.keys("relation") if rel_lib[k].count]
        results["relations_given_drawn_counts"] = add_distractor_priors(
            rel_lib, "relation", real, args.seed)
    results["relation_classes"] = len(rel_lib.keys("relation"))
    encoder.clear_queries()
    encoder.encode_queries([piece for d in docs for piece in split_for_embedding(
        " ".join(" ".join(s) for s in d["sents"]))])
    results["re_recall_redocred_test"] = {
        name: round(re_recall(rel_lib, docs, policy), 4) for name, policy in compared.items()}
    results["re_gold_triples"] = sum(len(d["labels"]) for d in docs)
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
