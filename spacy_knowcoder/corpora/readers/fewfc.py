"""FewFC (``rearranged/train_*.json``): Chinese financial events in JSON lines.

Each line is ``{"id", "content", "events": [{"type", "mentions": [{"word",
"span": [start, end], "role"}]}]}`` with exclusive character ends. The mention
whose role is ``trigger`` is the trigger; the others are arguments, their roles
turned into identifiers (``obj-org`` -> ``obj_org``). Event types are Chinese
(``质押``); the label map gives each its English class name (``pledge``), so
Chinese events share one ontology with the other languages. Every span is
checked against its word (E250 names the line when one is off).

Example:
    >>> import tempfile, pathlib, json
    >>> row = {"id": "a", "content": "甲公司收购乙公司。", "events": [{"type": "收购", "mentions": [
    ...     {"word": "收购", "span": [3, 5], "role": "trigger"},
    ...     {"word": "甲公司", "span": [0, 3], "role": "sub-org"}]}]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.json"
    >>> _ = path.write_text(json.dumps(row, ensure_ascii=False) + "\\n", encoding="utf-8")
    >>> event = next(read_fewfc(path, {"收购": "acquisition"}))["events"][0]
    >>> event["type"], event["trigger"]["text"], event["arguments"][0]["role"]
    ('acquisition', '收购', 'sub_org')
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping

from ...errors import Errors
from ..records import Record, make_record, mention, role_name
from .jsonfiles import read_jsonl, require

EXPECTED = ('{"id", "content", "events": [{"type", "mentions": [{"word", "span": [start, '
            'end], "role"}]}]} with one "trigger" mention per event')
TRIGGER = "trigger"


def read_fewfc(path: Path, label_map: Mapping[str, str], *,
               dataset: str = "fewfc") -> Iterator[Record]:
    """Yield one record per FewFC sentence, in file order."""
    for number, row in read_jsonl(path, expected=EXPECTED):
        require(row, ("content", "events"), path, number, "FewFC line")
        text = row["content"]
        events = [_event(path, number, text, event, label_map, dataset)
                  for event in row["events"]]
        yield make_record(str(row.get("id") or f"{Path(path).stem}-{number}"), text,
                          events=events)


def _event(path: Path, number: int, text: str, event: Any, label_map: Mapping[str, str],
           dataset: str) -> Dict[str, Any]:
    if not isinstance(event, dict) or "type" not in event or "mentions" not in event:
        raise ValueError(Errors.E250.format(path=path, line=number, reason="an event lacks "
                                            "'type' or 'mentions'", expected=EXPECTED))
    if event["type"] not in label_map:
        raise ValueError(Errors.E251.format(label=event["type"], path=path, line=number,
                                            dataset=dataset, known=", ".join(sorted(label_map))))
    triggers = [m for m in event["mentions"] if m.get("role") == TRIGGER]
    if len(triggers) != 1:
        raise ValueError(Errors.E250.format(path=path, line=number, reason=f"an event has "
                                            f"{len(triggers)} trigger mentions",
                                            expected=EXPECTED))
    arguments: List[Dict[str, Any]] = []
    for item in event["mentions"]:
        if item.get("role") == TRIGGER:
            continue
        argument = _mention(path, number, text, item)
        argument["role"] = role_name(str(item.get("role", "")))
        arguments.append(argument)
    return {"trigger": _mention(path, number, text, triggers[0]),
            "type": label_map[event["type"]], "arguments": arguments}


def _mention(path: Path, number: int, text: str, item: Any) -> Dict[str, Any]:
    span = item.get("span") if isinstance(item, dict) else None
    valid = (isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span)
             and 0 <= span[0] < span[1] <= len(text) and text[span[0]:span[1]] == item.get("word"))
    if not valid:
        raise ValueError(Errors.E250.format(path=path, line=number,
                                            reason=f"the mention {item!r} is not at its span",
                                            expected="[start, end) offsets of each word"))
    return mention(text, span[0], span[1])
