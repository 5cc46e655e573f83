"""GENEVA (OneIE-style JSON lines): sentence-level events with arguments.

Each line has ``sentence``, ``tokens``, ``entity_mentions`` (token spans) and
``event_mentions`` (``event_type``, token-span ``trigger``, ``arguments`` that
point at entity mentions by id). The raw sentence is kept when the tokens
align with it; types become natural labels (``Commerce_money-transfer`` ->
``commerce money transfer``) and roles snake_case identifiers
(``Created_entity`` -> ``created_entity``) unless a label map says otherwise.

Example:
    >>> import tempfile, pathlib, json
    >>> row = {"wnd_id": "w1", "sentence": "They built a house .",
    ...        "tokens": ["They", "built", "a", "house", "."],
    ...        "entity_mentions": [{"id": "m1", "start": 2, "end": 4, "text": "a house"}],
    ...        "event_mentions": [{"event_type": "Building", "trigger": {"start": 1, "end": 2},
    ...                            "arguments": [{"entity_id": "m1", "role": "Created_entity"}]}]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "val.json"
    >>> _ = path.write_text(json.dumps(row) + "\\n", encoding="utf-8")
    >>> event = next(read_geneva(path))["events"][0]
    >>> event["type"], event["trigger"]["text"], event["arguments"][0]["role"]
    ('building', 'built', 'created_entity')
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ...errors import Errors
from ..records import Record, make_record, mention, natural_label, role_name
from ..records import token_span_offsets, tokens_to_text
from .jsonfiles import read_jsonl, require


def read_geneva(path: Path, label_map: Optional[Mapping[str, str]] = None, *,
                dataset: str = "geneva") -> Iterator[Record]:
    """Yield one record per sentence (label_map: raw event type -> label)."""
    for line, row in read_jsonl(path, expected="a GENEVA sentence object"):
        require(row, ("tokens", "entity_mentions", "event_mentions"), path, line,
                "GENEVA sentence")
        text, offsets = tokens_to_text(row.get("sentence"), row["tokens"])
        spans = {m["id"]: (m["start"], m["end"]) for m in row["entity_mentions"]}
        events = [_event(path, line, text, offsets, spans, event, label_map)
                  for event in row["event_mentions"]]
        yield make_record(str(row.get("wnd_id", f"{Path(path).stem}-{line}")), text,
                          events=events)


def _event(path: Path, line: int, text: str, offsets: Sequence[Tuple[int, int]],
           spans: Mapping[str, Tuple[int, int]], event: Dict[str, Any],
           label_map: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    trigger = event.get("trigger") or {}
    try:
        start, end = token_span_offsets(offsets, trigger["start"], trigger["end"])
    except (KeyError, IndexError, TypeError):
        raise ValueError(Errors.E250.format(path=path, line=line,
                                            reason=f"bad trigger {trigger!r}",
                                            expected="a trigger with token start/end "
                                            "inside the sentence")) from None
    arguments: List[Dict[str, Any]] = []
    for argument in event.get("arguments", []):
        if argument.get("entity_id") not in spans:
            raise ValueError(Errors.E250.format(
                path=path, line=line, reason=f"argument {argument!r} names an unknown "
                "entity mention", expected="an entity_id of entity_mentions"))
        arg_start, arg_end = token_span_offsets(offsets, *spans[argument["entity_id"]])
        item = mention(text, arg_start, arg_end)
        item["role"] = role_name(argument["role"])
        arguments.append(item)
    raw = event.get("event_type", "")
    label = (label_map or {}).get(raw) or natural_label(raw)
    return {"trigger": mention(text, start, end), "type": label, "arguments": arguments}
