"""Read CoNLL-style column files (BIO, IOB2, IO, BMES or BIOES tags) into benchmark records.

One token per line, a blank line between sentences. The token column, the
tag column(s) (several for nested layers, as in LitBank) and the separator
are given by a ``ColumnFormat``; raw types are mapped to natural labels
(``PER`` -> ``person``) so records match the dataset's label file. A raw
type mapped to ``""`` is read as unannotated (Weibo NER's nominal mentions
in its names-only reading).

The text is the tokens joined by ``ColumnFormat.joiner`` (a space; nothing
for character-level Chinese files), or, where the file keeps each sentence's
original text in a comment (Universal NER's ``# text = ...``), that text,
so Chinese words and punctuation keep their original spacing.

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
from ..records import CONTINUES, OPENS, Record, bio_spans, make_record, mention
from ..records import token_span_offsets, tokens_to_text


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
    text_prefix (Optional[str]): A comment line starting with this holds the
        sentence's original text (``"# text = "`` in Universal NER); the
        tokens are found in it left to right, and joined when they do not align.
    joiner (str): What goes between tokens when the text is rebuilt from them.
    strip_token_tail (int): Characters cut from the end of every token (Weibo
        NER writes each character with its position in its word: ``科0``).
    """

    separator: Optional[str] = "\t"
    n_columns: Optional[int] = None
    token_column: int = 0
    tag_columns: Tuple[int, ...] = (-1,)
    skip_prefixes: Tuple[str, ...] = ("-DOCSTART-",)
    text_prefix: Optional[str] = None
    joiner: str = " "
    strip_token_tail: int = 0


def read_columns(path: Path, label_map: Mapping[str, str], fmt: ColumnFormat, *,
                 dataset: str = "", id_prefix: Optional[str] = None,
                 encoding: str = "utf-8") -> Iterator[Record]:
    """Yield one record per sentence of a column file.

    path (Path): The file.
    label_map (Mapping[str, str]): Raw entity type -> natural label ("" drops it).
    fmt (ColumnFormat): The layout.
    dataset (str): Dataset name, for error messages.
    id_prefix (Optional[str]): Record id prefix (default: the file name).
    encoding (str): The file's encoding (E022 names file and line when it is not).
    RETURNS (Iterator[Record]): Benchmark records, in file order.
    """
    prefix = id_prefix or Path(path).name
    tokens: List[str] = []
    layers: List[List[str]] = []
    original: Optional[str] = None
    count = 0
    for number, line in enumerate(read_text(path, encoding).split("\n"), start=1):
        line = line.rstrip("\r")
        if fmt.text_prefix and line.startswith(fmt.text_prefix):
            original = line[len(fmt.text_prefix):]
            continue
        if line.strip() and not line.startswith(fmt.skip_prefixes):
            token, tags = _parse_line(path, number, line, fmt, label_map, dataset)
            while len(layers) < len(tags):
                layers.append(["O"] * len(tokens))
            tokens.append(token)
            for i, layer in enumerate(layers):
                layer.append(tags[i] if i < len(tags) else "O")
            continue
        if tokens:
            yield _sentence(f"{prefix}-{count}", tokens, layers, label_map, fmt, original)
            count += 1
            tokens, layers, original = [], [], None
    if tokens:
        yield _sentence(f"{prefix}-{count}", tokens, layers, label_map, fmt, original)


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
    token = columns[fmt.token_column]
    if not fmt.strip_token_tail:
        return token, tags
    token = token[:-fmt.strip_token_tail]
    if not token:
        raise ValueError(Errors.E250.format(
            path=path, line=number, reason=f"the token of {line!r} is empty once "
            f"{fmt.strip_token_tail} trailing character(s) are cut",
            expected="a token column with text"))
    return token, tags


def _check_tag(path: Path, number: int, tag: str, label_map: Mapping[str, str],
               dataset: str) -> None:
    if tag == "O":
        return
    prefix, dash, type_ = tag.partition("-")
    if prefix not in OPENS + CONTINUES or not dash or not type_:
        raise ValueError(Errors.E250.format(
            path=path, line=number, reason=f"the tag {tag!r} is not O or PREFIX-TYPE",
            expected="BIO/IO tags such as 'B-PER', 'I-PER' or 'O' (BMES/BIOES: "
                     "'S-PER', 'M-PER', 'E-PER')"))
    if type_ not in label_map:
        raise ValueError(Errors.E251.format(
            label=type_, path=path, line=number, dataset=dataset or "(unnamed)",
            known=", ".join(sorted(label_map))))


def _sentence(record_id: str, tokens: Sequence[str], layers: Sequence[Sequence[str]],
              label_map: Mapping[str, str], fmt: ColumnFormat,
              original: Optional[str]) -> Record:
    text, offsets = tokens_to_text(original, tokens, fmt.joiner)
    entities = []
    for layer in layers:
        for start, end, type_ in bio_spans(layer):
            if not label_map[type_]:
                continue
            char_start, char_end = token_span_offsets(offsets, start, end)
            entities.append(mention(text, char_start, char_end, label_map[type_]))
    return make_record(record_id, text, entities)

