"""Does the model read the class list? Typing by generation against typing by scoring.

For each held-out NER set (``training/long/data/heldout``, built by ``python -m
training build-data training/configs/long.cfg``; never trained on) and each model,
one generation pass over the first ``--limit`` records gives, on the *same*
generated spans:

- strict NER F1 with the generated classes (``typing = "generate"``) and with
  the classes chosen by calibrated scoring (``typing = "score"``);
- type accuracy on gold spans: of the predicted spans that match a gold span
  exactly, the share with the gold class (generation / scoring);
- gold spans typed by the model without generation: for every gold mention,
  the best candidate class by raw and by calibrated score (chance = 1 / #classes);
- majority-class share: the share of predictions that carry the single most
  predicted class (gold's own share for reference);
- whether scores mean something: precision of scored predictions with
  score >= 0.5 against the rest;
- the swap test: the definitions (docstrings) are moved one class on (class i
  gets the description of class i+1), and the gold mentions are typed by
  calibrated scoring again; "follows the definition" is the share typed as the
  class that now carries their gold type's definition, "follows the name" the
  share still typed by their old class name (chance is 1 / #classes for each);
- the masked-names test: every class is renamed to a neutral name (``Entity``
  and a letter, letters in random order, as ``[data] name_mask`` trains), and
  the gold mentions are typed by calibrated scoring; the share with the gold
  class measures typing by the definitions alone (chance is 1 / #classes);
- the absent-class test: each record's most frequent gold class is left out of
  the candidate list, and the model generates (typing by score); "emits absent"
  is the share of that class's gold mentions that still come out, under any
  class (the model should leave them out, so lower is better);
- seconds spent generating, re-typing the generated items, and typing gold spans.

A relation set (SemEval-2010 Task 8: ``--sets semeval2010_task8``) gets the
typing measures on its gold (head, tail) pairs instead: raw and calibrated
type accuracy, the majority-class share of the calibrated choices (and gold's),
the swap test and the masked-names test (``RelationA``...), all by scoring the
listed relation classes over the gold pair.

Writes ``class_following.json`` and ``class_following.md`` to ``--out``.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/class_following.py --limit 100
    python benchmarks/class_following.py --sets re3d --limit 5 --models knowcoder-smol  # quick
    python benchmarks/class_following.py --absent-only --limit 100  # only the absent-class test
    python benchmarks/class_following.py --masked-only --limit 100  # only the masked-names test
    python benchmarks/class_following.py --sets semeval2010_task8 --limit 100  # relations
"""
import argparse
import json
import random
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from spacy_knowcoder.class_scoring import ClassScoring, new_typing_counts  # noqa: E402
from spacy_knowcoder.corpora.benchmark import LabelSet, read_benchmark  # noqa: E402
from spacy_knowcoder.corpora.benchmark import read_label_file  # noqa: E402
from spacy_knowcoder.evaluation.evaluate import load_pipeline  # noqa: E402
from spacy_knowcoder.evaluation.gold_docs import doc_to_record  # noqa: E402
from spacy_knowcoder.evaluation.metrics import HEADLINE, score_records  # noqa: E402
from spacy_knowcoder.generation.base import generate_for_jobs  # noqa: E402
from spacy_knowcoder.parsing import EntityItem, RelationItem  # noqa: E402
from training.data.following import MASK_LETTERS  # noqa: E402
from typing_speed import precision_by_score  # noqa: E402  (benchmarks/ is on sys.path)

HELDOUT = REPO / "training" / "long" / "data" / "heldout"
LABELS = REPO / "spacy_knowcoder" / "corpora" / "labels"
SETS = ("re3d", "anem", "gum", "wnut17")
MODELS = ("knowcoder-smol", "models/smollm2-135m")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "class_following")
    parser.add_argument("--absent-only", action="store_true",
                        help="run only the absent-class test")
    parser.add_argument("--masked-only", action="store_true",
                        help="run only the masked-names test")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for model in args.models:
        for name in args.sets:
            started = time.perf_counter()
            row = run_set(model, name, args)
            print(json.dumps(row), f"({time.perf_counter() - started:.0f} s)", flush=True)
            rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "class_following.json").write_text(json.dumps(
        {"limit": args.limit, "max_new_tokens": args.max_new_tokens, "rows": rows}, indent=1))
    (args.out / "class_following.md").write_text(markdown(rows, args))
    print(markdown(rows, args))


