"""Copy a model's files into a pipeline folder, so ``spacy package`` ships them.

With ``package_model`` the knowcoder component's ``to_disk`` writes
``<pipeline>/<component>/model``: for a Hugging Face directory, the files
``from_pretrained`` needs (config, safetensors weights, tokenizer; ``.bin``
weights only when there are no safetensors; no sub-folders such as training
checkpoints); for a ``.gguf`` model, that one file. The folder is written
atomically. ``from_disk`` points the component at the copy.

Example:
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("config.json", "model.safetensors", "optimizer.pt"):
    ...     _ = (src / name).write_text("{}")
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> copy_model_files(str(src), target)
    >>> sorted(p.name for p in target.iterdir())
    ['config.json', 'model.safetensors']
    >>> packaged_model_path(target) == str(target)
    True
"""
import shutil
from pathlib import Path
from typing import List, Optional, Union

from .errors import Errors
from .fileio import atomic_directory

PathLike = Union[str, Path]
#: Suffixes of the top-level files a Hugging Face model directory needs.
MODEL_SUFFIXES = (".json", ".safetensors", ".model", ".txt", ".jinja", ".tiktoken")


def model_files(directory: Path) -> List[Path]:
    """The files of a HF model directory that loading needs (see module docs)."""
    files = [p for p in sorted(directory.iterdir()) if p.is_file()]
    chosen = [p for p in files if p.suffix in MODEL_SUFFIXES]
    if not any(p.suffix == ".safetensors" for p in chosen):
        chosen += [p for p in files if p.suffix == ".bin" and p.name != "training_args.bin"]
    return chosen


def copy_model_files(model: str, target: PathLike) -> None:
    """Copy a local model (directory or .gguf file) to ``target``, atomically.

    model (str): The component's ``model`` setting.
    target (PathLike): The folder to (re)create.
    RAISES: ValueError (E464) for a hub id, shipped name or server URL,
        FileNotFoundError (E100) for a missing local path.
    """
    from .generation.sources import resolve_model_source

    source = resolve_model_source(model)
    if source.kind in ("hub", "shipped", "endpoint"):
        raise ValueError(Errors.E464.format(model=model))
    path = Path(model).expanduser()
    files = [path] if path.is_file() else model_files(path)
    with atomic_directory(target) as tmp:
        tmp.chmod(0o755)  # mkdtemp makes it private; installed packages are shared
        for file in files:
            shutil.copy2(file, tmp / file.name)


def packaged_model_path(folder: PathLike) -> Optional[str]:
    """The model inside a folder written by ``copy_model_files``, or None.

    RETURNS (Optional[str]): The folder (HF files) or its .gguf file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if (folder / "config.json").is_file():
        return str(folder)
    ggufs = sorted(folder.glob("*.gguf"))
    return str(ggufs[0]) if ggufs else None
