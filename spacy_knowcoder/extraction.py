"""Turn parsed model output for one window of a doc into the records of DESIGN §4.

``WindowExtraction`` places the items of ``parsing.parse_completion`` on the
window's text with ``align.MentionIndex`` and collects entity spans, relation
dicts and event dicts with character offsets into the *whole* doc. Items
whose mentions cannot be found are dropped and counted, never invented.

Example:
    >>> extraction = WindowExtraction(window, schema)  # doctest: +SKIP
    >>> extraction.add_entities(parse_completion(text, "ner", classes).items)  # doctest: +SKIP
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from spacy.tokens import Span

from .align import CharSpan, MentionIndex
from .parsing import EntityItem, EventItem, Item, RelationItem
from .prompting import Trigger
from .schema.types import BASE_ENTITY, Schema


@dataclass
class WindowExtraction:
    """The results for one window (a span of a doc) of one text.

    window (Span): The window; offsets are stored relative to its doc.
    schema (Schema): The schema the items were checked against.
    alignment_mode (str): See ``align.MentionIndex``.
    """

    window: Span
    schema: Schema
    alignment_mode: str = "expand"
    entities: List[Span] = field(default_factory=list)
    relations: List[Dict[str, Any]] = field(default_factory=list)
    events: List[Dict[str, Any]] = field(default_factory=list)
    dropped_mentions: List[str] = field(default_factory=list)
    entity_scores: List[Optional[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        window_doc = self.window.doc if self._is_whole_doc else self.window.as_doc()
        self._offset = self.window.start_char
        self._index = MentionIndex(window_doc.text, window_doc, self.alignment_mode)
        self._entity_offsets: Dict[tuple, str] = {}

    @property
    def _is_whole_doc(self) -> bool:
        return self.window.start == 0 and self.window.end == len(self.window.doc)

    def add_entities(self, items: Sequence[EntityItem]) -> None:
        """Place NER items: each prediction takes the next unused occurrence."""
        used: List[CharSpan] = []
        for item in items:
            found = self._index.find(item.text, exclude=used)
            if found is None:
                self._drop(item.text)
                continue
            used.append(found)
            label = self.schema.entity_by_class(item.class_name).label
            span = self._span(found, label)
            if span is not None:
                self.entities.append(span)
                self.entity_scores.append(item.score)
                self._entity_offsets[(span.start_char, span.end_char)] = label

    def locates(self, item: Item) -> bool:
        """Whether every mention of a parsed item occurs in the window's text."""
        if isinstance(item, EntityItem):
            mentions = [item.text]
        elif isinstance(item, RelationItem):
            mentions = [item.head, item.tail]
        else:
            mentions = [item.trigger]
        return all(self._index.find(mention) is not None for mention in mentions)

    def know_entity(self, span: Span) -> None:
        """Label mentions at ``span`` like it (an entity found by an earlier run)."""
        self._entity_offsets.setdefault((span.start_char, span.end_char), span.label_)

    def add_relations(self, items: Sequence[RelationItem]) -> None:
        """Place RE items: the head/tail occurrences nearest each other."""
        for item in items:
            pair = self._index.find_pair(item.head, item.tail)
            if pair is None:
                self._drop(item.head if not self._index.find(item.head) else item.tail)
                continue
            head, tail = pair
            relation = self.schema.relation_by_class(item.class_name)
            self.relations.append({
                "label": relation.label,
                "head": self._mention(head, self._entity_label(head, item.head_class)),
                "tail": self._mention(tail, self._entity_label(tail, item.tail_class)),
                "score": item.score,
            })

    def add_events(self, items: Sequence[EventItem]) -> None:
        """Place ED items (and any arguments they carry) as new events."""
        used = [self._relative(e["trigger"]) for e in self.events]
        for item in items:
            found = self._index.find(item.trigger, exclude=used)
            if found is None:
                self._drop(item.trigger)
                continue
            used.append(found)
            event_type = self.schema.event_by_class(item.class_name)
            trigger = self._mention(found, with_label=False)
            self.events.append({"type": event_type.label, "trigger": trigger,
                                "arguments": [], "score": item.score})
            self.add_arguments([item])

    def add_arguments(self, items: Sequence[EventItem]) -> None:
        """Attach EAE arguments to the window's events with the same type and trigger."""
        for item in items:
            event = self._event_for(item)
            if event is None:
                self._drop(item.trigger)
                continue
            trigger = self._relative(event["trigger"])
            for argument in item.arguments:
                found = self._index.find(argument.text, near=trigger)
                if found is None:
                    self._drop(argument.text)
                    continue
                record = self._mention(found, self._entity_label(found, argument.class_name))
                record = {"role": argument.role, **record}
                if record not in event["arguments"]:
                    event["arguments"].append(record)

    def triggers(self) -> List[Trigger]:
        """The window's events as confirmed triggers for an EAE prompt."""
        triggers = []
        for event in self.events:
            event_type = self.schema.by_label("event", event["type"])
            if event_type is not None and event_type.roles:
                triggers.append(Trigger(text=event["trigger"]["text"],
                                        event_type=event_type.class_name))
        return list(dict.fromkeys(triggers))

    def _event_for(self, item: EventItem) -> Optional[Dict[str, Any]]:
        label = self.schema.event_by_class(item.class_name).label
        candidates = [e for e in self.events if e["type"] == label]
        for event in candidates:
            if event["trigger"]["text"] == item.trigger:
                return event
        folded = item.trigger.strip().casefold()
        return next((e for e in candidates if e["trigger"]["text"].casefold() == folded), None)

    def _entity_label(self, span: CharSpan, class_name: str) -> Optional[str]:
        entity = self.schema.entity_by_class(class_name) if class_name != BASE_ENTITY else None
        if entity is not None:
            return entity.label
        return self._entity_offsets.get((span.start + self._offset, span.end + self._offset))

    def _span(self, found: CharSpan, label: str) -> Optional[Span]:
        doc = self.window.doc
        return doc.char_span(found.start + self._offset, found.end + self._offset, label=label)

    def _mention(self, found: CharSpan, label: Optional[str] = None,
                 with_label: bool = True) -> Dict[str, Any]:
        start, end = found.start + self._offset, found.end + self._offset
        record: Dict[str, Any] = {"start": start, "end": end,
                                  "text": self.window.doc.text[start:end]}
        if with_label:
            record["label"] = label
        return record

    def _relative(self, mention: Dict[str, Any]) -> CharSpan:
        return CharSpan(mention["start"] - self._offset, mention["end"] - self._offset)

    def _drop(self, mention: str) -> None:
        self.dropped_mentions.append(mention)
