"""Load a shipped model: prepare its base once, apply its adapter, merge in memory.

A shipped model (``spacy_knowcoder.models``) is a LoRA adapter on an embedded
base. The base is prepared once per user into a cache folder,
``$KNOWCODER_HOME/models/<base>`` (default ``~/.cache/spacy-knowcoder``,
or ``$XDG_CACHE_HOME/spacy-knowcoder``), with the same atomic preparation as
``knowcoder prepare-model``; later loads read it in about a second. The
adapter is checked (E112 damaged, E113 made for another base), applied with
peft and merged, and the result runs like any HF model.

``prepare_merged`` writes the merged model as a plain HF directory that any
engine can load (``knowcoder prepare-model DIR --source knowcoder-smol``).

Example:
    >>> model, tokenizer = load_shipped("knowcoder-smol")  # doctest: +SKIP
    >>> base_dir("smollm2-135m").parent.name
    'models'
"""
import functools
import os
from pathlib import Path
from typing import Any, Callable, Dict, Tuple, Union

from ..errors import Errors, Warnings, warn
from ..models import ADAPTER_WEIGHTS, ShippedModel, get_shipped_model
from .embedded import EMBEDDED_BASES, EmbeddedBase
from .preparation import is_complete, prepare_model, read_marker

#: Overrides the per-user cache folder (``<home>/models/<base>``).
HOME_ENV = "KNOWCODER_HOME"
_BASES: Dict[str, Callable[[Path], Path]] = {}


def knowcoder_home() -> Path:
    """The per-user cache folder of spacy-knowcoder.

    RETURNS (Path): ``$KNOWCODER_HOME``, else ``$XDG_CACHE_HOME/spacy-knowcoder``,
        else ``~/.cache/spacy-knowcoder``.

    Example:
        >>> knowcoder_home().is_absolute()
        True
    """
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser().resolve() / "spacy-knowcoder"


def base_dir(base: str) -> Path:
    """Where a base model is prepared: ``knowcoder_home() / "models" / base``.

    base (str): A base id such as "smollm2-135m".
    RETURNS (Path): The directory (it may not exist yet).

    Example:
        >>> base_dir("smollm2-135m").name
        'smollm2-135m'
    """
    return knowcoder_home() / "models" / base


def prepare_base(base: str, name: str = "") -> Path:
    """Prepare a base model in the user cache unless it is there already.

    base (str): A base id ("smollm2-135m").
    name (str): The shipped model that needs it, for messages.
    RETURNS (Path): The prepared base directory.
    RAISES: ValueError (E116) for an unknown base, FileNotFoundError (E106)
        when its source package is missing.

    Example:
        >>> prepare_base("smollm2-135m")  # doctest: +SKIP
        PosixPath('/root/.cache/spacy-knowcoder/models/smollm2-135m')
    """
    prepare = _BASES.get(base)
    if prepare is None:
        raise ValueError(Errors.E116.format(name=name or base, base=base,
                                            options=", ".join(sorted(_BASES))))
    return prepare(base_dir(base))


def _prepare_embedded(base: EmbeddedBase, target: Path) -> Path:
    """An embedded base's GGUF, dequantized once; reused while the GGUF is unchanged.

    A complete directory made from a file of the installed GGUF's name and
    size is trusted without hashing (or assembling) the file again; a
    directory made from another file is prepared again.
    """
    try:
        identity = base.identity()
    except FileNotFoundError:
        if is_complete(target):
            return target  # prepared before; the package is not needed to load it
        raise
    source = (read_marker(target) or {}).get("source") or {}
    if (is_complete(target) and source.get("name") == identity["name"]
            and source.get("size") == identity["size"]):
        return target
    return base.prepare(target)


for _base in EMBEDDED_BASES.values():
    _BASES[_base.base_id] = functools.partial(_prepare_embedded, _base)


def load_shipped(name: str, device: str = "cpu", dtype: str = "auto") -> Tuple[Any, Any]:
    """Load a shipped model: its prepared base with its adapter merged in.

    name (str): The shipped model's name ("knowcoder-smol").
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16".
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): Model and tokenizer.
    RAISES: ValueError (E112, E113, E114, E116), ImportError (E115),
        FileNotFoundError (E106).

    Example:
        >>> model, tokenizer = load_shipped("knowcoder-smol")  # doctest: +SKIP
    """
    from .adapter import base_fingerprint, load_merged

    model = require_trained(name)
    base = prepare_base(model.base, name)
    found = base_fingerprint(base)
    if found != model.base_fingerprint:
        reason = (f"its metadata expects a base with fingerprint "
                  f"{model.base_fingerprint[:16]}..., the prepared base has {found[:16]}...")
        raise ValueError(Errors.E113.format(path=str(model.path), base=str(base), reason=reason))
    _warn_if_other_source(model, base)
    lm, tokenizer = load_merged(base, model.path, device, dtype, name=name,
                                sha256=model.adapter_sha256)
    lm.name_or_path = name
    return lm, tokenizer


def require_trained(name: str) -> ShippedModel:
    """A shipped model that has trained weights.

    name (str): The shipped model's name.
    RETURNS (ShippedModel): Its metadata.
    RAISES: ValueError (E114) when it has no adapter, (E112) for bad metadata.
    """
    model = get_shipped_model(name)
    if not model.has_adapter:
        raise ValueError(Errors.E114.format(name=name, path=str(model.path)))
    return model


def _warn_if_other_source(model: ShippedModel, base: Path) -> None:
    expected = (model.base_source or {}).get("sha256")
    source = (read_marker(base) or {}).get("source") or {}
    if expected and source.get("sha256") and source["sha256"] != expected:
        warn(Warnings.W102.format(
            name=model.name, base=model.base, path=str(base),
            expected=f"{model.base_source.get('name')} (sha256 {expected[:12]}...)",
            found=f"{source.get('name')} (sha256 {source['sha256'][:12]}...)"))


def merged_source(name: str) -> Dict[str, Any]:
    """The marker's source description of a shipped model merged into a directory.

    name (str): The shipped model's name.
    RETURNS (Dict[str, Any]): {"kind": "shipped", "name", "base", "adapter_sha256"}.
    """
    from ..fileio import file_sha256

    model = require_trained(name)
    return {"kind": "shipped", "name": name, "base": model.base,
            "adapter_sha256": file_sha256(model.path / ADAPTER_WEIGHTS)}


def prepare_merged(name: str, output_dir: Union[str, Path], force: bool = False) -> Path:
    """Merge a shipped model into a plain HF directory (float32 safetensors).

    The directory loads with ``AutoModelForCausalLM.from_pretrained`` alone (no
    peft), in any engine; it is written atomically with a marker, like every
    directory of ``knowcoder prepare-model``.

    name (str): The shipped model's name.
    output_dir (Union[str, Path]): Where to write it.
    force (bool): Write it again even when up to date.
    RETURNS (Path): ``output_dir``.

    Example:
        >>> prepare_merged("knowcoder-smol", "models/knowcoder-smol")  # doctest: +SKIP
    """
    return prepare_model(name, output_dir, merged_source(name), force=force,
                         load=lambda: load_shipped(name, "cpu", "float32"))
