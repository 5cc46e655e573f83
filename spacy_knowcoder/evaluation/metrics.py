"""Micro P/R/F1 for NER, RE, ED and EAE over benchmark records (DESIGN §5).

Pure functions: a record is a dict ``{"id", "text", "entities", "relations",
"events"}`` with character offsets (end exclusive). Each metric turns a record
into *items*, pairs ``(label, rest)``; a predicted item is a true positive when
an unmatched gold item of the same record has the same ``rest`` and a matching
label. Each gold item matches at most one prediction (multiset matching), so a
repeated prediction is a false positive, never a second hit.

Metrics (``label`` is what the per-label table and the hierarchy hook see):

==================  =====================================================  ==========
name                item rest                                              label
==================  =====================================================  ==========
ner_strict          entity (start, end)                                    entity type
ner_text            entity mention text (the reference's text match)       entity type
re_strict           head (start, end, type), tail (start, end, type)       relation
re_boundaries       head (start, end), tail (start, end)                   relation
ed_trigger_id       trigger (start, end)                                   "trigger"
ed_trigger_cls      trigger (start, end)                                   event type
eae_arg_id          argument (start, end)                                  event type
eae_arg_cls         argument (start, end, role)                            event type
==================  =====================================================  ==========

``ner_text`` is the "EM" variant of the KnowCoder evaluation
(ICT-GoKnow/KnowCoder, eval/src/metric.py ``gen_tuples_ei_ec``: the tuple is
``(type, word)``, offsets are ignored); the reference counts every predicted
tuple found in the gold list, so a duplicate prediction scores twice there,
which the multiset matching here does not. Its EAE tuples are ``(type, word)``
and ``(type, word, role)`` (``gen_tuples_ai_ac``), which ``eae_arg_*`` follow
with offsets instead of words. ``re_strict`` also needs the entity types of head
and tail to agree (a missing type is ``None`` and agrees only with ``None``);
``re_boundaries`` is the usual "boundaries" relation metric (offsets of head and
tail plus the relation label, entity types ignored).

Hierarchy-aware matching: pass ``label_matches(pred_label, gold_label) -> bool``
(e.g. built from a schema library's class hierarchy, as the reference's
``wikidata_upper`` option accepts a prediction whose type or any ancestor equals
the gold type). True positives and false negatives count under the gold label,
false positives under the predicted label.

Example:
    >>> gold = {"id": "1", "text": "Ann met Bob.", "entities": [
    ...     {"start": 0, "end": 3, "label": "person", "text": "Ann"},
    ...     {"start": 8, "end": 11, "label": "person", "text": "Bob"}]}
    >>> pred = {"id": "1", "text": "Ann met Bob.", "entities": [
    ...     {"start": 0, "end": 3, "label": "person", "text": "Ann"}]}
    >>> scores = score_records([(gold, pred)], ["ner"])
    >>> round(scores["ner_strict"]["f"], 3), scores["ner_strict"]["fn"]
    (0.667, 1)
"""
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Hashable, Iterable, List, Mapping, Optional
from typing import Sequence, Tuple

Record = Mapping[str, Any]
Item = Tuple[str, Tuple[Hashable, ...]]
LabelMatcher = Callable[[str, str], bool]

TASK_METRICS: Dict[str, Tuple[str, ...]] = {
    "ner": ("ner_strict", "ner_text"),
    "re": ("re_strict", "re_boundaries"),
    "ed": ("ed_trigger_id", "ed_trigger_cls"),
    "eae": ("eae_arg_id", "eae_arg_cls"),
}
#: The one metric per task that summaries and plots show.
HEADLINE: Dict[str, str] = {"ner": "ner_strict", "re": "re_strict",
                            "ed": "ed_trigger_cls", "eae": "eae_arg_cls"}