def run_set(model: str, name: str, args: argparse.Namespace) -> Dict[str, Any]:
    labels = read_label_file(LABELS / f"{name}.json")
    gold = read_benchmark(args.heldout / f"{name}.jsonl", limit=args.limit)
    if labels.relation_labels and not labels.entity_labels:
        return relation_probe(model, name, labels, gold, args)
    if args.masked_only:
        clock = time.perf_counter()
        masked = masked_probe(model, labels, gold, args)
        return {"model": model, "set": name, "docs": len(gold), **masked,
                "seconds": {"masked": round(time.perf_counter() - clock, 1)}}
    clock = time.perf_counter()
    absent = absent_probe(model, labels, gold, args)
    absent_seconds = round(time.perf_counter() - clock, 1)
    if args.absent_only:
        return {"model": model, "set": name, "docs": len(gold), **absent,
                "seconds": {"absent": absent_seconds}}
    nlp, pipe_name = load_pipeline(model, labels, ["ner"], batch_size=args.batch_size,
                                   max_new_tokens=args.max_new_tokens,
                                   settings={"typing": "score"})
    pipe = nlp.get_pipe(pipe_name)
    extractor, generator = pipe.extractor, pipe.generator
    stage: ClassScoring = pipe.class_scoring
    class_of = {t.label: t.class_name for t in pipe.schema.entities}
    seconds = {"generate": 0.0, "retype": 0.0, "gold_spans": 0.0}
    generated, retyped = [], []
    gold_typing = {"raw": 0, "calibrated": 0, "n": 0}
    for start in range(0, len(gold), args.batch_size):
        chunk = gold[start:start + args.batch_size]
        plain = [nlp.make_doc(r["text"]) for r in chunk]
        scored = [nlp.make_doc(r["text"]) for r in chunk]
        plain_states = [extractor.start(d, [d[:]]) for d in plain]
        scored_states = [extractor.start(d, [d[:]]) for d in scored]
        plain_jobs = extractor.jobs("ner", plain_states)
        scored_jobs = extractor.jobs("ner", scored_states)
        clock = time.perf_counter()
        completions = generate_for_jobs(generator, plain_jobs)
        seconds["generate"] += time.perf_counter() - clock
        for plain_job, job, completion in zip(plain_jobs, scored_jobs, completions):
            extractor.place(plain_job, completion, extractor.parse(plain_job, completion),
                            plain_states[plain_job.doc_index])
            result = extractor.parse(job, completion)
            counts = scored_states[job.doc_index].diagnostics.setdefault(
                "typing", new_typing_counts())
            clock = time.perf_counter()
            stage.retype(generator, job.task, job.prompt, list(job.classes), [result],
                         lambda job=job: extractor.content_free_prompt(job),
                         job.extraction.locates, counts)
            seconds["retype"] += time.perf_counter() - clock
            extractor.place(job, completion, result, scored_states[job.doc_index])
            clock = time.perf_counter()
            _type_gold_spans(stage, generator, extractor, job, chunk[job.doc_index],
                             class_of, gold_typing)
            seconds["gold_spans"] += time.perf_counter() - clock
        for record, doc, state in zip(chunk, plain, plain_states):
            extractor.finish(doc, state)
            generated.append(doc_to_record(doc, record["id"]))
        for record, doc, state in zip(chunk, scored, scored_states):
            extractor.finish(doc, state)
            retyped.append(doc_to_record(doc, record["id"]))
    clock = time.perf_counter()
    swap = swap_probe(model, labels, gold, args)
    seconds["swap"] = time.perf_counter() - clock
    clock = time.perf_counter()
    masked = masked_probe(model, labels, gold, args)
    seconds["masked"] = time.perf_counter() - clock
    return {"model": model, "set": name, "docs": len(gold), "classes": len(class_of),
            **swap, **masked,
            "f1_generate": _f1(gold, generated), "f1_score": _f1(gold, retyped),
            "span_type_acc_generate": _span_type_accuracy(gold, generated),
            "span_type_acc_score": _span_type_accuracy(gold, retyped),
            "gold_type_acc_raw": _share(gold_typing["raw"], gold_typing["n"]),
            "gold_type_acc_calibrated": _share(gold_typing["calibrated"], gold_typing["n"]),
            "majority_share_generate": _majority(generated),
            "majority_share_score": _majority(retyped), "majority_share_gold": _majority(gold),
            **_precision_by_score(gold, retyped, 0.5), **absent,
            "seconds": {**{k: round(v, 1) for k, v in seconds.items()},
                        "absent": absent_seconds}}


