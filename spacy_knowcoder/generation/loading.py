"""Pick the generation backend for a ``model`` setting.

What a name means is decided by ``sources.resolve_model_source`` alone:

- ``http://...`` or ``https://...``: an OpenAI-compatible completions server
  (``openai.OpenAIGenerator``; vLLM, TGI, llama.cpp).
- anything else: a shipped model's name, a local HF directory, hub id or
  ``.gguf`` file (``hf.HFGenerator``; a shipped model loads through
  ``shipped.load_shipped``).

Example:
    >>> backend_name("http://127.0.0.1:8000/v1"), backend_name("models/smollm2-135m")
    ('openai', 'hf')
"""
from pathlib import Path
from typing import Any, Union

from .base import GenerationSettings, Generator
from .openai import is_endpoint


def backend_name(model: Union[str, Path]) -> str:
    """"openai" for an endpoint URL, "hf" for a shipped, local or hub model."""
    return "openai" if is_endpoint(str(model)) else "hf"


def load_tokenizer(model: Union[str, Path]) -> Any:
    """Only the tokenizer of a ``model`` setting (shipped name, directory, hub id, .gguf).

    Example:
        >>> load_tokenizer("knowcoder-smol")("Hello")["input_ids"]  # doctest: +SKIP
        [19556]
    """
    from transformers import AutoTokenizer

    from .sources import resolve_model_source

    source = resolve_model_source(model)
    if source.kind == "shipped":
        from ..models import get_shipped_model
        from .shipped import prepare_base

        return AutoTokenizer.from_pretrained(
            prepare_base(get_shipped_model(source.location).base, source.location))
    kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
    return AutoTokenizer.from_pretrained(source.location, **kwargs)


def load_generator(model: Union[str, Path], settings: GenerationSettings) -> Generator:
    """The generator for a ``model`` setting.

    model (Union[str, Path]): Endpoint URL, shipped model's name, HF directory,
        hub id or .gguf file.
    settings (GenerationSettings): Decoding settings.
    RETURNS (Generator): An OpenAIGenerator or an HFGenerator.

    Example:
        >>> type(load_generator("http://127.0.0.1:8000/v1", GenerationSettings())).__name__
        'OpenAIGenerator'
    """
    from .blocks import KnowCoderModel

    return KnowCoderModel(str(model), settings, backend=backend_name(model)).load()
