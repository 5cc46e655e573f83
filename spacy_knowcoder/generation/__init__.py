"""Text generation backends for KnowCoder prompts.

Importing this package is cheap: torch and transformers load on first use.

Example:
    >>> from spacy_knowcoder.generation import HFGenerator, GenerationSettings
    >>> gen = HFGenerator("models/smollm2-135m", GenerationSettings(batch_size=4))
"""
from ..answer import find_list_end, open_results_prefix
from .base import (
    DEFAULT_STOP_STRINGS,
    GenerationSettings,
    Generator,
    generate_for_jobs,
    list_is_closed,
    truncate_completion,
)
from .blocks import KnowCoderModel, as_model_block, model_block_config
from .constrained import Constraint, ResultsGrammar
from .embedded import EMBEDDED_BASES, GEMMA3, SMOLLM2, EmbeddedBase, get_embedded_base
from .hf import HFGenerator, load_model_and_tokenizer
from .sources import load_local_model, resolve_model_source
from .loading import load_generator
from .openai import OpenAIGenerator
from .prefix_cache import PrefixCache, split_prompt
from .smollm2 import convert_gguf, find_smollm2_gguf, install_smollm2, is_complete

__all__ = [
    "Constraint",
    "DEFAULT_STOP_STRINGS",
    "EMBEDDED_BASES",
    "EmbeddedBase",
    "GEMMA3",
    "GenerationSettings",
    "Generator",
    "HFGenerator",
    "KnowCoderModel",
    "OpenAIGenerator",
    "PrefixCache",
    "ResultsGrammar",
    "SMOLLM2",
    "as_model_block",
    "convert_gguf",
    "find_list_end",
    "find_smollm2_gguf",
    "generate_for_jobs",
    "get_embedded_base",
    "install_smollm2",
    "is_complete",
    "list_is_closed",
    "load_generator",
    "load_local_model",
    "load_model_and_tokenizer",
    "model_block_config",
    "open_results_prefix",
    "resolve_model_source",
    "split_prompt",
    "truncate_completion",
]
