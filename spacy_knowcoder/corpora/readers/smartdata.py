"""DFKI SmartData v1 (``train.json.gz``): German entities, relations and events.

The file is a gzipped stream of JSON documents in Avro-JSON encoding: the text
is ``text.string``, ``conceptMentions.array`` holds typed character spans, and
``relationMentions.array`` holds n-ary mentions (``name``, ``args.array`` of
``role`` + ``conceptMention``). One record per document:

- **entities**: every concept mention but the ``trigger`` ones, typed by the
  label map (``location-city`` -> ``city``);
- **events**: a relation mention with exactly one ``trigger`` argument
  (``TrafficJam`` -> ``traffic jam``), the other arguments with their roles;
- **relations**: ``OrganizationLeadership`` (no trigger) becomes the binary
  relation *person* ``leader of`` *organization*.

Relation mentions that fit none of these (no trigger or several, as in most
``Disaster`` mentions) are skipped and counted in one warning (W250). Spans
are taken from the offsets (the ``normalizedValue`` of dates and numbers may
differ from the text) and trimmed of surrounding whitespace.

Example:
    >>> import gzip, json, tempfile, pathlib
    >>> def span(s, e): return {"span": {"start": s, "end": e}}
    >>> doc = {"text": {"string": "Stau auf der A1."},
    ...        "conceptMentions": {"array": [dict(span(0, 4), type="trigger"),
    ...                                       dict(span(13, 15), type="location-route")]},
    ...        "relationMentions": {"array": [{"name": "TrafficJam", "args": {"array": [
    ...            {"role": "trigger", "conceptMention": dict(span(0, 4), type="trigger")},
    ...            {"role": "location", "conceptMention": dict(span(13, 15), type="location-route")}]}}]}}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.json.gz"
    >>> _ = path.write_bytes(gzip.compress(json.dumps(doc).encode("utf-8")))
    >>> record = next(read_smartdata(path, {"location-route": "route", "TrafficJam": "traffic jam"}))
    >>> record["entities"][0]["label"], record["events"][0]["type"], record["events"][0]["trigger"]["text"]
    ('route', 'traffic jam', 'Stau')
"""
import gzip
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from ...errors import Errors, Warnings, warn
from ..records import Record, make_record, mention, role_name

TRIGGER = "trigger"
LEADERSHIP = "OrganizationLeadership"
LEADER_OF = "leader of"
EXPECTED = ("a stream of Avro-JSON documents with text.string, conceptMentions.array and "
            "relationMentions.array")


def read_smartdata(path: Path, label_map: Mapping[str, str], *,
                   dataset: str = "smartdata_de") -> Iterator[Record]:
    """Yield one record per SmartData document, in file order."""
    skipped = 0
    for number, document in enumerate(_documents(path)):
        text = _text(path, number, document)
        entities = [_mention(path, number, text, concept, label_map, dataset)
                    for concept in _array(document, "conceptMentions")
                    if concept.get("type") != TRIGGER]
        events: List[Dict[str, Any]] = []
        relations: List[Dict[str, Any]] = []
        for item in _array(document, "relationMentions"):
            converted = _relation_mention(path, number, text, item, label_map, dataset)
            if converted is None:
                skipped += 1
            elif "trigger" in converted:
                events.append(converted)
            else:
                relations.append(converted)
        yield make_record(f"smartdata-{number}", text, [e for e in entities if e],
                          relations, events)
    if skipped:
        warn(Warnings.W250.format(count=skipped, path=path, reason="their relation mentions "
                                  "have no trigger (or several) and are not a leadership"))


def _documents(path: Path) -> Iterator[Dict[str, Any]]:
    try:
        raw = gzip.decompress(Path(path).read_bytes()).decode("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(Errors.E021.format(path=path)) from None
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ValueError(Errors.E250.format(path=path, line=1, reason=f"not a gzipped UTF-8 "
                                            f"file ({err})", expected=EXPECTED)) from None
    decoder, position = json.JSONDecoder(), 0
    while True:
        while position < len(raw) and raw[position].isspace():
            position += 1
        if position >= len(raw):
            return
        try:
            document, position = decoder.raw_decode(raw, position)
        except json.JSONDecodeError as err:
            raise ValueError(Errors.E256.format(path=path, line=err.lineno, reason=err.msg,
                                                expected=EXPECTED)) from None
        if not isinstance(document, dict):
            raise ValueError(Errors.E250.format(path=path, line=raw.count("\n", 0, position),
                                                reason="a document is not an object",
                                                expected=EXPECTED))
        yield document


def _text(path: Path, number: int, document: Dict[str, Any]) -> str:
    text = (document.get("text") or {}).get("string")
    if not isinstance(text, str):
        raise ValueError(Errors.E250.format(path=path, line=f"document {number}",
                                            reason="it has no text.string", expected=EXPECTED))
    return text


def _array(document: Dict[str, Any], key: str) -> List[Dict[str, Any]]:
    return list((document.get(key) or {}).get("array") or [])


def _span(path: Path, number: int, text: str, concept: Any) -> Dict[str, Any]:
    span = concept.get("span") if isinstance(concept, dict) else None
    start, end = (span or {}).get("start"), (span or {}).get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
            and text[start:end].strip()):
        raise ValueError(Errors.E250.format(path=path, line=f"document {number}",
                                            reason=f"the span {span!r} is not in the text",
                                            expected="character offsets into text.string"))
    while text[start].isspace():
        start += 1
    while text[end - 1].isspace():
        end -= 1
    return mention(text, start, end)


def _mention(path: Path, number: int, text: str, concept: Dict[str, Any],
             label_map: Mapping[str, str], dataset: str) -> Dict[str, Any]:
    type_ = concept.get("type")
    if type_ not in label_map:
        raise ValueError(Errors.E251.format(label=type_, path=path, line=f"document {number}",
                                            dataset=dataset, known=", ".join(sorted(label_map))))
    return dict(_span(path, number, text, concept), label=label_map[type_])


def _relation_mention(path: Path, number: int, text: str, item: Dict[str, Any],
                      label_map: Mapping[str, str], dataset: str) -> Optional[Dict[str, Any]]:
    name = item.get("name")
    args = list((item.get("args") or {}).get("array") or [])
    if name == LEADERSHIP:
        by_role = {a.get("role"): a.get("conceptMention") for a in args}
        if by_role.get("person") is None or by_role.get("organization") is None:
            return None
        return {"head": _mention(path, number, text, by_role["person"], label_map, dataset),
                "tail": _mention(path, number, text, by_role["organization"], label_map,
                                 dataset), "label": LEADER_OF}
    if name not in label_map:
        raise ValueError(Errors.E251.format(label=name, path=path, line=f"document {number}",
                                            dataset=dataset, known=", ".join(sorted(label_map))))
    triggers = [a for a in args if a.get("role") == TRIGGER]
    if len(triggers) != 1:
        return None
    arguments = [dict(_span(path, number, text, a.get("conceptMention")),
                      role=role_name(str(a.get("role"))))
                 for a in args if a.get("role") != TRIGGER]
    return {"trigger": _span(path, number, text, triggers[0].get("conceptMention")),
            "type": label_map[name], "arguments": arguments}