def absent_probe(model: str, labels: LabelSet, gold: Sequence[Dict[str, Any]],
                 args: argparse.Namespace) -> Dict[str, Optional[float]]:
    """Leave each record's most frequent gold class out of its candidates and
    count how many of that class's gold mentions the model still emits."""
    by_absent: Dict[str, List[Dict[str, Any]]] = {}
    for record in gold:
        counts = Counter(e["label"] for e in record["entities"])
        if counts and len(labels.entity_labels) > 1:
            by_absent.setdefault(counts.most_common(1)[0][0], []).append(record)
    emitted = total = 0
    for label, records in by_absent.items():
        kept = {k: v for k, v in labels.entity_labels.items() if k != label}
        nlp, _ = load_pipeline(model, LabelSet(entity_labels=kept), ["ner"],
                               batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                               settings={"typing": "score"})
        docs = nlp.pipe((r["text"] for r in records), batch_size=args.batch_size)
        for record, doc in zip(records, docs):
            found = {(e.start_char, e.end_char) for e in doc.spans["knowcoder"]}
            for e in record["entities"]:
                if e["label"] == label:
                    total += 1
                    emitted += int((e["start"], e["end"]) in found)
    return {"absent_emitted": _share(emitted, total), "absent_mentions": total}


def swap_probe(model: str, labels: LabelSet, gold: Sequence[Dict[str, Any]],
               args: argparse.Namespace) -> Dict[str, Optional[float]]:
    """Type gold mentions under a schema whose definitions moved one class on."""
    if len(labels.entity_labels) < 2:
        return {"swap_follows_definition": None, "swap_follows_name": None}
    swapped, carrier = _moved_definitions(labels.entity_labels)
    typed = _type_mentions(model, swapped, gold, args)
    return {"swap_follows_definition": _share(sum(carrier[g] == c for g, c in typed), len(typed)),
            "swap_follows_name": _share(sum(g == c for g, c in typed), len(typed))}


def masked_probe(model: str, labels: LabelSet, gold: Sequence[Dict[str, Any]],
                 args: argparse.Namespace) -> Dict[str, Optional[float]]:
    """Type gold mentions under a schema whose class names are neutral (EntityA...)."""
    neutral = _neutral_names(list(labels.entity_labels), "entity")
    if len(neutral) < 2:
        return {"masked_type_acc": None}
    typed = _type_mentions(model, {neutral[n]: d for n, d in labels.entity_labels.items()},
                           gold, args, rename=neutral)
    return {"masked_type_acc": _share(sum(neutral[g] == c for g, c in typed), len(typed))}


