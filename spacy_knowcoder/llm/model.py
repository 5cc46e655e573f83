"""A local transformers model for spacy-llm's ``llm`` component (``spacy_knowcoder.HF.v1``).

spacy-llm's own Hugging Face wrappers accept only a fixed list of hub names. The
model blocks of ``generation.blocks`` run every model the ``knowcoder``
component runs, by the same names (a shipped model such as ``knowcoder-smol``,
a local HF directory, hub id or ``.gguf`` file), and they are spacy-llm
models too: greedy, batched across *all* prompts of a batch of docs, stopping
as soon as the ``results = [...]`` list closes. ``spacy_knowcoder.HF.v1`` is
the earlier name of ``spacy_knowcoder.HFModel.v1`` (argument ``model`` instead
of ``name``); both build a ``KnowCoderModel``.

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
from typing import List, Optional

from spacy_llm.registry import registry

from ..generation.blocks import KnowCoderModel, make_hf_model_block
from ..generation.sources import resolve_model_source
from ..generation.loading import load_tokenizer

MODEL_NAME = "spacy_knowcoder.HF.v1"
TOKEN_COUNTER_NAME = "spacy_knowcoder.TokenCounter.v1"
#: The model this block builds (the class of ``spacy_knowcoder.HFModel.v1``; the
#: old name stays importable).
KnowCoderHF = KnowCoderModel


@registry.llm_models(MODEL_NAME)
def make_hf_model(
    model: str,
    max_new_tokens: int = 640,
    batch_size: int = 8,
    device: str = "cpu",
    dtype: str = "auto",
    context_length: Optional[int] = None,
) -> KnowCoderModel:
    """Build the local model for spacy-llm (the same model as ``spacy_knowcoder.HFModel.v1``,
    under its earlier name and argument ``model``).

    model (str): Shipped model's name, local HF directory, hub id or .gguf file.
    max_new_tokens (int): Most tokens per answer (the reference uses 640).
    batch_size (int): Prompts decoded together.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16".
    context_length (Optional[int]): Prompt budget for sharding (see
        ``KnowCoderModel.context_length``).
    RETURNS (KnowCoderModel): The model.
    """
    block = make_hf_model_block(model, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                device=device, dtype=dtype, context_length=context_length)
    block.check()  # a missing path fails here, not at the first doc
    return block


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
