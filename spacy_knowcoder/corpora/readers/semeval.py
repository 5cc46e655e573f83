"""SemEval-2010 Task 8 (``TRAIN_FILE.TXT``, ``TEST_FILE_FULL.TXT``).

Blocks of ``<id>\\t"sentence with <e1>..</e1> and <e2>..</e2>"``, a label line
such as ``Component-Whole(e2,e1)`` or ``Other`` and a ``Comment:`` line. The
markup is removed and offsets computed; the direction decides head and tail
(the first role of the relation name is the head), and ``Other`` gives a
record without relations (a negative example).

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "TRAIN_FILE.TXT"
    >>> block = '1\\t"The <e1>wheel</e1> of the <e2>car</e2>."\\nComponent-Whole(e1,e2)\\nComment:\\n\\n'
    >>> _ = path.write_text(block, encoding="utf-8")
    >>> rel = next(read_semeval(path, {"Component-Whole": "part of"}))["relations"][0]
    >>> rel["label"], rel["head"]["text"], rel["tail"]["text"]
    ('part of', 'wheel', 'car')
"""
import re
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Tuple

from ...errors import Errors
from ...fileio import read_text
from ..records import Record, make_record, mention

ENTITY = "entity"
OTHER = "Other"
_LABEL = re.compile(r"^([A-Za-z]+-[A-Za-z]+)\((e[12]),(e[12])\)$")
_TAG = re.compile(r"</?e[12]>")


def read_semeval(path: Path, label_map: Mapping[str, str], *,
                 dataset: str = "semeval2010_task8") -> Iterator[Record]:
    """Yield one record per example; label_map: relation name -> natural label."""
    lines = read_text(path).lstrip("\ufeff").replace("\r", "").split("\n")
    number = 0
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        yield _example(path, number + 1, lines[number], _at(lines, number + 1),
                       label_map, dataset)
        number += 3


def _at(lines: List[str], index: int) -> str:
    return lines[index].strip() if index < len(lines) else ""


def _example(path: Path, line: int, sentence_line: str, label_line: str,
             label_map: Mapping[str, str], dataset: str) -> Record:
    example_id, tab, quoted = sentence_line.lstrip("\ufeff").partition("\t")
    quoted = quoted.strip()
    if not tab or len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        raise ValueError(Errors.E250.format(
            path=path, line=line, reason=f"{sentence_line[:60]!r} is not an example line",
            expected='<id><TAB>"sentence with <e1>..</e1> and <e2>..</e2>"'))
    text, spans = _strip_markup(path, line, quoted[1:-1])
    record_id = f"semeval-{example_id.strip()}"
    if label_line == OTHER:
        return make_record(record_id, text)
    match = _LABEL.match(label_line)
    if not match:
        raise ValueError(Errors.E250.format(path=path, line=line + 1,
                                            reason=f"bad label {label_line!r}",
                                            expected="'Relation-Name(e1,e2)' or 'Other'"))
    name, first, second = match.groups()
    if name not in label_map:
        raise ValueError(Errors.E251.format(label=name, path=path, line=line + 1,
                                            dataset=dataset, known=", ".join(sorted(label_map))))
    head = mention(text, *spans[first], ENTITY)
    tail = mention(text, *spans[second], ENTITY)
    return make_record(record_id, text,
                       relations=[{"head": head, "tail": tail, "label": label_map[name]}])


def _strip_markup(path: Path, line: int, marked: str) -> Tuple[str, Dict[str, Tuple[int, int]]]:
    parts: List[str] = []
    opened: Dict[str, int] = {}
    spans: Dict[str, Tuple[int, int]] = {}
    position, length = 0, 0
    for tag in _TAG.finditer(marked):
        parts.append(marked[position:tag.start()])
        length += tag.start() - position
        position = tag.end()
        name = tag.group().strip("</>")
        if tag.group().startswith("</"):
            spans[name] = (opened.get(name, length), length)
        else:
            opened[name] = length
    parts.append(marked[position:])
    if set(spans) != {"e1", "e2"}:
        raise ValueError(Errors.E250.format(path=path, line=line,
                                            reason="the sentence lacks <e1> or <e2> markup",
                                            expected="both <e1>..</e1> and <e2>..</e2>"))
    return "".join(parts), spans
