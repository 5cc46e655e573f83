"""Read, validate and write benchmark JSONL files and their label files (DESIGN §5).

A dataset is one JSON object per line::

    {"id": "...", "text": "...",
     "entities":  [{"start": 0, "end": 12, "label": "person", "text": "Barack Obama"}],
     "relations": [{"head": {...}, "tail": {...}, "label": "work for"}],
     "events":    [{"trigger": {...}, "type": "marriage",
                    "arguments": [{"start", "end", "text", "role"}]}]}

Offsets are character offsets, end exclusive. Every problem is reported with its
line number and a coded error (E450-E455): bad JSON, a missing id or text,
offsets outside the text, a mention text that differs from ``text[start:end]``,
a repeated id, an empty file. Records come back normalized: the three lists are
always present and every mention has its ``text``.

The label file describes the labels of one dataset::

    {"entity_labels": {"person": "A human being."},
     "relation_labels": {"work for": "..."},
     "event_types": {"marriage": {"description": "...", "roles": ["spouse"]}}}

Example:
    >>> record = {"id": "1", "text": "Ann met Bob.",
    ...           "entities": [{"start": 0, "end": 3, "label": "person"}]}
    >>> validate_record(record)["entities"][0]["text"]
    'Ann'
    >>> labels = parse_label_file({"entity_labels": {"person": "A human being."}})
    >>> labels.tasks
    ['ner']
    >>> labels.schema().entities[0].class_name
    'Person'
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Union

from ..errors import Errors
from ..fileio import read_text, write_jsonl
from ..schema.build import schema_from_dict
from ..schema.types import Schema

Record = Dict[str, Any]
PathLike = Union[str, Path]
LABEL_SECTIONS = ("entity_labels", "relation_labels", "event_types")


class _Where:
    """Where a record came from, for error messages."""

    def __init__(self, path: PathLike = "<records>", line: int = 0, record: Any = None):
        self.path, self.line, self.record = str(path), line, record

    def fail(self, reason: str, expected: str) -> ValueError:
        return ValueError(Errors.E451.format(line=self.line, path=self.path,
                                             record=self.record, reason=reason,
                                             expected=expected))


def read_benchmark(path: PathLike, *, limit: Optional[int] = None) -> List[Record]:
    """Read and validate a benchmark JSONL file.

    path (PathLike): The file.
    limit (Optional[int]): Read only the first ``limit`` records.
    RETURNS (List[Record]): The normalized records (at least one).
    """
    records: List[Record] = []
    first_line: Dict[str, int] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if limit is not None and len(records) >= limit:
            break
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(Errors.E450.format(line=number, path=path, reason=err.msg)) from None
        record = validate_record(data, path=path, line=number)
        key = str(record["id"])
        if key in first_line:
            raise ValueError(Errors.E454.format(line=number, path=path, record=record["id"],
                                                first=first_line[key]))
        first_line[key] = number
        records.append(record)
    if not records:
        detail = f" (with --limit {limit})" if limit is not None else ""
        raise ValueError(Errors.E455.format(path=path, detail=detail))
    return records


def write_benchmark(path: PathLike, records: Iterable[Mapping[str, Any]]) -> int:
    """Write records as JSONL, atomically; returns the number written."""
    return write_jsonl(path, records)


def validate_record(data: Any, *, path: PathLike = "<records>", line: int = 0) -> Record:
    """Check one record and return its normalized copy (coded errors E451-E453)."""
    where = _Where(path, line, data.get("id") if isinstance(data, dict) else None)
    if not isinstance(data, dict):
        raise where.fail(f"got {type(data).__name__}", "a JSON object")
    record_id = data.get("id")
    if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or record_id == "":
        raise where.fail(f"'id' is {record_id!r}", "a non-empty string or integer 'id'")
    text = data.get("text")
    if not isinstance(text, str):
        raise where.fail(f"'text' is {type(text).__name__}", "a string 'text'")
    record = {key: value for key, value in data.items()
              if key not in ("entities", "relations", "events")}
    record["entities"] = [_mention(m, text, where, "entity", "label")
                          for m in _list(data, "entities", where)]
    record["relations"] = [_relation(r, text, where) for r in _list(data, "relations", where)]
    record["events"] = [_event(e, text, where) for e in _list(data, "events", where)]
    return record


def _list(data: Mapping[str, Any], key: str, where: _Where) -> List[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.fail(f"'{key}' is {type(value).__name__}", f"a list under '{key}'")
    return value


def _mention(data: Any, text: str, where: _Where, what: str,
             label_key: Optional[str] = None, label_required: bool = True) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise where.fail(f"a {what} is {type(data).__name__}", f"a {what} object")
    start, end = data.get("start"), data.get("end")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise where.fail(f"a {what} has start={start!r}, end={end!r}",
                         "integer character offsets 'start' and 'end'")
    if not 0 <= start < end <= len(text):
        raise ValueError(Errors.E452.format(line=where.line, path=where.path,
                                            record=where.record, what=what, start=start,
                                            end=end, length=len(text)))
    found = text[start:end]
    given = data.get("text", found)
    if given != found:
        raise ValueError(Errors.E453.format(line=where.line, path=where.path,
                                            record=where.record, what=what, text=given,
                                            start=start, end=end, found=found))
    mention = dict(data, text=found)
    if label_key is not None:
        label = data.get(label_key)
        if label is None and not label_required:
            return mention
        if not isinstance(label, str) or not label:
            raise where.fail(f"a {what} has {label_key}={label!r}",
                             f"a non-empty string '{label_key}'")
    return mention


def _relation(data: Any, text: str, where: _Where) -> Dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("label"), str):
        raise where.fail("a relation has no string 'label'",
                         "relations {\"head\": {...}, \"tail\": {...}, \"label\": str}")
    relation = dict(data)
    for side in ("head", "tail"):
        relation[side] = _mention(data.get(side), text, where, f"relation {side}", "label",
                                  label_required=False)
    return relation


def _event(data: Any, text: str, where: _Where) -> Dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise where.fail("an event has no string 'type'",
                         "events {\"trigger\": {...}, \"type\": str, \"arguments\": [...]}")
    event = dict(data)
    event["trigger"] = _mention(data.get("trigger"), text, where, "event trigger")
    event["arguments"] = [_mention(a, text, where, "event argument", "role")
                          for a in _list(data, "arguments", where)]
    return event


@dataclass(frozen=True)
class LabelSet:
    """The labels of a dataset with their descriptions (a label file).

    entity_labels (Dict[str, Any]): Entity label -> description (or settings).
    relation_labels (Dict[str, Any]): Relation label -> description (or settings).
    event_types (Dict[str, Dict[str, Any]]): Event type -> {"description", "roles"}.
    """

    entity_labels: Dict[str, Any] = field(default_factory=dict)
    relation_labels: Dict[str, Any] = field(default_factory=dict)
    event_types: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @property
    def tasks(self) -> List[str]:
        """The tasks these labels support, in pipeline order."""
        return (["ner"] * bool(self.entity_labels) + ["re"] * bool(self.relation_labels)
                + ["ed", "eae"] * bool(self.event_types))

    def roles(self, event_type: str) -> List[str]:
        """The roles of an event type."""
        return list(self.event_types.get(event_type, {}).get("roles") or [])

    def schema_dict(self) -> Dict[str, Any]:
        """The labels in the schema dict form of ``schema_from_dict``."""
        return {"entities": dict(self.entity_labels), "relations": dict(self.relation_labels),
                "events": {k: dict(v) for k, v in self.event_types.items()}}

    def schema(self) -> Schema:
        """The schema: one class per label, documented by its description."""
        return schema_from_dict(self.schema_dict())


def read_label_file(path: PathLike) -> LabelSet:
    """Read and validate a label file (coded error E456)."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise ValueError(Errors.E456.format(path=path, reason=f"invalid JSON: {err}")) from None
    return parse_label_file(data, path=path)


