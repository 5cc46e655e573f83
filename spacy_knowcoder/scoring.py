"""P/R/F1 for entities, relations and events, through spaCy's ``Scorer``.

Keys (floats, or ``None`` when nothing was annotated or predicted):

- ``ents_p/r/f``, ``ents_per_type``: ``Scorer.score_spans`` on ``doc.ents``;
- ``rel_p/r/f``, ``rel_per_type``: strict relations (head and tail offsets and
  entity types + relation label); ``rel_boundary_p/r/f``: offsets + label;
- ``event_trigger_id_p/r/f``: trigger offsets; ``event_trigger_p/r/f`` (and
  ``event_trigger_per_type``): offsets + type;
- ``event_argument_id_p/r/f``: (event type, argument offsets);
  ``event_argument_p/r/f``: (event type, role, argument offsets);
- ``spans_knowcoder_p/r/f`` and ``spans_knowcoder_per_type``: one row per task
  above and their micro average. ``spacy benchmark accuracy`` prints only the
  score keys it knows; with ``--spans-key knowcoder`` (``-sk knowcoder``) it
  prints this summary as its "SPAN" row and a per-task table, so entity,
  relation and event scores appear in its output.

The relation and event keys use the item definitions of
``evaluation.metrics`` (one implementation for ``knowcoder score`` and spaCy).

Example:
    >>> import spacy
    >>> from spacy.training import Example
    >>> nlp = spacy.blank("en")
    >>> gold = nlp("Ann met Bob.")
    >>> gold.ents = [gold.char_span(0, 3, label="person")]
    >>> scores = score_knowcoder([Example(nlp("Ann met Bob."), gold)])
    >>> scores["ents_r"], scores["rel_f"]
    (0.0, None)
    >>> scores["spans_knowcoder_per_type"]["entities"]["r"]
    0.0
"""
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from .evaluation.metrics import Counts, LabelMatcher, METRICS, match_items
from .extensions import EVENTS, RELATIONS, register_extensions

#: ``--spans-key`` for ``spacy benchmark accuracy`` that shows the task summary.
SUMMARY_KEY = "knowcoder"
# spaCy score prefix -> (metric of evaluation.metrics, row of the summary table)
_DOC_METRICS: Tuple[Tuple[str, str, str], ...] = (
    ("rel", "re_strict", "relations"),
    ("rel_boundary", "re_boundaries", "relations (boundary)"),
    ("event_trigger_id", "ed_trigger_id", "event triggers (id)"),
    ("event_trigger", "ed_trigger_cls", "event triggers"),
    ("event_argument_id", "eae_arg_id", "event args (id)"),
    ("event_argument", "eae_arg_cls", "event args"),
)
_PER_TYPE = {"rel", "event_trigger"}
# Rows that enter the micro average (the identification/boundary rows repeat them).
_SUMMED = ("entities", "relations", "event triggers", "event args")


def _doc_record(doc: Doc, ents: bool = False) -> Dict[str, Any]:
    record: Dict[str, Any] = {"text": doc.text, "relations": doc._.get(RELATIONS),
                              "events": doc._.get(EVENTS)}
    if ents:
        record["entities"] = [{"start": e.start_char, "end": e.end_char, "label": e.label_,
                               "text": e.text} for e in doc.ents]
    return record


def _count(examples: List[Example], metric: str,
           label_matches: Optional[LabelMatcher] = None) -> Tuple[Counts, Dict[str, Counts]]:
    items = METRICS[metric]
    total, per_label = Counts(), {}
    for example in examples:
        gold = _doc_record(example.reference, ents=metric.startswith("ner"))
        pred = _doc_record(example.predicted, ents=metric.startswith("ner"))
        for label, counts in match_items(items(gold), items(pred), label_matches).items():
            total.add(counts)
            per_label.setdefault(label, Counts()).add(counts)
    return total, per_label


def _prf(prefix: str, total: Counts) -> Dict[str, Optional[float]]:
    scored = total.tp + total.fp + total.fn > 0
    return {f"{prefix}_{k}": (getattr(total, k) if scored else None) for k in "prf"}


def _spacy_prf(counts: Counts) -> Dict[str, float]:
    return {"p": counts.p, "r": counts.r, "f": counts.f}


def score_knowcoder(examples: Iterable[Example], *,
                    label_matches: Optional[LabelMatcher] = None,
                    **kwargs: Any) -> Dict[str, Any]:
    """Score entities, relations and events of predicted against reference docs.

    examples (Iterable[Example]): The examples; gold relations/events are read
        from ``example.reference._.relations`` / ``._.events``.
    label_matches (Callable[[str, str], bool]): Optional hierarchy-aware label
        matching for relations and events (see ``evaluation.metrics``).
    RETURNS (Dict[str, Any]): The scores (see the module docstring).
    """
    register_extensions()
    examples = list(examples)
    scores = Scorer.score_spans(examples, "ents", **kwargs)
    summary: Dict[str, Counts] = {}
    entities, _ = _count(examples, "ner_strict")
    if entities.tp + entities.fp + entities.fn:
        summary["entities"] = entities
    for prefix, metric, row in _DOC_METRICS:
        total, per_label = _count(examples, metric, label_matches)
        scores.update(_prf(prefix, total))
        if prefix in _PER_TYPE:
            scores[f"{prefix}_per_type"] = {k: _spacy_prf(v) for k, v in sorted(per_label.items())}
        if total.tp + total.fp + total.fn:
            summary[row] = total
    scores.update(_summary(summary))
    return scores


def _summary(rows: Dict[str, Counts]) -> Dict[str, Any]:
    micro = Counts()
    for row in _SUMMED:
        if row in rows:
            micro.add(rows[row])
    scores = _prf(f"spans_{SUMMARY_KEY}", micro)
    scores[f"spans_{SUMMARY_KEY}_per_type"] = {row: _spacy_prf(c) for row, c in rows.items()}
    return scores


@registry.scorers("spacy_knowcoder.scorer.v1")
def make_knowcoder_scorer() -> Callable[..., Dict[str, Any]]:
    """The registered scorer used by the ``knowcoder`` component."""
    return score_knowcoder