@dataclass
class Counts:
    """True positives, false positives and false negatives, with P/R/F1.

    Example:
        >>> Counts(tp=1, fp=1, fn=0).f
        0.6666666666666666
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def p(self) -> float:
        """Precision; 0.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def r(self) -> float:
        """Recall; 0.0 when there is no gold item."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f(self) -> float:
        """F1, the harmonic mean of P and R; 0.0 when both are 0."""
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0

    def add(self, other: "Counts") -> None:
        """Add another count in place."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_dict(self) -> Dict[str, Any]:
        """P/R/F1 as floats plus the counts (JSON-able)."""
        return {"p": self.p, "r": self.r, "f": self.f,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _span(mention: Mapping[str, Any]) -> Tuple[int, int]:
    return (int(mention["start"]), int(mention["end"]))


def _entities(record: Record) -> List[Mapping[str, Any]]:
    return list(record.get("entities") or [])


def _relations(record: Record) -> List[Mapping[str, Any]]:
    return list(record.get("relations") or [])


def _events(record: Record) -> List[Mapping[str, Any]]:
    return list(record.get("events") or [])


def _mention_text(record: Record, mention: Mapping[str, Any]) -> str:
    text = mention.get("text")
    return text if text is not None else record["text"][mention["start"]:mention["end"]]


def ner_strict(record: Record) -> List[Item]:
    """Entities as (type, (start, end))."""
    return [(e["label"], _span(e)) for e in _entities(record)]


def ner_text(record: Record) -> List[Item]:
    """Entities as (type, (mention text,)), offsets ignored."""
    return [(e["label"], (_mention_text(record, e),)) for e in _entities(record)]


# A head or tail with no type: the base ``Entity`` class in the prompt, written
# as label None by the component and as "entity" by readers of untyped data.
UNTYPED_LABELS = (None, "entity")


def argument_type(mention: Mapping[str, Any]) -> Optional[str]:
    """The entity type of a relation side; None when it is untyped."""
    label = mention.get("label")
    return None if label in UNTYPED_LABELS else label


def re_strict(record: Record) -> List[Item]:
    """Relations as (relation, (head span + type, tail span + type))."""
    return [(r["label"], _span(r["head"]) + (argument_type(r["head"]),)
             + _span(r["tail"]) + (argument_type(r["tail"]),)) for r in _relations(record)]


def re_boundaries(record: Record) -> List[Item]:
    """Relations as (relation, (head span, tail span)), entity types ignored."""
    return [(r["label"], _span(r["head"]) + _span(r["tail"])) for r in _relations(record)]


def ed_trigger_id(record: Record) -> List[Item]:
    """Triggers as ("trigger", (start, end)), event types ignored."""
    return [("trigger", _span(e["trigger"])) for e in _events(record)]


def ed_trigger_cls(record: Record) -> List[Item]:
    """Triggers as (event type, (start, end))."""
    return [(e["type"], _span(e["trigger"])) for e in _events(record)]


def eae_arg_id(record: Record) -> List[Item]:
    """Arguments as (event type, (start, end)), roles ignored."""
    return [(e["type"], _span(a)) for e in _events(record) for a in e.get("arguments") or []]


def eae_arg_cls(record: Record) -> List[Item]:
    """Arguments as (event type, (start, end, role))."""
    return [(e["type"], _span(a) + (a["role"],)) for e in _events(record)
            for a in e.get("arguments") or []]


METRICS: Dict[str, Callable[[Record], List[Item]]] = {
    "ner_strict": ner_strict, "ner_text": ner_text,
    "re_strict": re_strict, "re_boundaries": re_boundaries,
    "ed_trigger_id": ed_trigger_id, "ed_trigger_cls": ed_trigger_cls,
    "eae_arg_id": eae_arg_id, "eae_arg_cls": eae_arg_cls,
}


def _same_label(pred_label: str, gold_label: str) -> bool:
    return pred_label == gold_label


def match_items(gold: Sequence[Item], predicted: Sequence[Item],
                label_matches: Optional[LabelMatcher] = None) -> Dict[str, Counts]:
    """Match the items of one record; counts per label (see the module docs).

    gold (Sequence[Item]): The gold items.
    predicted (Sequence[Item]): The predicted items.
    label_matches (Callable[[str, str], bool]): Whether a predicted label counts
        for a gold label; default: equality.
    RETURNS (Dict[str, Counts]): Counts keyed by label.

    Example:
        >>> counts = match_items([("a", (0, 1))], [("a", (0, 1)), ("a", (0, 1))])
        >>> counts["a"].tp, counts["a"].fp
        (1, 1)
    """
    matches = label_matches or _same_label
    open_gold: Dict[Tuple[Hashable, ...], List[str]] = defaultdict(list)
    for label, rest in gold:
        open_gold[rest].append(label)
    counts: Dict[str, Counts] = defaultdict(Counts)
    for label, rest in predicted:
        candidates = open_gold.get(rest, [])
        hit = next((g for g in candidates if matches(label, g)), None)
        if hit is None:
            counts[label].fp += 1
        else:
            candidates.remove(hit)
            counts[hit].tp += 1
    for labels in open_gold.values():
        for label in labels:
            counts[label].fn += 1
    return counts


def score_metric(pairs: Iterable[Tuple[Record, Record]], metric: str,
                 label_matches: Optional[LabelMatcher] = None) -> Dict[str, Any]:
    """Micro P/R/F1 of one metric over (gold, predicted) record pairs.

    RETURNS (Dict[str, Any]): ``p, r, f, tp, fp, fn`` and ``per_label``.
    """
    items = METRICS[metric]
    total = Counts()
    per_label: Dict[str, Counts] = defaultdict(Counts)
    for gold, predicted in pairs:
        for label, counts in match_items(items(gold), items(predicted), label_matches).items():
            per_label[label].add(counts)
            total.add(counts)
    scores = total.to_dict()
    scores["per_label"] = {label: per_label[label].to_dict() for label in sorted(per_label)}
    return scores


def score_records(pairs: Iterable[Tuple[Record, Record]], tasks: Sequence[str],
                  label_matches: Optional[LabelMatcher] = None) -> Dict[str, Dict[str, Any]]:
    """Every metric of ``tasks`` over (gold, predicted) record pairs.

    pairs (Iterable[Tuple[Record, Record]]): Gold and predicted record of each doc.
    tasks (Sequence[str]): Any of "ner", "re", "ed", "eae".
    label_matches (Callable[[str, str], bool]): Optional hierarchy-aware matching.
    RETURNS (Dict[str, Dict[str, Any]]): Metric name -> scores (``score_metric``).
    """
    pairs = list(pairs)
    return {metric: score_metric(pairs, metric, label_matches)
            for task in tasks for metric in TASK_METRICS[task]}


def macro_mean(values: Iterable[Optional[float]]) -> Optional[float]:
    """The plain mean of the values that are not None (None when there are none).

    This is how the paper averages over datasets: the mean of per-dataset F1.

    Example:
        >>> macro_mean([0.5, None, 1.0])
        0.75
    """
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


#: Score thresholds of ``threshold_curve`` (0 keeps every prediction).
THRESHOLDS: Tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(10))
#: Which list of a record holds the items of each task's predictions.
_ITEMS_OF_TASK = {"ner": "entities", "re": "relations", "ed": "events"}


