"""Cut long entity-only records into sentence-bounded chunks for training.

Pile-NER passages average about 1,070 characters; with 16 class definitions in
the prompt, a whole passage does not fit a sample. A chunk ends after a
sentence end (``.``, ``?``, ``!`` followed by a space, or a newline) that no
entity spans; its entities keep their labels with offsets moved to the chunk.
Records with relations or events stay whole (their links may cross sentences).

Example:
    >>> from spacy_knowcoder.corpora.records import make_record, mention
    >>> text = "Ann met Bo. Bo left Rome."
    >>> record = make_record("r", text, [mention(text, 0, 3, "person"),
    ...                                  mention(text, 20, 24, "city")])
    >>> [(c["id"], c["text"], [e["text"] for e in c["entities"]])
    ...  for c in split_record(record, 12)]
    [('r#0', 'Ann met Bo.', ['Ann']), ('r#1', 'Bo left Rome.', ['Rome'])]
"""
from typing import Any, Dict, List

from spacy_knowcoder.corpora.records import make_record

Record = Dict[str, Any]
_ENDS = ".?!"


def split_record(record: Record, max_chars: int) -> List[Record]:
    """``record`` as chunks of about ``max_chars`` characters (0: unchanged).

    A chunk is longer than ``max_chars`` only where no sentence end allows a
    cut before; ids get ``#<n>`` suffixes.
    """
    text = record["text"]
    if not max_chars or len(text) <= max_chars or record["relations"] or record["events"]:
        return [record]
    cuts = _cut_points(record)
    chunks: List[Record] = []
    start = 0
    while len(text) - start > max_chars:
        inside = [c for c in cuts if start < c <= start + max_chars]
        later = [c for c in cuts if c > start + max_chars]
        cut = inside[-1] if inside else (later[0] if later else None)
        if cut is None:
            break
        chunks.append(_chunk(record, start, cut, len(chunks)))
        start = cut
    chunks.append(_chunk(record, start, len(text), len(chunks)))
    return [c for c in chunks if c["text"]]


def _cut_points(record: Record) -> List[int]:
    """Offsets just after a sentence end and its whitespace, outside every entity."""
    text = record["text"]
    covered = [(e["start"], e["end"]) for e in record["entities"]]
    points = []
    for i, char in enumerate(text[:-1]):
        if not ((char in _ENDS and text[i + 1] == " ") or char == "\n"):
            continue
        cut = i + 1
        while cut < len(text) and text[cut].isspace():
            cut += 1
        if cut < len(text) and not any(s < cut < e or s < i + 1 < e for s, e in covered):
            points.append(cut)
    return points


def _chunk(record: Record, start: int, end: int, number: int) -> Record:
    piece = record["text"][start:end]
    trimmed = piece.rstrip()
    entities = [dict(e, start=e["start"] - start, end=e["end"] - start)
                for e in record["entities"] if start <= e["start"] and e["end"] <= start + len(trimmed)]
    return make_record(f"{record['id']}#{number}", trimmed, entities)
