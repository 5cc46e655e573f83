"""Render schema types as KnowCoder class definitions (the released SFT format).

The format is byte-compatible with the KnowCoder training data (see
``tests/test_prompting.py``, which checks it against the reference rows):
tab indentation, a ``Description:``/``Examples:`` docstring, and per task a
different event shape (ED lists ``arg_names``; EAE takes one ``List[ Entity ]``
parameter per role and keeps trigger examples in a comment).

Example:
    >>> from spacy_knowcoder.schema import EntityType
    >>> lines = render_entity(EntityType("person", "Person", "A human.", ("Ann",))).splitlines()
    >>> lines[0], lines[2].strip(), lines[-1].strip()
    ('class Person(Entity):', 'Description: A human.', 'pass')
"""
from typing import Iterable, List, Sequence

from .types import BASE_ENTITY, EntityType, EventType, RelationType, Schema

T = "\t"
QUOTES = '"""'

ENTITY_BASE = (
    'class Entity:\n\t"""\n\tThe base class for all entities.\n\t"""\n'
    "\tdef __init__(self, name: str):\n\t\tself.name = name\n"
)
RELATION_BASE = (
    'class Relation:\n\t"""\n\tThe base class for all relations.\n\t"""\n'
    "\tdef __init__(self, head_entity: Entity, tail_entity: Entity):\n"
    "\t\tself.head_entity = head_entity\n\t\tself.tail_entity = tail_entity\n"
)
EVENT_BASE_ED = (
    'class Event:\n\t"""\n\tThe base class for all events.\n\t"""\n'
    "\tdef __init__(self, trigger: str, arg_names, *args):\n"
    "\t\tself.trigger = trigger\n\t\tself.arguments = {}\n"
    "\t\tfor arg_name, arg_values in zip(arg_names, args):\n"
    "\t\t\tself.arguments[arg_name] = arg_values\n"
)
EVENT_BASE_EAE = (
    'class Event:\n\t"""\n\tThe base class for all events.\n\t"""\n'
    "\tdef __init__(self, trigger: str):\n\t\tself.trigger = trigger\n"
)


def _class_line(class_name: str, parents: Sequence[str]) -> str:
    return f"class {class_name}({', '.join(parents)}):\n"


def _docstring(description: str, examples_line: "str | None") -> str:
    lines = [f"{T}{QUOTES}\n", f"{T}Description: {description}\n"]
    if examples_line is not None:
        lines.append(f"{T}Examples: {examples_line}\n")
    lines.append(f"{T}{QUOTES}\n")
    return "".join(lines)


def _joined(examples: Iterable[str]) -> str:
    return ", ".join(examples)


def _each_followed(examples: Iterable[str]) -> str:
    # Event trigger examples: every item is followed by ", " (reference format).
    return "".join(f"{e}, " for e in examples)


def render_entity(entity: EntityType) -> str:
    """Render an entity type for an NER (or RE) prompt."""
    return (_class_line(entity.class_name, entity.parents)
            + _docstring(entity.description, _joined(entity.examples))
            + f"{T}pass\n")


def render_relation(relation: RelationType) -> str:
    """Render a relation type with its head/tail constraints as type hints."""
    head = " | ".join(relation.head) or BASE_ENTITY
    tail = " | ".join(relation.tail) or BASE_ENTITY
    examples = _joined(f"({h}, {t})" for h, t in relation.examples)
    return (_class_line(relation.class_name, relation.parents)
            + _docstring(relation.description, examples)
            + f"{T}def __init__(self, head_entity: {head}, tail_entity: {tail}):\n"
            + f"{T}{T}super().__init__(head_entity = head_entity, tail_entity = tail_entity)\n")


def render_event_ed(event: EventType) -> str:
    """Render an event type for event detection (roles listed in ``arg_names``)."""
    roles = ", ".join(f'"{role}"' for role in event.roles)
    return (_class_line(event.class_name, event.parents)
            + _docstring(event.description, _each_followed(event.examples))
            + f"{T}def __init__(self, trigger: str, *args):\n"
            + f"{T}{T}arg_names = [{roles}]\n"
            + f"{T}{T}super().__init__(trigger = trigger, arg_names = arg_names, *args)\n")


def render_event_eae(event: EventType) -> str:
    """Render an event type for argument extraction (one parameter per role)."""
    params: List[str] = [f"{T}{T}self,\n",
                         f"{T}{T}trigger: str, # Examples: {_each_followed(event.examples)}\n"]
    params.extend(f"{T}{T}{role}: List[ Entity ],\n" for role in event.roles)
    params[-1] = params[-1].replace(",\n", "\n") if event.roles else params[-1]
    body = "".join(f"{T}{T}self.{role} = {role}\n" for role in event.roles)
    return (_class_line(event.class_name, event.parents)
            + _docstring(event.description, None)
            + f"{T}def __init__(\n" + "".join(params) + f"{T}):\n"
            + f"{T}{T}super().__init__(trigger = trigger)\n" + body)


def render_schema(schema: Schema) -> str:
    """Render a whole schema as one Python module (base classes included).

    Entities, relations and events (in the EAE shape, which carries the roles as
    typed parameters) follow their base classes; ``schema_from_source`` reads
    the result back.

    schema (Schema): The schema.
    RETURNS (str): Python source.
    """
    blocks: List[str] = []
    if schema.entities or schema.relations or schema.events:
        blocks.append(ENTITY_BASE)
    blocks.extend(render_entity(e) for e in schema.entities)
    if schema.relations:
        blocks.append(RELATION_BASE)
        blocks.extend(render_relation(r) for r in schema.relations)
    if schema.events:
        blocks.append(EVENT_BASE_EAE)
        blocks.extend(render_event_eae(e) for e in schema.events)
    return "\n".join(blocks)
