"""Files written atomically and text read with clear errors.

Every command output goes through these helpers: the data is written to a
temporary file next to the target and renamed over it only when complete, so
a killed run never leaves a half-written file that a rerun would trust.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.json"
    >>> write_json(target, {"ok": True})
    >>> read_text(target)
    '{\\n  "ok":true\\n}'
"""
import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Union

import srsly

from .errors import Errors

PathLike = Union[str, Path]


@contextlib.contextmanager
def atomic_output(path: PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` only if the block succeeds.

    path (PathLike): The final file; its parent folders are created.
    mode (str): "w" for text, "wb" for bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: PathLike, text: str) -> None:
    """Write a UTF-8 text file atomically."""
    with atomic_output(path) as handle:
        handle.write(text)


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write a binary file atomically."""
    with atomic_output(path, "wb") as handle:
        handle.write(data)


def write_json(path: PathLike, data: Any, indent: int = 2) -> None:
    """Write JSON atomically."""
    write_text(path, srsly.json_dumps(data, indent=indent))


def write_jsonl(path: PathLike, records: Iterable[Any]) -> int:
    """Write one JSON object per line atomically; returns the number of lines."""
    count = 0
    with atomic_output(path) as handle:
        for record in records:
            handle.write(srsly.json_dumps(record) + "\n")
            count += 1
    return count


@contextlib.contextmanager
def atomic_directory(path: PathLike) -> Iterator[Path]:
    """Fill a temporary folder that replaces ``path`` only if the block succeeds.

    An existing ``path`` is removed only after the new folder is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_text(path: PathLike, encoding: str = "utf-8") -> str:
    """Read a text file; a missing file or one that is not in ``encoding`` gets a coded error.

    path (PathLike): The file.
    encoding (str): Its encoding (a Python codec name, e.g. "latin-1" for CoNLL-2002).
    RETURNS (str): The text.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "latin1.txt"
        >>> _ = path.write_bytes("café".encode("latin-1"))
        >>> read_text(path, encoding="latin-1")
        'café'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(Errors.E021.format(path=path))
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ValueError(Errors.E022.format(path=path, line=line, pos=err.start,
                                            reason=err.reason, encoding=encoding)) from None


def file_sha256(path: PathLike) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB blocks.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "empty"
        >>> write_bytes(target, b"")
        >>> file_sha256(target)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
