"""JSON and JSON-lines input with errors that name the file and line.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> _ = path.write_text('{"a": 1}\\n\\n{"a": 2}\\n', encoding="utf-8")
    >>> [(line, row["a"]) for line, row in read_jsonl(path)]
    [(1, 1), (3, 2)]
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

from ...errors import Errors
from ...fileio import read_text


def read_json(path: Path, expected: str = "a JSON document") -> Any:
    """Parse a whole JSON file; a syntax error names its line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(Errors.E256.format(path=path, line=err.lineno, reason=err.msg,
                                            expected=expected)) from None


def read_jsonl(path: Path, expected: str = "one JSON object per line"
               ) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line."""
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(Errors.E256.format(path=path, line=number, reason=err.msg,
                                                expected=expected)) from None
        if not isinstance(row, dict):
            raise ValueError(Errors.E256.format(
                path=path, line=number, reason=f"found a {type(row).__name__}",
                expected=expected))
        yield number, row


def require(row: Dict[str, Any], keys: Tuple[str, ...], path: Path, line: int,
            what: str) -> None:
    """Raise E250 when ``row`` lacks one of ``keys``."""
    missing = [key for key in keys if key not in row]
    if missing:
        raise ValueError(Errors.E250.format(
            path=path, line=line, reason=f"the {what} has no {missing[0]!r} key",
            expected=f"a {what} with keys {', '.join(keys)}"))


def line_of_key(text: str, key: str) -> int:
    """Line number (1-based) where ``"key"`` first appears in a JSON text, or 1."""
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
