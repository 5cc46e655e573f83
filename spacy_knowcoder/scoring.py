"""P/R/F1 for entities, relations and events, through spaCy's ``Scorer``/``PRFScore``.

Keys (all floats, or ``None`` when nothing was annotated or predicted):

- ``ents_p/r/f``, ``ents_per_type``: ``Scorer.score_spans`` on ``doc.ents``;
- ``rel_p/r/f``, ``rel_per_type``: strict relations (head and tail offsets + label);
- ``event_trigger_id_p/r/f``: trigger offsets; ``event_trigger_p/r/f``: offsets + type;
- ``event_argument_id_p/r/f``: (event type, argument offsets);
  ``event_argument_p/r/f``: (event type, role, argument offsets).

Example:
    >>> from spacy.training import Example
    >>> scores = score_knowcoder([])  # doctest: +SKIP
"""
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from spacy.scorer import PRFScore, Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from .extensions import EVENTS, RELATIONS

Key = Tuple[Any, ...]


def _relation_keys(doc: Doc) -> Set[Key]:
    return {(r["head"]["start"], r["head"]["end"], r["tail"]["start"], r["tail"]["end"],
             r["label"]) for r in doc._.get(RELATIONS)}


def _trigger_id_keys(doc: Doc) -> Set[Key]:
    return {(e["trigger"]["start"], e["trigger"]["end"]) for e in doc._.get(EVENTS)}


def _trigger_keys(doc: Doc) -> Set[Key]:
    return {(e["trigger"]["start"], e["trigger"]["end"], e["type"]) for e in doc._.get(EVENTS)}


def _argument_id_keys(doc: Doc) -> Set[Key]:
    return {(e["type"], a["start"], a["end"]) for e in doc._.get(EVENTS)
            for a in e.get("arguments", [])}


def _argument_keys(doc: Doc) -> Set[Key]:
    return {(e["type"], a["role"], a["start"], a["end"]) for e in doc._.get(EVENTS)
            for a in e.get("arguments", [])}


def _prf(examples: List[Example], keys: Callable[[Doc], Set[Key]], prefix: str,
         label_of: Optional[Callable[[Key], str]] = None) -> Dict[str, Any]:
    """Micro P/R/F of key sets; per label too when ``label_of`` is given."""
    total = PRFScore()
    per_label: Dict[str, PRFScore] = defaultdict(PRFScore)
    for example in examples:
        predicted, gold = keys(example.predicted), keys(example.reference)
        total.score_set(predicted, gold)
        for label in {label_of(k) for k in predicted | gold} if label_of else ():
            per_label[label].score_set({k for k in predicted if label_of(k) == label},
                                       {k for k in gold if label_of(k) == label})
    scored = len(total) > 0
    scores: Dict[str, Any] = {
        f"{prefix}_p": total.precision if scored else None,
        f"{prefix}_r": total.recall if scored else None,
        f"{prefix}_f": total.fscore if scored else None,
    }
    if label_of is not None:
        scores[f"{prefix}_per_type"] = {k: v.to_dict() for k, v in sorted(per_label.items())}
    return scores


def score_knowcoder(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
    """Score entities, relations and events of predicted against reference docs.

    examples (Iterable[Example]): The examples; gold relations/events are read
        from ``example.reference._.relations`` / ``._.events``.
    RETURNS (Dict[str, Any]): The scores (see the module docstring).
    """
    examples = list(examples)
    scores = Scorer.score_spans(examples, "ents", **kwargs)
    scores.update(_prf(examples, _relation_keys, "rel", label_of=lambda k: str(k[4])))
    scores.update(_prf(examples, _trigger_id_keys, "event_trigger_id"))
    scores.update(_prf(examples, _trigger_keys, "event_trigger"))
    scores.update(_prf(examples, _argument_id_keys, "event_argument_id"))
    scores.update(_prf(examples, _argument_keys, "event_argument"))
    return scores


@registry.scorers("spacy_knowcoder.scorer.v1")
def make_knowcoder_scorer() -> Callable[..., Dict[str, Any]]:
    """The registered scorer used by the ``knowcoder`` component."""
    return score_knowcoder
