"""REBEL sample (``sample.jsonl``): Wikipedia abstracts with Wikidata triples.

Each line has ``text`` and ``triples`` whose subject/object carry character
``boundaries`` and whose predicate carries a P-id and its English label.
The predicate's English label is the natural label (a label map, P-id ->
label, can override it); triples whose boundaries are
missing or do not match the text are skipped with a warning (W250). REBEL's
entity links have no types, so the records hold relations only.

Example:
    >>> import tempfile, pathlib, json
    >>> row = {"docid": "1", "text": "Ann wed Bob.", "triples": [{
    ...     "subject": {"boundaries": [0, 3], "surfaceform": "Ann"},
    ...     "predicate": {"uri": "P26", "surfaceform": "spouse"},
    ...     "object": {"boundaries": [8, 11], "surfaceform": "Bob"}}]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sample.jsonl"
    >>> _ = path.write_text(json.dumps(row) + "\\n", encoding="utf-8")
    >>> next(read_rebel(path, {"P26": "spouse"}))["relations"][0]["label"]
    'spouse'
"""
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional

from ...errors import Errors, Warnings, warn
from ..records import Record, make_record, mention
from .jsonfiles import read_jsonl, require

ENTITY = "entity"


def read_rebel(path: Path, label_map: Optional[Mapping[str, str]] = None, *,
               dataset: str = "rebel_sample") -> Iterator[Record]:
    """Yield one record per abstract (duplicate triples removed)."""
    skipped = 0
    for line, row in read_jsonl(path, expected="a REBEL object with text and triples"):
        require(row, ("text", "triples"), path, line, "REBEL row")
        text = row["text"]
        relations, seen = [], set()
        for triple in row["triples"]:
            relation = _relation(path, line, text, triple, label_map, dataset)
            if relation is None:
                skipped += 1
                continue
            key = (relation["label"], relation["head"]["start"], relation["tail"]["start"])
            if key not in seen:
                seen.add(key)
                relations.append(relation)
        yield make_record(f"rebel-{row.get('docid', line)}", text, relations=relations)
    if skipped:
        warn(Warnings.W250.format(count=skipped, path=path,
                                  reason="their subject/object boundaries are missing or "
                                  "do not match the text"))


def _relation(path: Path, line: int, text: str, triple: Dict[str, Any],
              label_map: Optional[Mapping[str, str]], dataset: str
              ) -> Optional[Dict[str, Any]]:
    predicate = triple.get("predicate") or {}
    label = (label_map or {}).get(predicate.get("uri"), predicate.get("surfaceform"))
    if not isinstance(label, str) or not label.strip():
        raise ValueError(Errors.E250.format(
            path=path, line=line, reason=f"a triple's predicate {predicate!r} has no label",
            expected=f"a predicate with 'uri' (P-id) and 'surfaceform' ({dataset})"))
    head = _side(text, triple.get("subject"))
    tail = _side(text, triple.get("object"))
    if head is None or tail is None:
        return None
    return {"head": head, "tail": tail, "label": label}


def _side(text: str, side: Any) -> Optional[Dict[str, Any]]:
    bounds = side.get("boundaries") if isinstance(side, dict) else None
    if not bounds or text[bounds[0]:bounds[1]] != side.get("surfaceform"):
        return None
    return mention(text, bounds[0], bounds[1], ENTITY)
