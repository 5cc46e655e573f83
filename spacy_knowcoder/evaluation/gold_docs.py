"""Benchmark records <-> spaCy Docs, and gold DocBins for ``spacy benchmark accuracy``.

A gold Doc carries the entities in ``doc.ents`` (and all of them, overlaps
included, in ``doc.spans[spans_key]``), the relations in ``doc._.relations`` and
the events in ``doc._.events``, with the record's character offsets. ``doc.ents``
cannot hold overlapping spans or spans that cut a token: the longest
non-overlapping entities are kept there and cut spans are widened to whole
tokens, with a warning (W450/W451) that counts them. The relation and event
offsets stay exactly as given.

Example:
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> record = {"id": "1", "text": "Ann met Bob.", "relations": [], "events": [],
    ...           "entities": [{"start": 0, "end": 3, "label": "person", "text": "Ann"}]}
    >>> doc = record_to_doc(nlp, record)
    >>> [(e.text, e.label_) for e in doc.ents]
    [('Ann', 'person')]
    >>> doc_to_record(doc, "1")["entities"]
    [{'start': 0, 'end': 3, 'label': 'person', 'text': 'Ann'}]
"""
from typing import Any, Dict, Iterable, List, Mapping, Optional

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.util import filter_spans

from ..errors import Warnings, warn
from ..extensions import EVENTS, RELATIONS, register_extensions
from ..extractor import SCORES_ATTR

Record = Dict[str, Any]
SPANS_KEY = "knowcoder"


class _Stats:
    """Counts of gold mentions that could not go into ``doc.ents`` as given."""

    def __init__(self) -> None:
        self.overlapping, self.widened = 0, 0
        self.overlap_example: Optional[Any] = None
        self.widen_example: Optional[tuple] = None

    def warn(self, path: str, spans_key: str) -> None:
        if self.overlapping:
            warn(Warnings.W450.format(count=self.overlapping, path=path, spans_key=spans_key,
                                      record=self.overlap_example))
        if self.widened:
            text, record = self.widen_example or ("", None)
            warn(Warnings.W451.format(count=self.widened, path=path, example=text,
                                      record=record))


def record_to_doc(nlp: Language, record: Mapping[str, Any], *, spans_key: str = SPANS_KEY,
                  stats: Optional[_Stats] = None) -> Doc:
    """A gold Doc for a benchmark record (tokenized with ``nlp.make_doc``).

    nlp (Language): Provides the tokenizer.
    record (Mapping[str, Any]): A validated record (``corpora.benchmark``).
    spans_key (str): The span group that receives every gold entity.
    RETURNS (Doc): The doc with ents, spans, ``_.relations`` and ``_.events``.
    """
    register_extensions()
    stats = stats or _Stats()
    doc = nlp.make_doc(record["text"])
    spans = [_entity_span(doc, e, record, stats) for e in record.get("entities", [])]
    spans = [s for s in spans if s is not None]
    doc.spans[spans_key] = SpanGroup(doc, name=spans_key, spans=spans)
    kept = filter_spans(spans)
    if len(kept) < len(spans):
        stats.overlapping += len(spans) - len(kept)
        stats.overlap_example = stats.overlap_example or record["id"]
    doc.ents = kept
    doc._.set(RELATIONS, [_relation(r) for r in record.get("relations", [])])
    doc._.set(EVENTS, [_event(e) for e in record.get("events", [])])
    return doc


def _entity_span(doc: Doc, entity: Mapping[str, Any], record: Mapping[str, Any],
                 stats: _Stats) -> Optional[Span]:
    span = doc.char_span(entity["start"], entity["end"], label=entity["label"])
    if span is None:
        span = doc.char_span(entity["start"], entity["end"], label=entity["label"],
                             alignment_mode="expand")
        stats.widened += 1
        stats.widen_example = stats.widen_example or (entity.get("text"), record["id"])
    return span


def _mention(mention: Mapping[str, Any], with_label: bool = True) -> Dict[str, Any]:
    out = {"start": mention["start"], "end": mention["end"], "text": mention["text"]}
    if with_label:
        out["label"] = mention.get("label")
    return out


def _relation(relation: Mapping[str, Any]) -> Dict[str, Any]:
    return {"label": relation["label"], "head": _mention(relation["head"]),
            "tail": _mention(relation["tail"]), "score": relation.get("score")}


def _event(event: Mapping[str, Any]) -> Dict[str, Any]:
    arguments = [dict(_mention(a), role=a["role"]) for a in event.get("arguments", [])]
    return {"type": event["type"], "trigger": _mention(event["trigger"], with_label=False),
            "arguments": arguments, "score": event.get("score")}


def records_to_docs(nlp: Language, records: Iterable[Mapping[str, Any]], *,
                    spans_key: str = SPANS_KEY, path: str = "<records>") -> List[Doc]:
    """Gold Docs for records; warns once (W450/W451) about entities that had to change."""
    stats = _Stats()
    docs = [record_to_doc(nlp, r, spans_key=spans_key, stats=stats) for r in records]
    stats.warn(path, spans_key)
    return docs


def records_to_docbin(nlp: Language, records: Iterable[Mapping[str, Any]], *,
                      spans_key: str = SPANS_KEY, path: str = "<records>") -> DocBin:
    """A DocBin of gold Docs (user data stored, so relations and events travel)."""
    docs = records_to_docs(nlp, records, spans_key=spans_key, path=path)
    return DocBin(store_user_data=True, docs=docs)


def doc_to_record(doc: Doc, record_id: Any, *, spans_key: str = SPANS_KEY) -> Record:
    """A benchmark record of what a Doc holds (predictions or gold).

    Entities come from ``doc.spans[spans_key]`` when the doc has that group
    (the knowcoder component puts every prediction there, overlaps included),
    else from ``doc.ents``. Items the typing stage scored carry their ``score``.
    """
    group = doc.spans[spans_key] if spans_key in doc.spans else None
    spans = group if group is not None else doc.ents
    scores = (group.attrs.get(SCORES_ATTR) if group is not None else None) or [None] * len(spans)
    entities = [_scored({"start": s.start_char, "end": s.end_char, "label": s.label_,
                         "text": s.text}, score) for s, score in zip(spans, scores)]
    relations = [_scored({"head": _mention(r["head"]), "tail": _mention(r["tail"]),
                          "label": r["label"]}, r.get("score")) for r in doc._.get(RELATIONS)]
    events = [_scored({"trigger": _mention(e["trigger"], with_label=False), "type": e["type"],
                       "arguments": [dict(_mention(a), role=a["role"])
                                     for a in e.get("arguments", [])]}, e.get("score"))
              for e in doc._.get(EVENTS)]
    return {"id": record_id, "text": doc.text, "entities": entities, "relations": relations,
            "events": events}


def _scored(record: Dict[str, Any], score: Optional[float]) -> Dict[str, Any]:
    if score is not None:
        record["score"] = score
    return record
