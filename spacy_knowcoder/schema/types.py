"""The schema model: entity, relation and event types as KnowCoder classes.

Each type has a Python class name (what the model reads and writes) and a spaCy
label (what lands on ``doc.ents`` and in ``doc._.relations``/``doc._.events``).

Example:
    >>> person = EntityType(label="person", class_name="Person", description="A human being.")
    >>> schema = Schema(entities=(person,))
    >>> schema.entity_by_class("Person").label
    'person'
"""
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, Iterator, Optional, Tuple, Union

from ..errors import Errors

BASE_ENTITY = "Entity"
BASE_RELATION = "Relation"
BASE_EVENT = "Event"
BASE_CLASSES = (BASE_ENTITY, BASE_RELATION, BASE_EVENT)


@dataclass(frozen=True)
class EntityType:
    """An entity type, rendered as ``class Person(Entity): ...``.

    label (str): The spaCy label.
    class_name (str): The Python class name the model sees.
    description (str): One line for the docstring's ``Description:``.
    examples (Tuple[str, ...]): Example mentions for ``Examples:``.
    parents (Tuple[str, ...]): Parent class names (inheritance); default ``Entity``.
    wikidata_id (Optional[str]): A Wikidata Q-id, where known.
    """

    label: str
    class_name: str
    description: str = ""
    examples: Tuple[str, ...] = ()
    parents: Tuple[str, ...] = (BASE_ENTITY,)
    wikidata_id: Optional[str] = None

    kind = "entity"


@dataclass(frozen=True)
class RelationType:
    """A relation type, rendered as ``class LocatedIn(Relation): ...``.

    head / tail (Tuple[str, ...]): Entity class names allowed as head / tail;
        empty means any entity (rendered as ``Entity``).
    examples (Tuple[Tuple[str, str], ...]): Example (head, tail) pairs.
    """

    label: str
    class_name: str
    description: str = ""
    examples: Tuple[Tuple[str, str], ...] = ()
    parents: Tuple[str, ...] = (BASE_RELATION,)
    head: Tuple[str, ...] = ()
    tail: Tuple[str, ...] = ()
    wikidata_id: Optional[str] = None

    kind = "relation"


@dataclass(frozen=True)
class EventType:
    """An event type, rendered as ``class Marriage(Event): ...``.

    roles (Tuple[str, ...]): Argument role names (Python identifiers, or keywords
        as in the released data, e.g. ``from``).
    examples (Tuple[str, ...]): Example trigger words.
    """

    label: str
    class_name: str
    description: str = ""
    examples: Tuple[str, ...] = ()
    parents: Tuple[str, ...] = (BASE_EVENT,)
    roles: Tuple[str, ...] = ()
    wikidata_id: Optional[str] = None

    kind = "event"


SchemaType = Union[EntityType, RelationType, EventType]


@dataclass(frozen=True)
class Schema:
    """An ordered set of entity, relation and event types.

    Class names are unique within each kind; order is kept (it is the order of
    the classes in the prompt).
    """

    entities: Tuple[EntityType, ...] = ()
    relations: Tuple[RelationType, ...] = ()
    events: Tuple[EventType, ...] = ()
    _index: Dict[Tuple[str, str], SchemaType] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for kind, types in (("entity", self.entities), ("relation", self.relations),
                            ("event", self.events)):
            for type_ in types:
                self._add_to_index(kind, type_)

    def _add_to_index(self, kind: str, type_: SchemaType) -> None:
        if type_.class_name in BASE_CLASSES and _base_clashes(kind, type_.class_name):
            raise ValueError(Errors.E003.format(
                label=type_.label,
                reason=f"'{type_.class_name}' is the base class of the prompt",
            ))
        key = (kind, type_.class_name)
        if key in self._index:
            raise ValueError(Errors.E004.format(
                class_name=type_.class_name, first=self._index[key].label,
                second=type_.label,
            ))
        self._index[key] = type_
        self._index[(kind + ":label", type_.label)] = type_

    @property
    def is_empty(self) -> bool:
        return not (self.entities or self.relations or self.events)

    def __iter__(self) -> Iterator[SchemaType]:
        yield from self.entities
        yield from self.relations
        yield from self.events

    def entity_by_class(self, class_name: str) -> Optional[EntityType]:
        return self._index.get(("entity", class_name))  # type: ignore[return-value]

    def relation_by_class(self, class_name: str) -> Optional[RelationType]:
        return self._index.get(("relation", class_name))  # type: ignore[return-value]

    def event_by_class(self, class_name: str) -> Optional[EventType]:
        return self._index.get(("event", class_name))  # type: ignore[return-value]

    def by_label(self, kind: str, label: str) -> Optional[SchemaType]:
        """Look a type up by its spaCy label. kind: 'entity', 'relation' or 'event'."""
        return self._index.get((kind + ":label", label))

    def relabel(self, labels: Dict[str, str]) -> "Schema":
        """Return a copy whose types get new spaCy labels, keyed by class name.

        labels (Dict[str, str]): class name -> spaCy label.
        RETURNS (Schema): The relabelled schema.
        """
        known = {t.class_name for t in self}
        unknown = [name for name in labels if name not in known]
        if unknown:
            raise ValueError(Errors.E016.format(
                class_name=unknown[0], known=", ".join(sorted(known)) or "(none)"))

        def apply(types: Iterable[SchemaType]) -> tuple:
            return tuple(replace(t, label=labels.get(t.class_name, t.label)) for t in types)

        return Schema(apply(self.entities), apply(self.relations), apply(self.events))


def _base_clashes(kind: str, class_name: str) -> bool:
    """Whether a type's class name collides with a base class its prompt defines.

    The released NER data has an entity class called ``Event``; that is fine in
    an entity prompt, which only defines ``Entity``.
    """
    used = {"entity": (BASE_ENTITY,), "relation": (BASE_ENTITY, BASE_RELATION),
            "event": (BASE_ENTITY, BASE_EVENT)}
    return class_name in used[kind]