def has_scores(records: Iterable[Record]) -> bool:
    """Whether any predicted entity, relation or event carries a ``score``."""
    return any(item.get("score") is not None for record in records
               for key in _ITEMS_OF_TASK.values() for item in record.get(key, ()))


def threshold_curve(pairs: Iterable[Tuple[Record, Record]], task: str,
                    thresholds: Sequence[float] = THRESHOLDS,
                    label_matches: Optional[LabelMatcher] = None) -> List[Dict[str, Any]]:
    """The headline P/R/F1 of ``task`` when predictions scored below a threshold are dropped.

    Items without a score (not scored by the typing stage) are always kept. Read
    it as a precision-recall curve: raising the threshold should trade recall
    for precision when the scores mean something.

    RETURNS (List[Dict[str, Any]]): One row per threshold: ``threshold, p, r, f,
        kept`` (the number of predicted items left).

    Example:
        >>> gold = {"entities": [{"start": 0, "end": 3, "label": "person"}]}
        >>> pred = {"entities": [{"start": 0, "end": 3, "label": "person", "score": 0.9},
        ...                      {"start": 4, "end": 7, "label": "person", "score": 0.2}]}
        >>> [(row["threshold"], row["p"]) for row in threshold_curve([(gold, pred)], "ner",
        ...                                                          [0.0, 0.5])]
        [(0.0, 0.5), (0.5, 1.0)]
    """
    pairs = list(pairs)
    key = _ITEMS_OF_TASK[task]
    rows = []
    for threshold in thresholds:
        kept_pairs = [(gold, _above(predicted, key, threshold)) for gold, predicted in pairs]
        scores = score_metric(kept_pairs, HEADLINE[task], label_matches)
        kept = sum(len(p.get(key, ())) for _, p in kept_pairs)
        rows.append({"threshold": threshold, "p": scores["p"], "r": scores["r"],
                     "f": scores["f"], "kept": kept})
    return rows


def _above(record: Record, key: str, threshold: float) -> Record:
    items = [item for item in record.get(key, ())
             if item.get("score") is None or item["score"] >= threshold]
    return {**record, key: items}
