"""FewRel (``val_wiki.json``, ``val_pubmed.json``): sentence-level relations.

A file is ``{relation id: [instance, ...]}``; an instance has ``tokens`` and
head/tail ``[name, id, [[token positions], ...]]``. Instances are yielded
round-robin over the relations, so any prefix (``limit``) covers every
relation. Relation ids map to natural labels via the dataset's label map
(``P177`` -> ``crosses``, from ``pid2name.json``). FewRel has no entity types, so
records carry the relation only, with head/tail label ``entity``.

Example:
    >>> import tempfile, pathlib, json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "val.json"
    >>> row = {"tokens": ["Ann", "wed", "Bob"], "h": ["ann", "Q1", [[0]]], "t": ["bob", "Q2", [[2]]]}
    >>> _ = path.write_text(json.dumps({"P26": [row]}), encoding="utf-8")
    >>> rel = next(read_fewrel(path, {"P26": "spouse"}))["relations"][0]
    >>> rel["label"], rel["head"]["text"], rel["tail"]["text"]
    ('spouse', 'Ann', 'Bob')
"""
from itertools import zip_longest
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Sequence, Tuple

from ...errors import Errors
from ..records import Record, join_tokens, make_record, mention
from .jsonfiles import read_json

ENTITY = "entity"


def read_fewrel(path: Path, label_map: Mapping[str, str], *,
                dataset: str = "fewrel") -> Iterator[Record]:
    """Yield one record per FewRel instance (round-robin over relations)."""
    data = read_json(path, expected="a JSON object {relation id: [instances]}")
    if not isinstance(data, dict):
        raise ValueError(Errors.E250.format(path=path, line=1, reason="the top level is "
                                            f"a {type(data).__name__}",
                                            expected="a JSON object {relation id: [instances]}"))
    for relation in data:
        if relation not in label_map:
            raise ValueError(Errors.E251.format(label=relation, path=path, line=1,
                                                dataset=dataset,
                                                known=", ".join(sorted(label_map))))
    columns = [[(relation, i, row) for i, row in enumerate(rows)]
               for relation, rows in data.items()]
    for group in zip_longest(*columns):
        for item in group:
            if item is not None:
                relation, index, row = item
                yield _record(path, relation, index, row, label_map[relation])


def _record(path: Path, relation: str, index: int, row: Any, label: str) -> Record:
    where = f"{relation}[{index}]"
    if not isinstance(row, dict) or not all(k in row for k in ("tokens", "h", "t")):
        raise ValueError(Errors.E250.format(path=path, line=where, reason="an instance "
                                            "lacks 'tokens', 'h' or 't'",
                                            expected="{'tokens': [...], 'h': [...], 't': [...]}"))
    text, offsets = join_tokens(row["tokens"])
    head = _argument(path, where, row["h"], text, offsets)
    tail = _argument(path, where, row["t"], text, offsets)
    relation_record = {"head": head, "tail": tail, "label": label}
    return make_record(f"{Path(path).stem}-{relation}-{index}", text,
                       relations=[relation_record])


def _argument(path: Path, where: str, value: Any, text: str,
              offsets: Sequence[Tuple[int, int]]) -> Dict[str, Any]:
    try:
        positions: List[int] = list(value[2][0])
        start, end = offsets[min(positions)][0], offsets[max(positions)][1]
    except (TypeError, IndexError, ValueError, KeyError):
        raise ValueError(Errors.E250.format(
            path=path, line=where, reason=f"bad head/tail {value!r}",
            expected="[name, id, [[token positions], ...]] within the sentence")) from None
    return mention(text, start, end, ENTITY)
