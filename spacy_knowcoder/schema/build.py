"""Build a ``Schema`` from the dict form used in configs and JSON files.

The dict form::

    {"entities": {"person": "A human being.",
                  "city": {"description": "A large town.", "examples": ["Paris"]}},
     "relations": {"born in": {"description": "...", "head": ["person"], "tail": ["city"]}},
     "events": {"marriage": {"description": "...", "roles": ["spouse", "place"]}}}

Keys are spaCy labels. A value is a description string or a dict with any of
``description``, ``examples``, ``parents``, ``class_name``, ``wikidata_id`` and,
for relations, ``head``/``tail`` (entity labels or class names) or, for events,
``roles``. The dict label format of the benchmark label files (DESIGN §5:
``entity_labels``/``relation_labels``/``event_types``) is accepted too.

Example:
    >>> schema = schema_from_dict({"entities": {"person": "A human being."}})
    >>> schema.entities[0].class_name
    'Person'
"""
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

from ..errors import Errors
from .naming import class_name_for_label, is_valid_class_name
from .types import BASE_ENTITY, BASE_EVENT, BASE_RELATION, EntityType, EventType
from .types import RelationType, Schema

SECTION_ALIASES = {
    "entities": "entities", "entity_labels": "entities",
    "relations": "relations", "relation_labels": "relations",
    "events": "events", "event_types": "events",
}
_ENTRY_KEYS = {
    "entity": {"description", "examples", "parents", "class_name", "wikidata_id"},
    "relation": {"description", "examples", "parents", "class_name", "wikidata_id",
                 "head", "tail"},
    "event": {"description", "examples", "parents", "class_name", "wikidata_id", "roles"},
}


def schema_from_dict(data: Mapping[str, Any]) -> Schema:
    """Build a schema from its dict form.

    data (Mapping[str, Any]): Sections 'entities', 'relations', 'events'.
    RETURNS (Schema): The schema, with class names derived from the labels.
    """
    if not isinstance(data, Mapping):
        raise ValueError(Errors.E006.format(kind="schema", label="(root)",
                                            reason=f"got {type(data).__name__}",
                                            expected="a dict with 'entities', 'relations' or 'events'"))
    sections = _normalize_sections(data)
    entities = tuple(_build_entries("entity", sections.get("entities", {}), _entity))
    entity_classes = _label_to_class(entities)
    relations = tuple(_build_entries(
        "relation", sections.get("relations", {}),
        lambda label, entry: _relation(label, entry, entity_classes)))
    events = tuple(_build_entries("event", sections.get("events", {}), _event))
    schema = Schema(entities=entities, relations=relations, events=events)
    if schema.is_empty:
        raise ValueError(Errors.E002.format(what="entity, relation or event types"))
    return schema


def _normalize_sections(data: Mapping[str, Any]) -> Dict[str, Mapping[str, Any]]:
    sections: Dict[str, Mapping[str, Any]] = {}
    for key, value in data.items():
        if key not in SECTION_ALIASES:
            raise ValueError(Errors.E006.format(
                kind="schema section", label=key, reason="unknown section",
                expected="'entities', 'relations' or 'events'"))
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise ValueError(Errors.E006.format(
                kind="schema section", label=key, reason=f"got {type(value).__name__}",
                expected="a dict of label -> description or label -> settings"))
        sections[SECTION_ALIASES[key]] = value
    return sections


def _build_entries(kind: str, entries: Mapping[str, Any],
                   build: Callable[[str, Dict[str, Any]], Any]) -> List[Any]:
    built = []
    for label, value in entries.items():
        entry = _entry_dict(kind, label, value)
        built.append(build(label, entry))
    return built


def _entry_dict(kind: str, label: Any, value: Any) -> Dict[str, Any]:
    if not isinstance(label, str):
        raise ValueError(Errors.E003.format(label=label, reason="labels must be strings"))
    if value is None:
        return {}
    if isinstance(value, str):
        return {"description": value}
    if not isinstance(value, Mapping):
        raise ValueError(Errors.E006.format(
            kind=kind, label=label, reason=f"got {type(value).__name__}",
            expected="a description string or a dict of settings"))
    unknown = set(value) - _ENTRY_KEYS[kind]
    if unknown:
        raise ValueError(Errors.E006.format(
            kind=kind, label=label, reason=f"unknown keys {sorted(unknown)}",
            expected=f"only {sorted(_ENTRY_KEYS[kind])}"))
    return dict(value)


