"""Prepared model directories: atomic writes and the marker file.

``knowcoder prepare-model`` (and the preparation of a shipped model's base)
loads a model once with transformers and saves a safetensors directory that
loads in about a second. Writes are atomic: the model is saved into a
temporary sibling directory that is renamed into place at the end, and a
marker file (``knowcoder_source.json``) records what the directory was made
from. A killed run never leaves a directory that a rerun trusts.

The embedded bases (SmolLM2, Gemma 3) that are prepared this way are listed
in ``spacy_knowcoder.generation.embedded``.

Example:
    >>> sorted(pretrained_source("models/x"))
    ['kind', 'name']
"""
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ..errors import Errors

MARKER = "knowcoder_source.json"
MARKER_FORMAT = 1
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")
_PARTIAL = ".partial-"
_OLD = ".old-"
#: A GGUF file assembled from chunks for one run (see embedded.py).
_GGUF = ".gguf-"


def file_fingerprint(path: Union[str, Path]) -> Dict[str, Any]:
    """Name, size and sha256 of a file, as recorded in the marker.

    path (Union[str, Path]): The file.
    RETURNS (Dict[str, Any]): {"name", "size", "sha256"}.

    Example:
        >>> file_fingerprint(SMOLLM2.find_gguf())["size"] > 0  # doctest: +SKIP
        True
    """
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}


def read_marker(output_dir: Union[str, Path]) -> Optional[Dict[str, Any]]:
    """The marker of a prepared directory, or None if absent or unreadable.

    output_dir (Union[str, Path]): The model directory.
    RETURNS (Optional[Dict[str, Any]]): The marker's content.
    """
    path = Path(output_dir) / MARKER
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(output_dir: Union[str, Path]) -> bool:
    """Whether a directory holds a complete prepared model.

    Complete means config.json, the safetensors weights, tokenizer files and
    the marker written last.

    output_dir (Union[str, Path]): The model directory.
    RETURNS (bool): Whether everything is there.

    Example:
        >>> is_complete("models/smollm2-135m")  # doctest: +SKIP
        True
    """
    path = Path(output_dir)
    if not (path / "config.json").is_file() or read_marker(path) is None:
        return False
    has_weights = any((path / name).is_file() for name in _WEIGHT_FILES)
    has_tokenizer = any((path / name).is_file() for name in _TOKENIZER_FILES)
    return has_weights and has_tokenizer and (path / "tokenizer_config.json").is_file()


def is_up_to_date(output_dir: Union[str, Path], source: Dict[str, Any]) -> bool:
    """Whether a directory is a complete preparation of exactly this source.

    output_dir (Union[str, Path]): The model directory.
    source (Dict[str, Any]): The source description (see file_fingerprint).
    RETURNS (bool): True when complete and the marker's source matches.
    """
    if not is_complete(output_dir):
        return False
    marker = read_marker(output_dir) or {}
    return marker.get("source") == source


def convert_gguf(
    gguf_path: Union[str, Path], output_dir: Union[str, Path], force: bool = False
) -> Path:
    """Dequantize a GGUF model and save it as a safetensors HF directory.

    Skips the work when ``output_dir`` already holds a complete conversion of
    the same file (same name, size and sha256), unless ``force``.

    gguf_path (Union[str, Path]): The .gguf file.
    output_dir (Union[str, Path]): Where to write the model directory.
    force (bool): Convert again and replace whatever is at ``output_dir``.
    RETURNS (Path): ``output_dir``.
    RAISES: FileNotFoundError (E110) for a missing file, FileExistsError (E108)
        when ``output_dir`` holds something else and ``force`` is False.

    Example:
        >>> convert_gguf(SMOLLM2.find_gguf(), "models/smollm2-135m")  # doctest: +SKIP
        PosixPath('models/smollm2-135m')
    """
    gguf_path = Path(gguf_path).expanduser()
    return prepare_model(gguf_path, output_dir, gguf_source(gguf_path), force=force)


def gguf_source(gguf_path: Union[str, Path]) -> Dict[str, Any]:
    """The marker's source description of a .gguf file.

    gguf_path (Union[str, Path]): The .gguf file.
    RETURNS (Dict[str, Any]): {"kind": "gguf", "name", "size", "sha256"}.
    RAISES: FileNotFoundError (E110) for a missing file.

    Example:
        >>> gguf_source(SMOLLM2.find_gguf())["kind"]  # doctest: +SKIP
        'gguf'
    """
    gguf_path = Path(gguf_path).expanduser()
    if not gguf_path.is_file():
        raise FileNotFoundError(Errors.E110.format(path=str(gguf_path)))
    return {"kind": "gguf", **file_fingerprint(gguf_path)}


def pretrained_source(model: Union[str, Path]) -> Dict[str, Any]:
    """The marker's source description of a HF directory or hub id.

    model (Union[str, Path]): Local HF directory or hub id.
    RETURNS (Dict[str, Any]): {"kind": "pretrained", "name"}.
    """
    return {"kind": "pretrained", "name": str(model)}


