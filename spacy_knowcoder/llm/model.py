"""A local transformers model for spacy-llm's ``llm`` component (``spacy_knowcoder.HF.v1``).

spacy-llm's own Hugging Face wrappers accept only a fixed list of hub names. This
model runs every model the ``knowcoder`` component runs, by the same names (a
shipped model such as ``knowcoder-smol``, a local HF directory, hub id or
``.gguf`` file; ``sources.resolve_model_source`` decides) with the project's
``HFGenerator``: greedy, batched across *all* prompts of a batch of docs, left
padded, stopping as soon as the ``results = [...]`` list closes.

Components that name the same model with the same settings share one loaded
model (e.g. the ner/re/ed component and the eae component after it).

``context_length`` is what the task's shard mapper fits prompts into, so it is
the model's context minus ``max_new_tokens`` (room for the answer), unless
given explicitly.

Example:
    >>> model = make_hf_model("models/smollm2-135m", max_new_tokens=64)  # doctest: +SKIP
    >>> model([["...prompt of doc 1..."], ["...doc 2, shard 1...", "...shard 2..."]])  # doctest: +SKIP
    [['results = []'], ['results = [...]', 'results = []']]
"""
from typing import Dict, Iterable, List, Optional, Tuple

from spacy_llm.registry import registry

from ..generation.base import GenerationSettings
from ..generation.hf import HFGenerator
from ..generation.sources import resolve_model_source
from ..generation.loading import load_tokenizer

MODEL_NAME = "spacy_knowcoder.HF.v1"
TOKEN_COUNTER_NAME = "spacy_knowcoder.TokenCounter.v1"
_LOADED: Dict[Tuple[str, str, int, int, str, str], HFGenerator] = {}


class KnowCoderHF:
    """Complete spacy-llm's nested prompts with a local causal LM.

    model (str): Shipped model's name, local HF directory, hub id or .gguf file.
    settings (GenerationSettings): max_new_tokens, batch_size, device, dtype.
    context_length (Optional[int]): Prompt budget for sharding; default: the
        model's context minus ``settings.max_new_tokens``.
    """

    def __init__(self, model: str, settings: GenerationSettings,
                 context_length: Optional[int] = None) -> None:
        resolve_model_source(model)  # a missing path fails here, not at the first doc
        self.name = str(model)
        self.settings = settings
        self._context_length = context_length
        self.generator = _shared_generator(self.name, settings)

    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        """Complete every prompt of every doc in one batched run.

        prompts (Iterable[Iterable[str]]): Per doc, its prompts.
        RETURNS (Iterable[Iterable[str]]): Per doc, one completion per prompt.
        """
        per_doc = [list(doc_prompts) for doc_prompts in prompts]
        flat = [prompt for doc_prompts in per_doc for prompt in doc_prompts]
        completions = iter(self.generator.generate(flat) if flat else [])
        return [[next(completions) for _ in doc_prompts] for doc_prompts in per_doc]

    @property
    def context_length(self) -> int:
        """Tokens a prompt may use (the shard mapper fits prompts into this)."""
        if self._context_length is not None:
            return self._context_length
        return max(1, self.generator.max_context - self.settings.max_new_tokens)


def _shared_generator(model: str, settings: GenerationSettings) -> HFGenerator:
    key = (model, settings.device, settings.max_new_tokens, settings.batch_size,
           settings.dtype, str(settings.stop_at_list_end))
    if key not in _LOADED:
        _LOADED[key] = HFGenerator(model, settings)
    return _LOADED[key]


@registry.llm_models(MODEL_NAME)
def make_hf_model(
    model: str,
    max_new_tokens: int = 640,
    batch_size: int = 8,
    device: str = "cpu",
    dtype: str = "auto",
    context_length: Optional[int] = None,
) -> KnowCoderHF:
    """Build the local model for spacy-llm.

    model (str): Shipped model's name, local HF directory, hub id or .gguf file.
    max_new_tokens (int): Most tokens per answer (the reference uses 640).
    batch_size (int): Prompts decoded together.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16".
    context_length (Optional[int]): Prompt budget for sharding (see KnowCoderHF).
    RETURNS (KnowCoderHF): The model.
    """
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size,
                                  device=device, dtype=dtype)
    return KnowCoderHF(model, settings, context_length)


@registry.llm_misc(TOKEN_COUNTER_NAME)
def make_token_counter(model: str) -> "TokenCounter":
    """A token estimator for ``spacy.ShardMapper.v1`` that uses the model's tokenizer.

    spacy-llm's default estimator counts whitespace-separated words, which
    undercounts code prompts by a factor of two or more.

    model (str): A shipped model's name, local HF directory, hub id or .gguf
        file (only its tokenizer is loaded).
    RETURNS (TokenCounter): Callable counting the tokens of a string.
    """
    return TokenCounter(model)


class TokenCounter:
    """Count tokens with a model's tokenizer (loaded on first use)."""

    def __init__(self, model: str) -> None:
        resolve_model_source(model)
        self.model = model
        self._tokenizer = None

    def __call__(self, text: str) -> int:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.model)
        ids: List[int] = self._tokenizer(text, add_special_tokens=True)["input_ids"]
        return len(ids)
