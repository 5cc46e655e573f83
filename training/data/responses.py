"""Render gold records as KnowCoder answers (``results = [...]``, DESIGN §3).

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human."}})
    >>> record = {"text": "Ann", "entities": [{"start": 0, "end": 3, "label": "person", "text": "Ann"}]}
    >>> render_results("ner", record, schema)
    'results = [\\n\\tPerson("Ann")\\n]'
"""
from typing import Any, Dict, List, Optional

from spacy_knowcoder.answer import EMPTY_RESULTS as EMPTY  # noqa: F401 - used by stats, understanding
from spacy_knowcoder.answer import entity_item, event_item, relation_item, trigger_item
from spacy_knowcoder.answer import render_results as render_items
from spacy_knowcoder.schema import Schema


def render_results(task: str, record: Dict[str, Any], schema: Schema) -> str:
    """The answer for ``record`` restricted to the classes of ``schema``.

    Items whose label is not in ``schema`` (negative candidates) are left out,
    so a prompt whose candidates miss every gold class answers ``results = []``.
    """
    items = {"ner": _entities, "re": _relations, "ed": _events_ed,
             "eae": _events_eae}[task](record, schema)
    return render_items(list(dict.fromkeys(items)))


def _class(schema: Schema, kind: str, label: str) -> Optional[str]:
    found = schema.by_label(kind, label)
    return found.class_name if found is not None else None


def _entities(record: Dict[str, Any], schema: Schema) -> List[str]:
    out = []
    for ent in sorted(record.get("entities", []), key=lambda e: (e["start"], e["end"])):
        name = _class(schema, "entity", ent["label"])
        if name:
            out.append(entity_item(name, ent["text"]))
    return out


def _relations(record: Dict[str, Any], schema: Schema) -> List[str]:
    out = []
    for rel in record.get("relations", []):
        name = _class(schema, "relation", rel["label"])
        if name:
            out.append(relation_item(name, rel["head"]["text"], rel["tail"]["text"]))
    return out


def _sorted_events(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    return sorted(record.get("events", []), key=lambda e: e["trigger"]["start"])


def _events_ed(record: Dict[str, Any], schema: Schema) -> List[str]:
    out = []
    for event in _sorted_events(record):
        name = _class(schema, "event", event["type"])
        if name:
            out.append(trigger_item(name, event["trigger"]["text"]))
    return out


def _events_eae(record: Dict[str, Any], schema: Schema) -> List[str]:
    out = []
    for event in _sorted_events(record):
        event_type = schema.by_label("event", event["type"])
        if event_type is None:
            continue
        # Roles in the schema's order, each mention once; roles the schema lacks are dropped.
        roles = [(role, list(dict.fromkeys(a["text"] for a in event["arguments"]
                                           if a["role"] == role)))
                 for role in event_type.roles]  # type: ignore[union-attr]
        out.append(event_item(event_type.class_name, event["trigger"]["text"], roles))
    return out
