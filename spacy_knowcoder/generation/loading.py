"""Pick the generation backend for a ``model`` setting.

- ``http://...`` or ``https://...``: an OpenAI-compatible completions server
  (``openai.OpenAIGenerator``; vLLM, TGI, llama.cpp).
- anything else: a local HF directory, hub id or ``.gguf`` file
  (``hf.HFGenerator``).

Example:
    >>> backend_name("http://127.0.0.1:8000/v1"), backend_name("models/smollm2-135m")
    ('openai', 'hf')
"""
from pathlib import Path
from typing import Union

from .base import GenerationSettings, Generator
from .openai import is_endpoint


def backend_name(model: Union[str, Path]) -> str:
    """"openai" for an endpoint URL, "hf" for a local or hub model."""
    return "openai" if is_endpoint(str(model)) else "hf"


def load_generator(model: Union[str, Path], settings: GenerationSettings) -> Generator:
    """The generator for a ``model`` setting.

    model (Union[str, Path]): Endpoint URL, HF directory, hub id or .gguf file.
    settings (GenerationSettings): Decoding settings.
    RETURNS (Generator): An OpenAIGenerator or an HFGenerator.

    Example:
        >>> type(load_generator("http://127.0.0.1:8000/v1", GenerationSettings())).__name__
        'OpenAIGenerator'
    """
    if backend_name(model) == "openai":
        from .openai import OpenAIGenerator

        return OpenAIGenerator(str(model), settings)
    from .hf import HFGenerator

    return HFGenerator(model, settings)
