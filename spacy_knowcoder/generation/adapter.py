"""LoRA adapters on a prepared base: fingerprint, check, apply and merge.

A shipped model is a peft LoRA adapter (``adapter_config.json`` +
``adapter_model.safetensors``) trained on one exact base. Before the adapter is
applied, three cheap checks turn what would be a confusing failure (or, worse,
silently wrong output) into a coded error:

- ``check_adapter``: the files are there and whole (E112). The safetensors
  header is read and the file size must equal what the header promises, which
  catches a truncated download; a recorded sha256 catches any other damage.
- ``base_fingerprint`` vs the fingerprint the adapter was trained with (E113).
  The fingerprint is the sha256 of the base's ``model_type``, its number of
  attention heads and the names and shapes of its tensors (read from the
  safetensors header, no weights loaded). Deliberately not the whole
  config.json: that file also records the transformers version and dtype that
  wrote it, which differ between machines that prepared the same base.
- ``check_fits``: every LoRA matrix matches a module of the base in shape (E113).

``load_merged`` loads the base in float32, applies the adapter with peft and
merges it (``merge_and_unload``), then casts the parameters (not the buffers,
as ``from_pretrained`` does) to the requested dtype, so the in-memory model is
exactly a merged directory saved in float32 and loaded in that dtype.

Example:
    >>> base_fingerprint("models/smollm2-135m")  # doctest: +SKIP
    '3b1f...'
    >>> lm, tokenizer = load_merged("models/smollm2-135m", "adapter/")  # doctest: +SKIP
"""
import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

from ..errors import Errors
from ..fileio import file_sha256
from ..models import ADAPTER_CONFIG, ADAPTER_WEIGHTS

PathLike = Union[str, Path]
#: The config keys that, with the tensor shapes, determine what an adapter fits.
FINGERPRINT_KEYS = ("model_type", "num_attention_heads")
_WEIGHTS = "model.safetensors"
_WEIGHTS_INDEX = "model.safetensors.index.json"
_LORA_MARKERS = (".lora_A.", ".lora_B.", ".lora_embedding_A", ".lora_embedding_B",
                 ".lora_magnitude_vector")


def base_fingerprint(model_dir: PathLike) -> str:
    """A stable fingerprint of a base model's architecture and tensor shapes.

    model_dir (PathLike): A HF directory with config.json and safetensors weights.
    RETURNS (str): A sha256 hex digest.
    RAISES: OSError (E103) when the directory cannot be read.

    Example:
        >>> base_fingerprint("models/smollm2-135m")[:8]  # doctest: +SKIP
        '9c41d2e7'
    """
    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf8"))
        shapes = _tensor_shapes(model_dir)
    except (OSError, ValueError, KeyError, struct.error) as err:
        reason = f"cannot read its config.json or weights header ({type(err).__name__}: {err})"
        raise OSError(Errors.E103.format(model=str(model_dir), reason=reason)) from err
    identity = {"config": {key: config.get(key) for key in FINGERPRINT_KEYS},
                "tensors": sorted([name, list(shape)] for name, shape in shapes.items())}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf8")).hexdigest()


def _tensor_shapes(model_dir: Path) -> Dict[str, List[int]]:
    index = model_dir / _WEIGHTS_INDEX
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf8"))["weight_map"].values()))
    else:
        shards = [_WEIGHTS]
    shapes: Dict[str, List[int]] = {}
    for shard in shards:
        header, _ = read_safetensors_header(model_dir / shard)
        shapes.update({k: v["shape"] for k, v in header.items() if k != "__metadata__"})
    return shapes


def read_safetensors_header(path: PathLike) -> Tuple[Dict[str, Any], int]:
    """The JSON header of a safetensors file and the size the file must have.

    path (PathLike): The .safetensors file.
    RETURNS (Tuple[Dict[str, Any], int]): The header (name -> dtype, shape,
        data_offsets) and the expected file size in bytes.
    RAISES: OSError, ValueError or struct.error for a file that is not one.
    """
    with Path(path).open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > 100_000_000:
            raise ValueError(f"a header of {length} bytes is not plausible")
        header = json.loads(handle.read(length).decode("utf8"))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    return header, 8 + length + max(ends, default=0)


def check_adapter(adapter_dir: PathLike, sha256: Any = None) -> Dict[str, Dict[str, Any]]:
    """Check that a LoRA adapter folder is complete and whole.

    adapter_dir (PathLike): The folder peft's save_pretrained wrote.
    sha256 (Optional[str]): The expected sha256 of the weights, if recorded.
    RETURNS (Dict[str, Dict[str, Any]]): The weights header (name -> dtype,
        shape, data_offsets).
    RAISES: ValueError (E112) naming what is missing or damaged.

    Example:
        >>> check_adapter("/no/such/adapter")
        Traceback (most recent call last):
        ...
        ValueError: (spacy-knowcoder) [E112] The LoRA adapter '/no/such/adapter' is damaged: ...
    """
    folder = Path(adapter_dir)
    _check_adapter_config(folder)
    weights = folder / ADAPTER_WEIGHTS
    try:
        header, size = read_safetensors_header(weights)
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as err:
        raise ValueError(_damaged(folder, f"{ADAPTER_WEIGHTS} cannot be read "
                                          f"({type(err).__name__}: {err})"))
    actual = weights.stat().st_size
    if actual != size:
        raise ValueError(_damaged(folder, f"{ADAPTER_WEIGHTS} has {actual} bytes but its "
                                          f"header describes {size} (truncated or padded)"))
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    if not tensors or not all(any(m in k for m in _LORA_MARKERS) for k in tensors):
        raise ValueError(_damaged(folder, f"{ADAPTER_WEIGHTS} holds no LoRA matrices "
                                          f"(found {len(tensors)} tensors)"))
    if sha256 and file_sha256(weights) != sha256:
        raise ValueError(_damaged(folder, f"{ADAPTER_WEIGHTS} does not match the sha256 "
                                          "recorded in its metadata"))
    return tensors


