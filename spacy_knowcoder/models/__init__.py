"""Models shipped inside the package: small LoRA adapters on an embedded base.

Every sub-folder of this package folder that holds a ``knowcoder_model.json``
is a shipped model, named by its folder (``knowcoder-smol``). A complete one
also holds peft's ``adapter_config.json`` and ``adapter_model.safetensors`` and
a model card ``README.md``. The metadata file says which base the adapter was
trained on (``base``, e.g. "smollm2-135m", with a fingerprint of the base's
architecture and tensor shapes and the GGUF file it was made from), the
training dtype and a training summary.

This module only reads and writes those folders; loading (preparing the base,
applying and merging the adapter) is in ``spacy_knowcoder.generation.shipped``.
The component uses ``DEFAULT_MODEL`` when its ``model`` setting is None.

A model may also recommend inference settings (``inference`` in its metadata,
e.g. ``{"close_penalty": 1.5}``, with how each was chosen under
``inference_chosen``): a generation setting left unset (None) takes the
recommended value (``recommended_setting``). ``record_inference_setting`` writes
one; shipping a new adapter (``write_metadata``) starts without any, since a
value chosen for other weights says nothing about these.

Set ``KNOWCODER_SHIPPED_MODELS`` to another folder to use other shipped models
(tests do; so can a site that keeps its adapters elsewhere).

Example:
    >>> DEFAULT_MODEL
    'knowcoder-x-smol'
    >>> "knowcoder-smol" in list_shipped_models()
    True
    >>> get_shipped_model("knowcoder-smol").base
    'smollm2-135m'
    >>> get_shipped_model(DEFAULT_MODEL).base
    'gemma3-270m'
"""
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..errors import Errors

#: The shipped model the component uses when ``model`` is None: the multilingual
#: Gemma 3 270M adapter, which beat the English SmolLM2 one on English held-out NER
#: (mean strict F1 18.1 against 12.2, one run) and is not worse on RE and ED (issue 17's rule).
DEFAULT_MODEL = "knowcoder-x-smol"
#: The metadata file that makes a folder a shipped model.
METADATA = "knowcoder_model.json"
METADATA_FORMAT = 1
#: Overrides the folder that holds the shipped models.
ROOT_ENV = "KNOWCODER_SHIPPED_MODELS"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_REQUIRED = ("name", "base", "base_fingerprint")
#: Generation settings a shipped model may recommend.
INFERENCE_SETTINGS = ("close_penalty",)


@dataclass(frozen=True)
class ShippedModel:
    """A shipped model folder and what its metadata says.

    name (str): The model's name (its folder name).
    path (Path): The folder.
    base (str): The id of the base model it adapts ("smollm2-135m").
    base_fingerprint (str): ``adapter.base_fingerprint`` of that base.
    base_source (Optional[Dict[str, Any]]): The base's preparation source
        (``{"kind": "gguf", "name", "size", "sha256"}``), if recorded.
    dtype (str): The dtype the adapter was trained in.
    training (Dict[str, Any]): A short training summary (data, steps, scores).
    adapter_sha256 (Optional[str]): The sha256 of the adapter weights, checked
        on load when recorded.
    inference (Dict[str, Any]): Recommended inference settings (``INFERENCE_SETTINGS``).
    """

    name: str
    path: Path
    base: str
    base_fingerprint: str
    base_source: Optional[Dict[str, Any]] = None
    dtype: str = "float32"
    training: Dict[str, Any] = field(default_factory=dict)
    adapter_sha256: Optional[str] = None
    inference: Dict[str, Any] = field(default_factory=dict)

    @property
    def has_adapter(self) -> bool:
        """Whether the folder holds trained weights (an adapter config)."""
        return (self.path / ADAPTER_CONFIG).is_file()


def shipped_root() -> Path:
    """The folder that holds the shipped models.

    RETURNS (Path): ``$KNOWCODER_SHIPPED_MODELS`` if set, else this package's folder.

    Example:
        >>> shipped_root().is_dir()
        True
    """
    override = os.environ.get(ROOT_ENV)
    return Path(override).expanduser() if override else Path(__file__).resolve().parent


def list_shipped_models(root: Optional[Path] = None) -> List[str]:
    """The names of the shipped models (with or without trained weights).

    root (Optional[Path]): The folder to look in; default ``shipped_root()``.
    RETURNS (List[str]): Sorted folder names that hold a metadata file.

    Example:
        >>> list_shipped_models(Path("/no/such/folder"))
        []
    """
    root = shipped_root() if root is None else root
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / METADATA).is_file())


def is_shipped_name(model: Any, root: Optional[Path] = None) -> bool:
    """Whether a ``model`` setting names a shipped model.

    A local path of the same name wins (it is what such a setting meant before
    the name was shipped), so only a bare name without a local match counts.

    model (Any): The component's ``model`` setting.
    root (Optional[Path]): The folder of shipped models.
    RETURNS (bool): True for e.g. "knowcoder-smol".

    Example:
        >>> is_shipped_name("knowcoder-smol"), is_shipped_name("models/smollm2-135m")
        (True, False)
    """
    if not isinstance(model, str) or "/" in model or os.sep in model:
        return False
    return model in list_shipped_models(root) and not Path(model).exists()


