"""Schemas of the training datasets, built from their label files (DESIGN §5).

Example:
    >>> shorten("Words in this frame. More detail follows here.", 30)
    'Words in this frame.'
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional

from spacy_knowcoder.corpora.catalog import label_file
from spacy_knowcoder.errors import Errors
from spacy_knowcoder.fileio import read_text
from spacy_knowcoder.schema import Schema, schema_from_dict


def shorten(description: str, limit: int) -> str:
    """The first sentence(s) of ``description`` within ``limit`` chars (0: keep all)."""
    text = " ".join(description.split())
    if not limit or len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    if cut > 0:
        return text[:cut + 1]
    words = text[:limit].rsplit(" ", 1)[0]
    return words.rstrip(",;:") + "..."


def load_labels(name: str, labels_dir: Optional[Path] = None) -> Dict[str, Any]:
    """A dataset's label file as a dict, with a coded error when it is invalid."""
    path = label_file(name, labels_dir)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise ValueError(Errors.E256.format(path=path, line=err.lineno, reason=err.msg,
                                            expected="a label file object")) from None
    return data


def dataset_schema(name: str, records: Iterable[Dict[str, Any]], *,
                   labels_dir: Optional[Path] = None, max_description_chars: int = 0,
                   definitions: Optional[Mapping[str, str]] = None) -> Schema:
    """The schema of a dataset: its label file, checked against its records.

    Event roles seen in the records but missing from the label file are added
    (GENEVA's ontology lists the core roles only for some frames); a label used
    by a record but missing from the file raises E258. ``definitions`` (the
    dataset's own, from its data folder: Pile-NER) fill the entity
    descriptions that the label file leaves empty.
    """
    labels = load_labels(name, labels_dir)
    entities = dict(labels.get("entity_labels") or {})
    for label, definition in (definitions or {}).items():
        if label in entities and not entities[label]:
            entities[label] = definition
    relations = dict(labels.get("relation_labels") or {})
    events = {k: dict(v) for k, v in (labels.get("event_types") or {}).items()}
    path = label_file(name, labels_dir)
    for record in records:
        for ent in record.get("entities", []):
            _require(entities, "entity", ent["label"], path, name)
        for rel in record.get("relations", []):
            _require(relations, "relation", rel["label"], path, name)
        for event in record.get("events", []):
            _require(events, "event type", event["type"], path, name)
            roles = events[event["type"]].setdefault("roles", [])
            for arg in event["arguments"]:
                if arg["role"] not in roles:
                    roles.append(arg["role"])
    limit = max_description_chars
    return schema_from_dict({
        "entities": {k: shorten(v, limit) for k, v in entities.items()},
        "relations": {k: shorten(v, limit) for k, v in relations.items()},
        "events": {k: {"description": shorten(v.get("description", ""), limit),
                       "roles": list(v.get("roles", []))} for k, v in events.items()},
    })


def _require(section: Dict[str, Any], kind: str, label: str, path: Path, name: str) -> None:
    if label not in section:
        raise ValueError(Errors.E258.format(path=path, kind=kind, label=label, dataset=name))
