"""What a ``model`` setting names, and loading a local, hub or .gguf model.

``resolve_model_source`` is the one place that decides what a name means (a
server URL, a shipped model, a local directory or .gguf file, a hub id);
``load_local_model`` loads the last three with transformers. Loading a shipped
model (a prepared base plus its adapter) builds on this module
(``shipped.load_shipped``), and ``hf.load_model_and_tokenizer`` picks between
the two, so nothing here imports the backends.

Example:
    >>> resolve_model_source("https://127.0.0.1:8000/v1").kind
    'endpoint'
"""
import os
from pathlib import Path
from typing import Any, NamedTuple, Optional, Tuple, Union

from ..errors import Errors
from ..precision import resolve_dtype

_HUB_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class ModelSource(NamedTuple):
    """Where a model comes from.

    kind (str): "dir" (local HF directory), "gguf" (local .gguf file), "hub",
        "shipped" (a model shipped in this package, ``spacy_knowcoder.models``) or
        "endpoint" (an OpenAI-compatible server URL, see ``openai``).
    location (str): The directory, the .gguf file's directory, the hub id, the
        shipped model's name or the URL.
    gguf_file (Optional[str]): The .gguf file name for kind "gguf".
    """

    kind: str
    location: str
    gguf_file: Optional[str] = None


def resolve_model_source(model: Union[str, Path]) -> ModelSource:
    """Decide what a ``model`` setting names: the one place that does.

    In this order: an ``http(s)://`` URL is a server; a shipped model's name
    ("knowcoder-smol") is that model unless a local path of the same name
    exists; an existing directory or ``.gguf`` file is local; anything else that
    looks like ``org/name`` is a hub id. The component, the spacy-llm model,
    ``load_generator`` and ``knowcoder prepare-model`` all ask here.

    model (Union[str, Path]): Path or hub id.
    RETURNS (ModelSource): The resolved source.
    RAISES: FileNotFoundError (E100) for a missing local path, ValueError (E101)
        for a directory without config.json, ValueError (E102) for another file.

    Example:
        >>> resolve_model_source("golaxy/KnowCoder-7B-base").kind  # doctest: +SKIP
        'hub'
    """
    text = str(model)
    if text.startswith(("http://", "https://")):
        return ModelSource("endpoint", text)
    from ..models import is_shipped_name

    if is_shipped_name(text):
        return ModelSource("shipped", text)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            found = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
            raise ValueError(Errors.E101.format(path=text, found=found))
        return ModelSource("dir", str(path))
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ValueError(Errors.E102.format(path=text, suffix=path.suffix or "(none)"))
        return ModelSource("gguf", str(path.resolve().parent), path.name)
    if isinstance(model, Path) or _looks_like_local_path(text):
        raise FileNotFoundError(Errors.E100.format(path=text))
    return ModelSource("hub", text)


def _looks_like_local_path(text: str) -> bool:
    """A missing path that cannot be meant as a hub id (``org/name`` or ``name``)."""
    if not text or text.startswith((".", "/", "~")) or text.lower().endswith(".gguf"):
        return True
    if os.sep != "/" and os.sep in text:
        return True
    parts = text.split("/")
    if len(parts) > 2 or not all(_is_hub_name_part(part) for part in parts):
        return True
    # "models/smollm2-135m" is a valid hub id, but when "models/" exists here the
    # user almost certainly means a local directory that was not prepared yet.
    return len(parts) == 2 and Path(parts[0]).is_dir()


def _is_hub_name_part(part: str) -> bool:
    if not part or not set(part) <= _HUB_ID_CHARS:
        return False
    if part[0] in "-." or part[-1] in "-." or ".." in part or "--" in part:
        return False
    return True


def resolve_device(device: str) -> str:
    """Turn "auto" into "cuda" when available, else "cpu".

    device (str): A device name of GenerationSettings.
    RETURNS (str): A torch device name.

    Example:
        >>> resolve_device("cpu")  # doctest: +SKIP
        'cpu'
    """
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_local_model(model: Union[str, Path], device: str = "cpu",
                     dtype: str = "auto") -> Tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a directory, hub id or .gguf file.

    A .gguf file is dequantized (``GgufConfig(dequantize=True)``), so the model
    can be saved and trained like any other. Shipped models and servers are not
    loaded here (``hf.load_model_and_tokenizer`` takes every kind).

    model (Union[str, Path]): The model source.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16"; "auto" is decided
        by ``spacy_knowcoder.precision.resolve_dtype`` (bfloat16 on CPUs with
        AMX/AVX512-BF16 and on CUDA, else float32).
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): Model in eval
        mode on ``device``, and tokenizer.
    RAISES: ValueError (E103) for a shipped model's name or a server URL;
        OSError (E103) when the files cannot be loaded.

    Example:
        >>> model, tokenizer = load_local_model("models/smollm2-135m")  # doctest: +SKIP
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(model)
    if source.kind in ("shipped", "endpoint"):
        what = ("a shipped model, loaded with load_model_and_tokenizer" if source.kind == "shipped"
                else "a server URL, which is used through load_generator, not loaded locally")
        raise ValueError(Errors.E103.format(model=str(model), reason=f"it is {what}"))
    device = resolve_device(device)
    kwargs: dict = {"dtype": resolve_dtype(dtype, device)}
    if source.kind == "gguf":
        from transformers import GgufConfig

        kwargs["gguf_file"] = source.gguf_file
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    try:
        lm = AutoModelForCausalLM.from_pretrained(source.location, **kwargs)
        tok_kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
        tokenizer = AutoTokenizer.from_pretrained(source.location, **tok_kwargs)
    except Exception as err:  # OSError, JSONDecodeError, SafetensorError (corrupt files), ...
        reason = f"{type(err).__name__}: {err}"
        raise OSError(Errors.E103.format(model=str(model), reason=reason)) from err
    lm.to(device)
    lm.eval()
    return lm, tokenizer
