"""WikiEvents (``dev.jsonl``, ``test.jsonl``): one record per sentence.

A document has ``text``, ``sentences`` (tokens with character offsets into
``text``), ``entity_mentions`` and ``event_mentions`` (doc token indices, with
``sent_idx``). Each sentence becomes a record whose text is the
sentence's tokens joined by spaces (the files' character offsets drift from
their ``text`` in places); arguments outside the trigger's sentence are left out
(counted in a W250 warning). KAIROS types become short natural labels
(``Life.Die.Unspecified`` -> ``die``; see ``kairos_labels``), roles snake_case.

Example:
    >>> kairos_labels(["Life.Die.Unspecified", "Contact.Contact.Meet",
    ...                "Contact.RequestCommand.Meet"])["Contact.RequestCommand.Meet"]
    'request command meet'
"""
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Tuple

from ...errors import Errors, Warnings, warn
from ..records import Record, make_record, mention, natural_label, role_name
from .jsonfiles import read_jsonl, require

UNSPECIFIED = "Unspecified"


def kairos_labels(types: Iterable[str]) -> Dict[str, str]:
    """Natural labels for KAIROS types: the most specific part, made unique.

    ``A.B.C`` -> ``c`` (``A.B.Unspecified`` -> ``b``); where two types would
    share a label, both get ``b c`` instead.
    """
    types = sorted(set(types))
    short = {t: _parts(t)[-1:] for t in types}
    counts = Counter(natural_label(".".join(p)) for p in short.values())
    labels = {}
    for type_ in types:
        label = natural_label(".".join(short[type_]))
        if counts[label] > 1:
            label = natural_label(".".join(_parts(type_)[-2:]))
        labels[type_] = label
    return labels


def _parts(type_: str) -> List[str]:
    parts = [p for p in type_.split(".") if p != UNSPECIFIED]
    return parts if len(parts) > 1 else type_.split(".")[:2]


def read_wikievents(path: Path, label_map: Mapping[str, str], *,
                    dataset: str = "wikievents") -> Iterator[Record]:
    """Yield sentence records; label_map: KAIROS type -> natural label."""
    dropped = 0
    for line, doc in read_jsonl(path, expected="a WikiEvents document object"):
        require(doc, ("doc_id", "text", "sentences", "tokens", "entity_mentions",
                      "event_mentions"), path, line, "WikiEvents document")
        # The tokens' character offsets do not always match doc["text"] (they
        # drift in some documents), so each sentence's text is rebuilt from its
        # tokens, joined by single spaces, with offsets computed here.
        token_chars: List[Tuple[int, int]] = []
        sentence_of: List[int] = []
        texts: List[str] = []
        for index, sentence in enumerate(doc["sentences"]):
            words = [tok[0] for tok in sentence[0]]
            position = 0
            for word in words:
                token_chars.append((position, position + len(word)))
                sentence_of.append(index)
                position += len(word) + 1
            texts.append(" ".join(words))
        entities = {m["id"]: m for m in doc["entity_mentions"]}
        by_sentence: Dict[int, List[Dict[str, Any]]] = {}
        for event in doc["event_mentions"]:
            trigger = event["trigger"]
            if sentence_of[trigger["start"]] != sentence_of[trigger["end"] - 1]:
                dropped += 1  # a trigger across a sentence boundary fits no record
                continue
            by_sentence.setdefault(sentence_of[trigger["start"]], []).append(event)
        for index, text in enumerate(texts):
            events = []
            for event in by_sentence.get(index, []):
                built, lost = _event(path, line, text, token_chars, sentence_of, index,
                                     entities, event, label_map, dataset)
                events.append(built)
                dropped += lost
            yield make_record(f"{doc['doc_id']}-{index}", text, events=events)
    if dropped:
        warn(Warnings.W250.format(count=dropped, path=path, reason="the argument is in "
                                  "another sentence than its trigger"))


def _event(path: Path, line: int, text: str,
           token_chars: List[Tuple[int, int]], sentence_of: List[int], index: int,
           entities: Mapping[str, Dict[str, Any]], event: Dict[str, Any],
           label_map: Mapping[str, str], dataset: str) -> Tuple[Dict[str, Any], int]:
    raw = event["event_type"]
    if raw not in label_map:
        raise ValueError(Errors.E251.format(label=raw, path=path, line=line, dataset=dataset,
                                            known=f"{len(label_map)} KAIROS types"))
    trigger = _span(text, token_chars, event["trigger"]["start"], event["trigger"]["end"])
    arguments, lost = [], 0
    for argument in event.get("arguments", []):
        entity = entities.get(argument["entity_id"])
        if entity is None:
            raise ValueError(Errors.E250.format(
                path=path, line=line, reason=f"argument {argument!r} names an unknown "
                "entity mention", expected="an entity_id of entity_mentions"))
        if sentence_of[entity["start"]] != index:
            lost += 1
            continue
        if sentence_of[entity["end"] - 1] != index:
            lost += 1
            continue
        item = _span(text, token_chars, entity["start"], entity["end"])
        item["role"] = role_name(argument["role"])
        arguments.append(item)
    return {"trigger": trigger, "type": label_map[raw], "arguments": arguments}, lost


def _span(text: str, token_chars: List[Tuple[int, int]], start: int,
          end: int) -> Dict[str, Any]:
    return mention(text, token_chars[start][0], token_chars[end - 1][1])
