"""Read CoNLL-style column files (BIO, IOB2 or IO tags) into benchmark records.

One token per line, a blank line between sentences. The token column, the
tag column(s) (several for nested layers, as in LitBank) and the separator
are given by a ``ColumnFormat``; raw types are mapped to natural labels
(``PER`` -> ``person``) so records match the dataset's label file.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.conll"
    >>> _ = path.write_text("Ann\\tB-PER\\nsmiled\\tO\\n\\n", encoding="utf-8")
    >>> record = next(read_columns(path, {"PER": "person"}, ColumnFormat(n_columns=2)))
    >>> record["text"], record["entities"][0]["label"]
    ('Ann smiled', 'person')
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Mapping, Optional, Sequence, Tuple

from ...errors import Errors
from ...fileio import read_text
from ..records import Record, bio_spans, join_tokens, make_record, mention
from ..records import token_span_offsets


@dataclass(frozen=True)
class ColumnFormat:
    """How a column file is laid out.

    separator (Optional[str]): Column separator; None splits on any whitespace.
    n_columns (Optional[int]): Expected number of columns (None: at least 2).
    token_column (int): Index of the token column.
    tag_columns (Tuple[int, ...]): Indices of the tag columns (one per layer);
        empty means every column after the token (nested layers whose number
        varies from file to file, as in LitBank).
    skip_prefixes (Tuple[str, ...]): Lines starting with these are ignored
        (document markers, ``# id`` headers).
    """

    separator: Optional[str] = "\t"
    n_columns: Optional[int] = None
    token_column: int = 0
    tag_columns: Tuple[int, ...] = (-1,)
    skip_prefixes: Tuple[str, ...] = ("-DOCSTART-",)


def read_columns(path: Path, label_map: Mapping[str, str], fmt: ColumnFormat, *,
                 dataset: str = "", id_prefix: Optional[str] = None) -> Iterator[Record]:
    """Yield one record per sentence of a column file.

    path (Path): The file.
    label_map (Mapping[str, str]): Raw entity type -> natural label.
    fmt (ColumnFormat): The layout.
    dataset (str): Dataset name, for error messages.
    id_prefix (Optional[str]): Record id prefix (default: the file name).
    RETURNS (Iterator[Record]): Benchmark records, in file order.
    """
    prefix = id_prefix or Path(path).name
    tokens: List[str] = []
    layers: List[List[str]] = []
    count = 0
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip() and not line.startswith(fmt.skip_prefixes):
            token, tags = _parse_line(path, number, line, fmt, label_map, dataset)
            while len(layers) < len(tags):
                layers.append(["O"] * len(tokens))
            tokens.append(token)
            for i, layer in enumerate(layers):
                layer.append(tags[i] if i < len(tags) else "O")
            continue
        if tokens:
            yield _sentence(f"{prefix}-{count}", tokens, layers, label_map)
            count += 1
            tokens, layers = [], []
    if tokens:
        yield _sentence(f"{prefix}-{count}", tokens, layers, label_map)


def _parse_line(path: Path, number: int, line: str, fmt: ColumnFormat,
                label_map: Mapping[str, str], dataset: str) -> Tuple[str, List[str]]:
    columns = line.split(fmt.separator)
    if fmt.separator is not None and len(columns) > 1 and columns[-1] == "":
        columns = columns[:-1]  # LitBank lines end with a trailing tab
    expected = fmt.n_columns or 2
    if len(columns) != expected and not (fmt.n_columns is None and len(columns) > 2):
        sep = "tab" if fmt.separator == "\t" else "whitespace"
        raise ValueError(Errors.E250.format(
            path=path, line=number, reason=f"found {len(columns)} column(s) in {line!r}",
            expected=f"{expected} {sep}-separated columns (token ... tag)"))
    tag_columns = fmt.tag_columns or range(fmt.token_column + 1, len(columns))
    tags = [columns[i] for i in tag_columns]
    for tag in tags:
        _check_tag(path, number, tag, label_map, dataset)
    return columns[fmt.token_column], tags


def _check_tag(path: Path, number: int, tag: str, label_map: Mapping[str, str],
               dataset: str) -> None:
    if tag == "O":
        return
    prefix, dash, type_ = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not type_:
        raise ValueError(Errors.E250.format(
            path=path, line=number, reason=f"the tag {tag!r} is not O, B-TYPE or I-TYPE",
            expected="BIO/IO tags such as 'B-PER', 'I-PER' or 'O'"))
    if type_ not in label_map:
        raise ValueError(Errors.E251.format(
            label=type_, path=path, line=number, dataset=dataset or "(unnamed)",
            known=", ".join(sorted(label_map))))


def _sentence(record_id: str, tokens: Sequence[str], layers: Sequence[Sequence[str]],
              label_map: Mapping[str, str]) -> Record:
    text, offsets = join_tokens(tokens)
    entities = []
    for layer in layers:
        for start, end, type_ in bio_spans(layer):
            char_start, char_end = token_span_offsets(offsets, start, end)
            entities.append(mention(text, char_start, char_end, label_map[type_]))
    return make_record(record_id, text, entities)