def _common(label: str, entry: Dict[str, Any], kind: str, base: str) -> Dict[str, Any]:
    class_name = entry.get("class_name") or class_name_for_label(label)
    if not is_valid_class_name(class_name):
        raise ValueError(Errors.E003.format(
            label=label, reason=f"'{class_name}' is not a valid identifier"))
    description = entry.get("description") or ""
    if not isinstance(description, str):
        raise ValueError(Errors.E006.format(kind=kind, label=label,
                                            reason="'description' is not a string",
                                            expected="a one-line description"))
    parents = _string_tuple(kind, label, "parents", entry.get("parents")) or (base,)
    return {"label": label, "class_name": class_name,
            "description": _one_line(description),
            "parents": tuple(_parent_class(p) for p in parents),
            "wikidata_id": entry.get("wikidata_id")}


def _one_line(text: str) -> str:
    # A docstring line cannot hold a newline; other whitespace is kept as given.
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def _parent_class(parent: str) -> str:
    # "Location" is taken as a class name; "location" as a label to convert.
    if is_valid_class_name(parent) and parent[:1].isupper():
        return parent
    return class_name_for_label(parent)


def _entity(label: str, entry: Dict[str, Any]) -> EntityType:
    common = _common(label, entry, "entity", BASE_ENTITY)
    examples = _string_tuple("entity", label, "examples", entry.get("examples"))
    return EntityType(examples=examples, **common)


def _relation(label: str, entry: Dict[str, Any], entity_classes: Dict[str, str]) -> RelationType:
    common = _common(label, entry, "relation", BASE_RELATION)
    head = _constraint(label, "head", entry.get("head"), entity_classes)
    tail = _constraint(label, "tail", entry.get("tail"), entity_classes)
    examples = _example_pairs(label, entry.get("examples"))
    return RelationType(head=head, tail=tail, examples=examples, **common)


def _event(label: str, entry: Dict[str, Any]) -> EventType:
    common = _common(label, entry, "event", BASE_EVENT)
    roles = _string_tuple("event", label, "roles", entry.get("roles"))
    for role in roles:
        if not role.isidentifier():
            raise ValueError(Errors.E018.format(label=label, role=role))
    examples = _string_tuple("event", label, "examples", entry.get("examples"))
    return EventType(roles=roles, examples=examples, **common)


def _constraint(label: str, side: str, value: Any,
                entity_classes: Dict[str, str]) -> Tuple[str, ...]:
    names = _string_tuple("relation", label, side, value)
    resolved = []
    for name in names:
        if name == BASE_ENTITY:
            continue
        if name in entity_classes:
            resolved.append(entity_classes[name])
        elif name in entity_classes.values():
            resolved.append(name)
        else:
            known = ", ".join(sorted(entity_classes)) or "(none)"
            raise ValueError(Errors.E007.format(label=label, side=side, type_name=name,
                                                known=known))
    return tuple(dict.fromkeys(resolved))


def _example_pairs(label: str, value: Any) -> Tuple[Tuple[str, str], ...]:
    if value is None:
        return ()
    pairs = []
    for item in value if isinstance(value, Sequence) and not isinstance(value, str) else [value]:
        if (not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2
                or not all(isinstance(x, str) for x in item)):
            raise ValueError(Errors.E006.format(
                kind="relation", label=label, reason=f"bad example {item!r}",
                expected="'examples' as a list of [head, tail] string pairs"))
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _string_tuple(kind: str, label: str, key: str, value: Any) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(Errors.E006.format(kind=kind, label=label,
                                            reason=f"'{key}' is {value!r}",
                                            expected=f"'{key}' as a list of strings"))
    return tuple(value)


def _label_to_class(entities: Sequence[EntityType]) -> Dict[str, str]:
    return {e.label: e.class_name for e in entities}


def schema_to_dict(schema: Schema) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """The inverse of ``schema_from_dict``: a JSON-serializable dict.

    schema (Schema): The schema.
    RETURNS (dict): Dict form with explicit class names, so it round-trips exactly.
    """
    label_of = {e.class_name: e.label for e in schema.entities}
    out: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for section, types in (("entities", schema.entities), ("relations", schema.relations),
                           ("events", schema.events)):
        if not types:
            continue
        out[section] = {}
        for t in types:
            entry: Dict[str, Any] = {"class_name": t.class_name, "description": t.description,
                                     "examples": [list(e) if isinstance(e, tuple) else e
                                                  for e in t.examples],
                                     "parents": list(t.parents)}
            if t.wikidata_id:
                entry["wikidata_id"] = t.wikidata_id
            if isinstance(t, RelationType):
                entry["head"] = [label_of.get(c, c) for c in t.head]
                entry["tail"] = [label_of.get(c, c) for c in t.tail]
            if isinstance(t, EventType):
                entry["roles"] = list(t.roles)
            out[section][t.label] = entry
    return out