def _moved_definitions(definitions: Dict[str, str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The definitions moved one class on (class i gets class i+1's), and for each
    label the label that now carries its definition."""
    names = list(definitions)
    values = [definitions[n] for n in names]
    return (dict(zip(names, values[1:] + values[:1])),
            {names[j]: names[(j - 1) % len(names)] for j in range(len(names))})


def _neutral_names(names: Sequence[str], kind: str) -> Dict[str, str]:
    """Each label's neutral stand-in (``entity q`` renders as ``EntityQ``), letters in a
    fixed random order; empty when there are more labels than letters."""
    if len(names) > len(MASK_LETTERS):
        return {}
    letters = random.Random(0).sample(MASK_LETTERS, len(names))
    return {name: f"{kind} {letter.lower()}" for name, letter in zip(names, letters)}


def _type_mentions(model: str, entity_labels: Dict[str, str], gold: Sequence[Dict[str, Any]],
                   args: argparse.Namespace, rename: Optional[Dict[str, str]] = None
                   ) -> List[Tuple[str, str]]:
    """(gold label, label chosen by calibrated score) for every gold mention, typed
    under ``entity_labels``; ``rename`` maps gold labels to that schema's labels."""
    rename = rename or {}
    nlp, pipe_name = load_pipeline(model, LabelSet(entity_labels=entity_labels), ["ner"],
                                   batch_size=args.batch_size,
                                   max_new_tokens=args.max_new_tokens,
                                   settings={"typing": "score"})
    pipe = nlp.get_pipe(pipe_name)
    extractor, generator, stage = pipe.extractor, pipe.generator, pipe.class_scoring
    label_of = {t.class_name: t.label for t in pipe.schema.entities}
    typed: List[Tuple[str, str]] = []
    for record in gold:
        mentions = [(e["text"], e["label"]) for e in record["entities"]
                    if rename.get(e["label"], e["label"]) in entity_labels]
        if not mentions:
            continue
        doc = nlp.make_doc(record["text"])
        job = extractor.jobs("ner", [extractor.start(doc, [doc[:]])])[0]
        _, calibrated = _best_classes(stage, generator, extractor, job,
                                      [text for text, _ in mentions])
        typed.extend((label, label_of[calibrated[text]]) for text, label in mentions)
    return typed


def relation_probe(model: str, name: str, labels: LabelSet, gold: Sequence[Dict[str, Any]],
                   args: argparse.Namespace) -> Dict[str, Any]:
    """Type each gold (head, tail) pair of a relation set by scoring its classes, under
    the set's own schema, a schema with definitions moved one class on, and one with
    neutral class names."""
    clock = time.perf_counter()
    definitions = labels.relation_labels
    own = _type_pairs(model, definitions, gold, args)
    swapped, carrier = _moved_definitions(definitions)
    moved = _type_pairs(model, swapped, gold, args)
    neutral = _neutral_names(list(definitions), "relation")
    masked = _type_pairs(model, {neutral[n]: d for n, d in definitions.items()}, gold, args) \
        if neutral else None
    golds = [relation["label"] for relation in _gold_pairs(gold)]
    n = len(golds)
    chosen = Counter(own["calibrated"])
    return {
        "model": model, "set": name, "docs": len(gold), "classes": len(definitions),
        "relations": n,
        "gold_type_acc_raw": _share(sum(g == c for g, c in zip(golds, own["raw"])), n),
        "gold_type_acc_calibrated": _share(
            sum(g == c for g, c in zip(golds, own["calibrated"])), n),
        "majority_share_score": _share(max(chosen.values(), default=0), n),
        "majority_share_gold": _share(max(Counter(golds).values(), default=0), n),
        "swap_follows_definition": _share(
            sum(carrier[g] == c for g, c in zip(golds, moved["calibrated"])), n),
        "swap_follows_name": _share(sum(g == c for g, c in zip(golds, moved["calibrated"])), n),
        "masked_type_acc": None if masked is None else _share(
            sum(neutral[g] == c for g, c in zip(golds, masked["calibrated"])), n),
        "seconds": {"relations": round(time.perf_counter() - clock, 1)}}


def _gold_pairs(gold: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every gold relation of ``gold``, in record order."""
    return [relation for record in gold for relation in record["relations"]]


def _type_pairs(model: str, relation_labels: Dict[str, str], gold: Sequence[Dict[str, Any]],
                args: argparse.Namespace) -> Dict[str, List[str]]:
    """The label chosen for each gold relation by raw and by calibrated score."""
    nlp, pipe_name = load_pipeline(model, LabelSet(relation_labels=relation_labels), ["re"],
                                   batch_size=args.batch_size,
                                   max_new_tokens=args.max_new_tokens,
                                   settings={"typing": "score"})
    pipe = nlp.get_pipe(pipe_name)
    extractor, generator, stage = pipe.extractor, pipe.generator, pipe.class_scoring
    label_of = {t.class_name: t.label for t in pipe.schema.relations}
    out: Dict[str, List[str]] = {"raw": [], "calibrated": []}
    for record in gold:
        if not record["relations"]:
            continue
        doc = nlp.make_doc(record["text"])
        job = extractor.jobs("re", [extractor.start(doc, [doc[:]])])[0]
        classes = list(job.classes)
        items = [RelationItem(classes[0], r["head"]["text"], r["tail"]["text"])
                 for r in record["relations"]]
        raw, offsets = stage.class_scores(generator, "re", job.prompt, classes, items,
                                          lambda job=job: extractor.content_free_prompt(job))
        for row in raw:
            calibrated = [score - offset for score, offset in zip(row, offsets)]
            out["raw"].append(label_of[classes[max(range(len(classes)), key=row.__getitem__)]])
            out["calibrated"].append(
                label_of[classes[max(range(len(classes)), key=calibrated.__getitem__)]])
    return out


def _type_gold_spans(stage: ClassScoring, generator: Any, extractor: Any, job: Any,
                     record: Dict[str, Any], class_of: Dict[str, str],
                     totals: Dict[str, int]) -> None:
    """Type each gold mention by raw and calibrated scores; count the right ones."""
    mentions = [(e["text"], class_of[e["label"]]) for e in record["entities"]
                if e["label"] in class_of]
    if not mentions:
        return
    best_raw, best_calibrated = _best_classes(stage, generator, extractor, job,
                                              [text for text, _ in mentions])
    for text, gold_class in mentions:
        totals["n"] += 1
        totals["raw"] += int(best_raw[text] == gold_class)
        totals["calibrated"] += int(best_calibrated[text] == gold_class)


def _best_classes(stage: ClassScoring, generator: Any, extractor: Any, job: Any,
                  mentions: Sequence[str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The best class of each mention of ``job``'s text, by raw and by calibrated score."""
    classes = list(job.classes)
    texts = list(dict.fromkeys(mentions))
    raw, offsets = stage.class_scores(
        generator, "ner", job.prompt, classes, [EntityItem(classes[0], t) for t in texts],
        lambda: extractor.content_free_prompt(job))
    best_raw, best_calibrated = {}, {}
    for text, row in zip(texts, raw):
        calibrated = [score - offset for score, offset in zip(row, offsets)]
        best_raw[text] = classes[max(range(len(classes)), key=row.__getitem__)]
        best_calibrated[text] = classes[max(range(len(classes)), key=calibrated.__getitem__)]
    return best_raw, best_calibrated


def _f1(gold: Sequence[Dict[str, Any]], predicted: Sequence[Dict[str, Any]]) -> float:
    metrics = score_records(list(zip(gold, predicted)), ["ner"])
    return round(100 * metrics[HEADLINE["ner"]]["f"], 1)


def _span_type_accuracy(gold: Sequence[Dict[str, Any]],
                        predicted: Sequence[Dict[str, Any]]) -> Optional[float]:
    right = total = 0
    for g, p in zip(gold, predicted):
        labels = {(e["start"], e["end"]): e["label"] for e in g["entities"]}
        for e in p["entities"]:
            if (e["start"], e["end"]) in labels:
                total += 1
                right += int(labels[(e["start"], e["end"])] == e["label"])
    return _share(right, total)


def _majority(records: Sequence[Dict[str, Any]]) -> Optional[float]:
    labels = Counter(e["label"] for r in records for e in r["entities"])
    return _share(labels.most_common(1)[0][1], sum(labels.values())) if labels else None


def _precision_by_score(gold: Sequence[Dict[str, Any]], predicted: Sequence[Dict[str, Any]],
                        cut: float) -> Dict[str, Any]:
    buckets = precision_by_score(gold, predicted, cut)
    return {"precision_score_high": _share(*buckets["high"]), "n_score_high": buckets["high"][1],
            "precision_score_low": _share(*buckets["low"]), "n_score_low": buckets["low"][1]}


def _share(part: int, whole: int) -> Optional[float]:
    return round(100 * part / whole, 1) if whole else None


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _mean(rows: Sequence[Dict[str, Any]], key: str) -> str:
    values = [r[key] for r in rows if r.get(key) is not None]
    return f"{sum(values) / len(values):.1f}" if values else "-"


COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("f1_generate", "F1 gen"), ("f1_score", "F1 score"),
    ("absent_emitted", "absent class: emitted"),
    ("span_type_acc_generate", "type acc gen"), ("span_type_acc_score", "type acc score"),
    ("gold_type_acc_raw", "gold spans raw"), ("gold_type_acc_calibrated", "gold spans calibrated"),
    ("majority_share_generate", "majority gen"), ("majority_share_score", "majority score"),
    ("majority_share_gold", "majority gold"),
    ("precision_score_high", "P score>=0.5"), ("precision_score_low", "P score<0.5"),
    ("swap_follows_definition", "swap: definition"), ("swap_follows_name", "swap: name"),
    ("masked_type_acc", "masked names: type acc"))


def markdown(rows: Sequence[Dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [f"Held-out NER, first {args.limit} records per set, max_new_tokens "
             f"{args.max_new_tokens}; all numbers in %.", "",
             "| model | set | " + " | ".join(title for _, title in COLUMNS) + " | s gen / retype |",
             "|---|---|" + "---:|" * (len(COLUMNS) + 1)]
    for row in rows:
        cells = [_cell(row.get(key)) for key, _ in COLUMNS]
        secs = row["seconds"]
        lines.append(f"| {row['model']} | {row['set']} | " + " | ".join(cells)
                     + f" | {secs.get('generate', '-')} / {secs.get('retype', '-')} |")
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        cells = [_mean(mine, key) for key, _ in COLUMNS]
        gen = sum(r["seconds"].get("generate", 0.0) for r in mine)
        retype = sum(r["seconds"].get("retype", 0.0) for r in mine)
        lines.append(f"| **{model}** | **mean** | " + " | ".join(cells)
                     + f" | {gen:.0f} / {retype:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
