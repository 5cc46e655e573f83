"""LitBank: realis event triggers and nested entities in novel excerpts.

For one book, ``events/tsv/<book>.tsv`` (``token<TAB>EVENT|O``) and
``entities/tsv/<book>.tsv`` (token plus four nested BIO layers) hold the same
sentences; they are read together into one record per sentence with
entities and single-token events of type ``realis event`` (no arguments).
LitBank has no official split in this repository: ``litbank_split`` puts
every fifth book (sorted by file name) in ``test`` and the rest in ``train``.

Example:
    >>> litbank_split(["a.tsv", "b.tsv", "c.tsv", "d.tsv", "e.tsv", "f.tsv"], "test")
    ['a.tsv', 'f.tsv']
"""
from pathlib import Path
from typing import Iterator, List, Mapping, Sequence, Tuple

from ...errors import Errors
from ...fileio import read_text
from ..records import Record, join_tokens, make_record, mention
from .columns import ColumnFormat, read_columns

EVENT_TAG = "EVENT"
EVENT_LABEL = "realis event"
ENTITY_FORMAT = ColumnFormat(separator="\t", n_columns=None, tag_columns=())
EVENT_FORMAT = ColumnFormat(separator="\t", n_columns=2)
SPLITS = ("train", "test")


def litbank_split(names: Sequence[str], split: str) -> List[str]:
    """The book files of a split: every fifth (sorted) book is test."""
    ordered = sorted(names)
    return [n for i, n in enumerate(ordered) if (i % 5 == 0) == (split == "test")]


def read_litbank(folder: Path, split: str, label_map: Mapping[str, str], *,
                 dataset: str = "litbank") -> Iterator[Record]:
    """Yield sentence records of the books in ``split`` (folder: the litbank dir)."""
    events_dir, entities_dir = Path(folder) / "events" / "tsv", Path(folder) / "entities" / "tsv"
    names = [p.name for p in events_dir.glob("*.tsv")]
    for name in litbank_split(names, split):
        yield from read_litbank_book(events_dir / name, entities_dir / name, label_map,
                                     dataset=dataset)


def read_litbank_book(events_path: Path, entities_path: Path, label_map: Mapping[str, str],
                      *, dataset: str = "litbank") -> Iterator[Record]:
    """Merge one book's event and entity files sentence by sentence."""
    stem = Path(events_path).stem
    event_map = {EVENT_TAG: EVENT_LABEL}
    event_sents = list(_event_sentences(events_path))
    entity_records = list(read_columns(entities_path, label_map, ENTITY_FORMAT,
                                       dataset=dataset, id_prefix=stem))
    if len(event_sents) != len(entity_records):
        raise ValueError(Errors.E250.format(
            path=events_path, line="(end of file)", reason=f"{len(event_sents)} sentences but "
            f"{len(entity_records)} in {entities_path}",
            expected="the same sentences in the events and entities files"))
    for (tokens, tags, line), record in zip(event_sents, entity_records):
        text, offsets = join_tokens(tokens)
        if text != record["text"]:
            raise ValueError(Errors.E250.format(
                path=events_path, line=line, reason=f"the sentence differs from {entities_path}",
                expected="the same tokens in the events and entities files"))
        events = [{"trigger": mention(text, *offsets[i]), "type": event_map[tag],
                   "arguments": []} for i, tag in enumerate(tags) if tag == EVENT_TAG]
        yield make_record(record["id"], text, record["entities"], events=events)


def _event_sentences(path: Path) -> Iterator[Tuple[List[str], List[str], int]]:
    tokens: List[str] = []
    tags: List[str] = []
    start = 1
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            if tokens:
                yield tokens, tags, start
            tokens, tags, start = [], [], number + 1
            continue
        columns = line.split("\t")
        if len(columns) != 2 or columns[1] not in (EVENT_TAG, "O"):
            raise ValueError(Errors.E250.format(
                path=path, line=number, reason=f"{line!r} is not 'token<TAB>EVENT|O'",
                expected="two tab-separated columns: token and EVENT or O"))
        tokens.append(columns[0])
        tags.append(columns[1])
    if tokens:
        yield tokens, tags, start
