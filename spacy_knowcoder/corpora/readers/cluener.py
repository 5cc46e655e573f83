"""CLUENER2020 (``train.json``): Chinese fine-grained NER in JSON lines.

Each line is ``{"text": str, "label": {type: {mention: [[start, end], ...]}}}``
with character offsets whose end is *inclusive* (``text[start:end + 1]`` is
the mention). The reader turns them into the benchmark's exclusive ends and
checks every span against its mention string, so an off-by-one in a file
is an error that names the line instead of a silently shifted entity.

Example:
    >>> import tempfile, pathlib, json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.json"
    >>> row = {"text": "叶老桂在浙商银行", "label": {"company": {"浙商银行": [[4, 7]]}}}
    >>> _ = path.write_text(json.dumps(row, ensure_ascii=False) + "\\n", encoding="utf-8")
    >>> [(e["text"], e["label"]) for e in next(read_cluener(path, {"company": "company"}))["entities"]]
    [('浙商银行', 'company')]
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping

from ...errors import Errors
from ..records import Record, make_record, mention
from .jsonfiles import read_jsonl, require

EXPECTED = '{"text": str, "label": {type: {mention: [[start, end_inclusive], ...]}}}'


def read_cluener(path: Path, label_map: Mapping[str, str], *,
                 dataset: str = "cluener2020") -> Iterator[Record]:
    """Yield one record per line of a CLUENER2020 file."""
    for number, row in read_jsonl(path, expected=EXPECTED):
        require(row, ("text", "label"), path, number, "CLUENER line")
        text = row["text"]
        entities = _entities(path, number, text, row["label"], label_map, dataset)
        yield make_record(f"{Path(path).stem}-{number}", text, entities)


def _entities(path: Path, number: int, text: str, labels: Any,
              label_map: Mapping[str, str], dataset: str) -> List[Dict[str, Any]]:
    if not isinstance(labels, dict):
        raise ValueError(Errors.E250.format(path=path, line=number, reason="'label' is not "
                                            "an object", expected=EXPECTED))
    entities = []
    for type_, mentions in labels.items():
        if type_ not in label_map:
            raise ValueError(Errors.E251.format(label=type_, path=path, line=number,
                                                dataset=dataset,
                                                known=", ".join(sorted(label_map))))
        for surface, spans in (mentions or {}).items():
            for span in spans:
                start, end = _span(path, number, span)
                if not 0 <= start <= end < len(text) or text[start:end + 1] != surface:
                    raise ValueError(Errors.E250.format(
                        path=path, line=number,
                        reason=f"the span {span} is {text[start:end + 1]!r}, not {surface!r}",
                        expected="inclusive [start, end] offsets of each mention"))
                entities.append(mention(text, start, end + 1, label_map[type_]))
    return entities


def _span(path: Path, number: int, span: Any) -> "tuple[int, int]":
    if (not isinstance(span, (list, tuple)) or len(span) != 2
            or not all(isinstance(v, int) for v in span)):
        raise ValueError(Errors.E250.format(path=path, line=number,
                                            reason=f"the span {span!r} is not [start, end]",
                                            expected=EXPECTED))
    return span[0], span[1]