def save_pretrained_copy(
    model: Union[str, Path], output_dir: Union[str, Path], force: bool = False
) -> Path:
    """Load a HF directory or hub id and save it as a prepared model directory.

    model (Union[str, Path]): Local HF directory or hub id (needs network).
    output_dir (Union[str, Path]): Where to write the model directory.
    force (bool): Save again even when up to date.
    RETURNS (Path): ``output_dir``.

    Example:
        >>> save_pretrained_copy("golaxy/KnowCoder-7B-base", "models/knowcoder-7b")  # doctest: +SKIP
    """
    return prepare_model(model, output_dir, pretrained_source(model), force=force)


def prepare_model(
    model: Union[str, Path],
    output_dir: Union[str, Path],
    source: Dict[str, Any],
    force: bool = False,
    load: Optional[Callable[[], Tuple[Any, Any]]] = None,
) -> Path:
    """Load ``model`` (float32) and save it atomically into ``output_dir``.

    model (Union[str, Path]): A .gguf file, HF directory or hub id.
    output_dir (Union[str, Path]): The target directory.
    source (Dict[str, Any]): What to record in the marker.
    force (bool): Redo the work and replace the directory.
    load (Optional[Callable[[], Tuple[Any, Any]]]): Returns the (model,
        tokenizer) to save, instead of loading ``model`` (e.g. a base with an
        adapter merged in).
    RETURNS (Path): ``output_dir``.
    """
    output_dir = Path(output_dir).expanduser()
    if not force and is_up_to_date(output_dir, source):
        return output_dir
    _check_replaceable(output_dir, force)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(output_dir)
    partial = _partial_dir(output_dir, os.getpid())
    try:
        _save(model, partial, source, load)
        _move_into_place(partial, output_dir)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return output_dir


def _check_replaceable(output_dir: Path, force: bool) -> None:
    """Refuse to replace a non-empty directory we did not write, unless forced."""
    if force or not output_dir.exists():
        return
    if output_dir.is_dir() and (read_marker(output_dir) is not None or not any(output_dir.iterdir())):
        return
    raise FileExistsError(Errors.E108.format(path=str(output_dir), marker=MARKER))


def _save(model: Union[str, Path], target: Path, source: Dict[str, Any],
          load: Optional[Callable[[], Tuple[Any, Any]]] = None) -> None:
    """Load with transformers, save model + tokenizer, then write the marker."""
    from .sources import load_local_model

    if load is not None:
        lm, tokenizer = load()
    else:
        lm, tokenizer = load_local_model(model, device="cpu", dtype="float32")
    target.mkdir(parents=True)
    lm.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    marker = {"format": MARKER_FORMAT, "source": source, "architecture": type(lm).__name__}
    (target / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf8")


def _partial_dir(output_dir: Path, pid: int) -> Path:
    return output_dir.parent / f".{output_dir.name}{_PARTIAL}{pid}"


def gguf_scratch_dir(output_dir: Union[str, Path]) -> Path:
    """Where this process may assemble a GGUF file while preparing ``output_dir``.

    A sibling ``.<name>.gguf-<pid>`` (same file system as the model); the
    caller deletes it, and ``remove_stale_partials`` deletes one that a killed
    run left.

    output_dir (Union[str, Path]): The target directory.
    RETURNS (Path): The directory (not created).

    Example:
        >>> gguf_scratch_dir("models/gemma3-270m").name.startswith(".gemma3-270m.gguf-")
        True
    """
    output_dir = Path(output_dir).expanduser()
    return output_dir.parent / f".{output_dir.name}{_GGUF}{os.getpid()}"


def partial_dirs(output_dir: Union[str, Path]) -> List[Path]:
    """Temporary directories of (possibly killed) runs preparing ``output_dir``.

    output_dir (Union[str, Path]): The target directory.
    RETURNS (List[Path]): Existing ``.<name>.partial-<pid>`` siblings,
        ``.<name>.old-<pid>`` ones (a replaced directory not yet deleted) and
        ``.<name>.gguf-<pid>`` ones (a GGUF assembled for the run).
    """
    output_dir = Path(output_dir)
    if not output_dir.parent.is_dir():
        return []
    prefixes = tuple(f".{output_dir.name}{infix}" for infix in (_PARTIAL, _OLD, _GGUF))
    return sorted(p for p in output_dir.parent.iterdir() if p.name.startswith(prefixes))


def remove_stale_partials(output_dir: Union[str, Path]) -> None:
    """Delete temporary directories left by runs that are no longer alive.

    A directory of another live process (a concurrent run) is kept; one named
    with this process's id is stale by definition (this run has not begun).

    output_dir (Union[str, Path]): The target directory.
    """
    for path in partial_dirs(output_dir):
        pid_text = path.name.rsplit("-", 1)[-1]
        pid = int(pid_text) if pid_text.isdigit() else None
        if pid is None or pid == os.getpid() or not _process_alive(pid):
            _remove(path)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _move_into_place(partial: Path, output_dir: Path) -> None:
    """Rename the finished directory into place, replacing any old one."""
    if not output_dir.exists():
        os.replace(partial, output_dir)
        return
    old = output_dir.parent / f".{output_dir.name}{_OLD}{os.getpid()}"
    _remove(old)
    os.replace(output_dir, old)
    os.replace(partial, output_dir)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()