def default_model_available(root: Optional[Path] = None) -> bool:
    """Whether the default shipped model is there with trained weights.

    root (Optional[Path]): The folder of shipped models.
    RETURNS (bool): True when ``DEFAULT_MODEL`` has an adapter.

    Example:
        >>> default_model_available(Path("/no/such/folder"))
        False
    """
    root = shipped_root() if root is None else root
    return DEFAULT_MODEL in list_shipped_models(root) and (
        root / DEFAULT_MODEL / ADAPTER_CONFIG).is_file()


def get_shipped_model(name: str, root: Optional[Path] = None) -> ShippedModel:
    """Read a shipped model's metadata.

    name (str): The model's name.
    root (Optional[Path]): The folder of shipped models.
    RETURNS (ShippedModel): The model.
    RAISES: ValueError (E112) for a missing or malformed metadata file.

    Example:
        >>> get_shipped_model(DEFAULT_MODEL).name
        'knowcoder-x-smol'
    """
    folder = (shipped_root() if root is None else root) / name
    path = folder / METADATA
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise ValueError(Errors.E112.format(
            path=str(folder), reason=f"cannot read {METADATA} ({type(err).__name__}: {err})"))
    missing = [key for key in _REQUIRED if not isinstance(data, dict) or not data.get(key)]
    if missing:
        raise ValueError(Errors.E112.format(
            path=str(folder), reason=f"{METADATA} lacks {', '.join(missing)}"))
    return ShippedModel(name=name, path=folder, base=str(data["base"]),
                        base_fingerprint=str(data["base_fingerprint"]),
                        base_source=data.get("base_source"),
                        dtype=str(data.get("dtype", "float32")),
                        training=dict(data.get("training") or {}),
                        adapter_sha256=data.get("adapter_sha256"),
                        inference={key: value for key, value in
                                   dict(data.get("inference") or {}).items()
                                   if key in INFERENCE_SETTINGS})


def write_metadata(folder: Union[str, Path], *, base: str, base_fingerprint: str,
                   base_source: Optional[Dict[str, Any]] = None, dtype: str = "float32",
                   training: Optional[Dict[str, Any]] = None,
                   name: Optional[str] = None) -> Path:
    """Write the metadata file of a shipped model folder (e.g. after training).

    Write it after the adapter: the sha256 of ``adapter_model.safetensors`` is
    recorded when the file is there, and checked on every load.

    folder (Union[str, Path]): The model folder; its name is the model's name.
    base (str): The base model id ("smollm2-135m").
    base_fingerprint (str): ``adapter.base_fingerprint(base_dir)``.
    base_source (Optional[Dict[str, Any]]): The base's preparation source
        (the ``source`` of its ``knowcoder_source.json``).
    dtype (str): The training dtype.
    training (Optional[Dict[str, Any]]): A training summary (JSON-able).
    name (Optional[str]): The model's name, when the folder is a temporary one
        that is renamed into place later; default: the folder's name.
    RETURNS (Path): The metadata file.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "my-model"
        >>> _ = write_metadata(folder, base="smollm2-135m", base_fingerprint="abc")
        >>> get_shipped_model("my-model", folder.parent).base_fingerprint
        'abc'
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = {"format": METADATA_FORMAT, "name": name or folder.name, "base": base,
            "base_fingerprint": base_fingerprint, "base_source": base_source,
            "dtype": dtype, "training": dict(training or {})}
    weights = folder / ADAPTER_WEIGHTS
    if weights.is_file():
        data["adapter_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    path = folder / METADATA
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf8")
    return path


def recommended_setting(model: Any, key: str, default: Any) -> Any:
    """The value a shipped model recommends for a generation setting, else ``default``.

    model (Any): A ``model`` setting: a shipped model's name, or anything else
        (a directory, hub id, file, URL), which recommends nothing.
    key (str): One of ``INFERENCE_SETTINGS``.
    default (Any): The value when the model recommends none.
    RETURNS (Any): The recommended value or ``default``.

    Example:
        >>> recommended_setting("models/smollm2-135m", "close_penalty", 0.0)
        0.0
    """
    if not is_shipped_name(model):
        return default
    return get_shipped_model(model).inference.get(key, default)


def record_inference_setting(name: str, key: str, value: Any, chosen: Dict[str, Any],
                             root: Optional[Path] = None) -> Path:
    """Record a recommended inference setting in a shipped model's metadata.

    name (str): The shipped model.
    key (str): One of ``INFERENCE_SETTINGS``.
    value (Any): The recommended value (JSON-able).
    chosen (Dict[str, Any]): How it was chosen (command, data, scores), kept
        under ``inference_chosen``.
    RETURNS (Path): The metadata file.
    RAISES: ValueError (E104) for a key that is not an inference setting.

    Example:
        >>> record_inference_setting("knowcoder-smol", "close_penalty", 1.5,
        ...                          {"on": "dev"})  # doctest: +SKIP
    """
    if key not in INFERENCE_SETTINGS:
        raise ValueError(Errors.E104.format(name="inference setting",
                                            expected=", ".join(INFERENCE_SETTINGS), value=key))
    get_shipped_model(name, root)  # E112 for a folder without valid metadata
    path = (shipped_root() if root is None else root) / name / METADATA
    data = json.loads(path.read_text(encoding="utf8"))
    data.setdefault("inference", {})[key] = value
    data.setdefault("inference_chosen", {})[key] = chosen
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf8")
    return path
