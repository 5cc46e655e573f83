"""spacy-llm integration: the KnowCoder task, a local model and an OpenAI-compatible model.

Registered names (found through entry points, no import needed in a config):

- ``spacy_knowcoder.KnowCoder.v1`` (``@llm_tasks``): KnowCoder prompts and parsing
  for spacy-llm's ``llm`` component, writing the same results as the
  ``knowcoder`` component (see ``task``);
- ``spacy_knowcoder.HFModel.v1`` (``@llm_models``): the ``knowcoder``
  component's model block (``generation.blocks``), also a spacy-llm model: any
  shipped model, local HF directory, hub id or .gguf file, batched greedy
  decoding; ``spacy_knowcoder.HF.v1`` is its earlier name (see ``model``);
- ``spacy_knowcoder.OpenAICompatible.v1`` (``@llm_models``): an OpenAI-compatible
  chat server such as vLLM or llama.cpp (see ``chat``);
- ``spacy_knowcoder.TokenCounter.v1`` (``@llm_misc``): a tokenizer-based token
  estimator for ``spacy.ShardMapper.v1``.

Needs ``pip install spacy-knowcoder[llm]`` (spacy-llm).

Example:
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> llm = nlp.add_pipe("llm", config={
    ...     "task": {"@llm_tasks": "spacy_knowcoder.KnowCoder.v1",
    ...              "schema": {"entities": {"person": "A human being."}}},
    ...     "model": {"@llm_models": "spacy_knowcoder.HFModel.v1",
    ...               "name": "models/smollm2-135m"}})  # doctest: +SKIP
"""
from .chat import OpenAICompatible, make_openai_compatible
from .examples import FewShotExample, examples_from_records, render_exchange
from .model import KnowCoderHF, TokenCounter, make_hf_model, make_token_counter
from .task import KnowCoderTask, TaskSettings, make_knowcoder_task

__all__ = [
    "FewShotExample",
    "KnowCoderHF",
    "KnowCoderTask",
    "OpenAICompatible",
    "TaskSettings",
    "TokenCounter",
    "examples_from_records",
    "make_hf_model",
    "make_knowcoder_task",
    "make_openai_compatible",
    "make_token_counter",
    "render_exchange",
]