def parse_label_file(data: Any, *, path: PathLike = "<labels>") -> LabelSet:
    """Validate the content of a label file; see ``read_label_file``."""
    def fail(reason: str) -> ValueError:
        return ValueError(Errors.E456.format(path=path, reason=reason))

    if not isinstance(data, dict):
        raise fail(f"the top level is {type(data).__name__}")
    unknown = sorted(set(data) - set(LABEL_SECTIONS))
    if unknown:
        raise fail(f"unknown keys {unknown}")
    sections = {key: data.get(key) or {} for key in LABEL_SECTIONS}
    for key, section in sections.items():
        if not isinstance(section, dict):
            raise fail(f"'{key}' is {type(section).__name__}, not an object")
        for label, value in section.items():
            _check_label_entry(key, label, value, fail)
    events = {t: ({"description": v} if isinstance(v, str) else dict(v))
              for t, v in sections["event_types"].items()}
    labels = LabelSet(dict(sections["entity_labels"]), dict(sections["relation_labels"]),
                      events)
    if not labels.tasks:
        raise fail("it defines no label")
    try:
        labels.schema()
    except ValueError as err:
        raise fail(f"the labels do not make a schema: {err}") from None
    return labels


def _check_label_entry(section: str, label: Any, value: Any, fail: Any) -> None:
    if not isinstance(label, str) or not label.strip():
        raise fail(f"{section} has the label {label!r}")
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        raise fail(f"{section}[{label!r}] is {type(value).__name__}, not a description")
    roles = value.get("roles", [])
    if section == "event_types" and (not isinstance(roles, list)
                                     or not all(isinstance(r, str) for r in roles)):
        raise fail(f"event_types[{label!r}]['roles'] is not a list of strings")


def check_labels(records: Iterable[Record], labels: LabelSet, *, data: PathLike = "<data>",
                 labels_path: PathLike = "<labels>") -> None:
    """Fail (E457) when the records use labels, types or roles the label file lacks."""
    used: Dict[str, Set[str]] = {"entity labels": set(), "relation labels": set(),
                                 "event types": set(), "event roles": set()}
    for record in records:
        used["entity labels"].update(e["label"] for e in record["entities"])
        for relation in record["relations"]:
            used["relation labels"].add(relation["label"])
            # "entity" is the untyped base class, which every label file has.
            used["entity labels"].update(relation[s]["label"] for s in ("head", "tail")
                                         if relation[s].get("label") not in (None, "entity"))
        for event in record["events"]:
            used["event types"].add(event["type"])
            used["event roles"].update(f"{event['type']}.{a['role']}"
                                       for a in event["arguments"])
    known = {"entity labels": set(labels.entity_labels),
             "relation labels": set(labels.relation_labels),
             "event types": set(labels.event_types),
             "event roles": {f"{t}.{r}" for t in labels.event_types for r in labels.roles(t)}}
    for kind, names in used.items():
        missing = sorted(names - known[kind])
        if missing:
            raise ValueError(Errors.E457.format(
                data=data, kind=kind, labels=_preview(missing), labels_path=labels_path,
                known=_preview(sorted(known[kind])) or "none"))


def _preview(names: List[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