def _check_adapter_config(folder: Path) -> Dict[str, Any]:
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf8"))
    except (OSError, ValueError) as err:
        raise ValueError(_damaged(folder, f"{ADAPTER_CONFIG} cannot be read "
                                          f"({type(err).__name__}: {err})"))
    if not isinstance(config, dict):
        raise ValueError(_damaged(folder, f"{ADAPTER_CONFIG} is not a JSON object"))
    problems = []
    if str(config.get("peft_type", "")).upper() != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}, not 'LORA'")
    rank = config.get("r")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        problems.append(f"r is {rank!r}, not a positive integer")
    if not config.get("target_modules"):
        problems.append("target_modules is empty")
    if problems:
        raise ValueError(_damaged(folder, f"{ADAPTER_CONFIG}: " + "; ".join(problems)))
    return config


def _damaged(folder: Path, reason: str) -> str:
    return Errors.E112.format(path=str(folder), reason=reason)


def check_fits(tensors: Dict[str, Dict[str, Any]], model: Any, adapter_dir: PathLike,
               base: str) -> None:
    """Check that every LoRA matrix belongs to a module of ``model`` and fits it.

    tensors (Dict[str, Dict[str, Any]]): The adapter's header (``check_adapter``).
    model (PreTrainedModel): The base model.
    adapter_dir (PathLike): For the message.
    base (str): The base's name or directory, for the message.
    RAISES: ValueError (E113) for the first matrix that does not fit.
    """
    for key, info in sorted(tensors.items()):
        marker = next((m for m in (".lora_A.", ".lora_B.") if m in key), None)
        if marker is None:
            continue
        name = key.split(marker)[0].removeprefix("base_model.model.")
        try:
            module = model.get_submodule(name)
        except AttributeError:
            reason = f"it adapts the module '{name}', which the base does not have"
            raise ValueError(Errors.E113.format(path=str(adapter_dir), base=base, reason=reason))
        shape = list(info["shape"])
        want_in = getattr(module, "in_features", None)
        want_out = getattr(module, "out_features", None)
        fits = (shape[-1] == want_in) if marker == ".lora_A." else (shape[0] == want_out)
        if want_in is not None and not fits:
            side = "input" if marker == ".lora_A." else "output"
            reason = (f"'{key}' has shape {shape}, which does not fit the {side} size "
                      f"of '{name}' ({want_in} -> {want_out})")
            raise ValueError(Errors.E113.format(path=str(adapter_dir), base=base, reason=reason))


def load_merged(base_dir: PathLike, adapter_dir: PathLike, device: str = "cpu",
                dtype: str = "auto", name: str = "adapter", sha256: Any = None
                ) -> Tuple[Any, Any]:
    """Load a base, apply a LoRA adapter with peft, merge it and cast it.

    base_dir (PathLike): The prepared base (HF directory).
    adapter_dir (PathLike): The adapter folder.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16" (see ``precision``).
    name (str): The model's name, for messages.
    sha256 (Optional[str]): The adapter weights' expected sha256, if recorded.
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): The merged model
        in eval mode on ``device``, and the base's tokenizer.
    RAISES: ValueError (E112, E113), ImportError (E115 without peft).

    Example:
        >>> lm, tokenizer = load_merged("models/smollm2-135m", "adapter/")  # doctest: +SKIP
    """
    from ..precision import resolve_dtype
    from .sources import load_local_model, resolve_device

    tensors = check_adapter(adapter_dir, sha256)
    peft_model = _peft(name)
    lm, tokenizer = load_local_model(base_dir, device="cpu", dtype="float32")
    check_fits(tensors, lm, adapter_dir, str(base_dir))
    try:
        wrapped = peft_model.from_pretrained(lm, str(adapter_dir), low_cpu_mem_usage=True)
    except RuntimeError as err:  # size mismatch while loading the state dict
        raise ValueError(Errors.E113.format(path=str(adapter_dir), base=str(base_dir),
                                            reason=f"peft could not load it ({err})")) from err
    except (ValueError, KeyError, OSError) as err:
        raise ValueError(_damaged(Path(adapter_dir), f"peft could not load it "
                                                     f"({type(err).__name__}: {err})")) from err
    merged = wrapped.merge_and_unload()
    device = resolve_device(device)
    cast_parameters(merged.to(device), resolve_dtype(dtype, device))
    merged.eval()
    return merged, tokenizer


def cast_parameters(model: Any, dtype: Any) -> Any:
    """Cast the floating-point parameters, and only those, to ``dtype``.

    What ``from_pretrained(dtype=...)`` gives: ``model.to(dtype)`` would also
    round buffers such as the rotary embedding's ``inv_freq`` to bfloat16, which
    shifts every position's angle and changes the output.

    model (torch.nn.Module): The model (changed in place).
    dtype (torch.dtype): The target dtype.
    RETURNS (torch.nn.Module): The model.
    """
    for param in model.parameters():  # tied weights are one parameter: cast once
        if param.is_floating_point() and param.dtype != dtype:
            param.data = param.data.to(dtype)
    return model


def _peft(name: str) -> Any:
    try:
        from peft import PeftModel
    except ImportError as err:
        raise ImportError(Errors.E115.format(name=name, reason=str(err))) from err
    return PeftModel
