"""The documents of a corpus to annotate, read the way ``spacy apply`` reads them.

A file or a folder (searched recursively, in sorted order) of:

- ``.jsonl``: one record per line; the text is under ``text_key``, the id under
  ``id_key`` (default: ``FILE:LINE``), every other field is metadata;
- ``.spacy``: the docs of a DocBin, with their ``user_data`` (id ``FILE:INDEX``);
- any other file: one plain-text document (id: the file's path).

What cannot be read (a line that is not JSON, a record without text, a file
that is not UTF-8 or not a DocBin) is yielded as a ``BadInput`` that says where
and why; the rest of the corpus is read on.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.jsonl").write_text('{"id": 7, "text": "Ann.", "year": 1990}\\nnope\\n')
    >>> [type(item).__name__ for item in read_inputs(folder)]
    ['InputDoc', 'BadInput']
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

from ..errors import Errors

PathLike = Union[str, Path]
DOCBIN_SUFFIX = ".spacy"
JSONL_SUFFIX = ".jsonl"


@dataclass
class InputDoc:
    """One document to annotate.

    id (str): The record's id (``id_key``) or where it was read (``FILE:LINE``).
    text (str): The text (for a DocBin doc: the doc's text).
    meta (Dict[str, Any]): The record's other fields (JSONL only).
    doc_bytes (Optional[bytes]): A DocBin doc as ``Doc.to_bytes``, kept with its
        tokens and ``user_data``.
    """

    id: str
    text: str
    meta: Dict[str, Any] = field(default_factory=dict)
    doc_bytes: Optional[bytes] = None


@dataclass
class BadInput:
    """Something in the input that could not be read (listed in the manifest)."""

    where: str
    reason: str

    def to_dict(self) -> Dict[str, str]:
        return {"where": self.where, "reason": self.reason}


Item = Union[InputDoc, BadInput]


def input_files(path: PathLike) -> List[Path]:
    """The files of ``path``: itself, or every file below it in sorted order
    (hidden files and folders are skipped, as in ``spacy apply``).

    RAISES: FileNotFoundError (E021) when ``path`` does not exist.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(Errors.E021.format(path=path))
    return sorted(p for p in path.rglob("*")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(path).parts))


def read_inputs(path: PathLike, text_key: str = "text", id_key: str = "id") -> Iterator[Item]:
    """Every document (and every unreadable part) of ``path``, in a fixed order."""
    root = Path(path)
    for file in input_files(root):
        name = file.name if root.is_file() else file.relative_to(root).as_posix()
        if file.suffix == JSONL_SUFFIX:
            yield from _jsonl(file, name, text_key, id_key)
        elif file.suffix == DOCBIN_SUFFIX:
            yield from _docbin(file, name)
        else:
            yield _text_file(file, name)


def _jsonl(file: Path, name: str, text_key: str, id_key: str) -> Iterator[Item]:
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{name}:{number}"
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as err:
                yield BadInput(where, f"not UTF-8 ({err.reason} at byte {err.start})")
                continue
            except json.JSONDecodeError as err:
                yield BadInput(where, f"not a JSON object ({err.msg})")
                continue
            if not isinstance(record, dict) or not isinstance(record.get(text_key), str):
                yield BadInput(where, f"no string field '{text_key}'")
                continue
            meta = {k: v for k, v in record.items() if k not in (text_key, id_key)}
            ident = record.get(id_key, where)
            yield InputDoc(str(ident), record[text_key], meta)


def _docbin(file: Path, name: str) -> Iterator[Item]:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    try:
        docs = list(DocBin().from_disk(file).get_docs(Vocab()))
    except Exception as err:  # noqa: BLE001 - any unreadable DocBin is reported, not fatal
        yield BadInput(name, f"not a DocBin ({type(err).__name__}: {err})")
        return
    for index, doc in enumerate(docs):
        ident = doc.user_data.get("id", f"{name}:{index}")
        yield InputDoc(str(ident), doc.text, doc_bytes=doc.to_bytes())


def _text_file(file: Path, name: str) -> Item:
    data = file.read_bytes()
    try:
        return InputDoc(name, data.decode("utf-8"))
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return BadInput(name, f"not UTF-8 (line {line}, byte {err.start}: {err.reason}); "
                        "convert it, e.g. 'iconv -f latin1 -t utf-8'")
