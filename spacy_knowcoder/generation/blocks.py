"""The model as a registered block: which model runs, and how it generates.

The ``knowcoder`` component and spacy-llm's ``llm`` component name a model the
same way, as a block of spacy-llm's ``llm_models`` registry:

.. code-block:: ini

    [components.knowcoder.model]
    @llm_models = "spacy_knowcoder.HFModel.v1"
    name = "knowcoder-smol"
    max_new_tokens = 640
    batch_size = 32

``spacy_knowcoder.HFModel.v1`` runs a shipped model, a local Hugging Face
directory, a hub id or a ``.gguf`` file in this process (``hf.HFGenerator``);
``spacy_knowcoder.OpenAIModel.v1`` calls an OpenAI-compatible completions
server (``openai.OpenAIGenerator``: vLLM, TGI, llama.cpp). A plain string
(``model = "knowcoder-smol"``, a directory, or a server URL) is the shorthand
for the block with default settings (``as_model_block``).

Both blocks build a ``KnowCoderModel``: the component loads its generator on
the first doc (``load``); spacy-llm calls it with nested prompts
(``__call__``), and blocks with the same name and settings share one loaded
model there.

Example:
    >>> block = make_hf_model_block("models/smollm2-135m", max_new_tokens=64)
    >>> block.name, block.settings.max_new_tokens, block.backend
    ('models/smollm2-135m', 64, 'hf')
    >>> as_model_block("http://127.0.0.1:8000/v1").backend
    'openai'
"""
import os
from dataclasses import astuple
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from spacy.util import registry

from ..errors import Errors, Warnings, warn
from .base import GenerationSettings, Generator
from .openai import is_endpoint

HF_MODEL = "spacy_knowcoder.HFModel.v1"
OPENAI_MODEL = "spacy_knowcoder.OpenAIModel.v1"
#: Generation settings each block takes (and the component's flat keys before
#: the model became a block; ``as_model_block`` translates those).
HF_SETTINGS = ("max_new_tokens", "batch_size", "device", "dtype", "constrained",
               "stop_repeats", "prefix_cache", "close_penalty")
OPENAI_SETTINGS = ("max_new_tokens", "batch_size")
_SHARED: Dict[Tuple[Any, ...], Generator] = {}

# spacy-llm's model registry, made the way spacy-llm makes it (so either may come
# first): the blocks work in the knowcoder component without spacy-llm installed.
if "llm_models" not in registry.get_registry_names():
    registry.create("llm_models", entry_points=True)


def release_shared_generators() -> None:
    """Drop the generators that blocks share, so their models can be freed.

    A process that loads one model after another (a benchmark over several
    models or settings) calls this between them; the next use loads again.

    Example:
        >>> release_shared_generators()
    """
    _SHARED.clear()


class KnowCoderModel:
    """A model and its generation settings (built by the registered blocks).

    name (Optional[str]): Shipped model's name, HF directory, hub id, ``.gguf``
        file or server URL; None: the shipped default (``models.DEFAULT_MODEL``).
    settings (GenerationSettings): How it generates.
    backend (str): "hf" (in this process) or "openai" (a completions server).
    options (Mapping[str, Any]): Further arguments of the backend's generator
        (``OpenAIGenerator``: model_name, max_context, timeout, retries).
    context_length (Optional[int]): For spacy-llm's sharding: tokens a prompt
        may use; default the model's context minus ``max_new_tokens``.
    """

    def __init__(self, name: Optional[str], settings: GenerationSettings, *,
                 backend: str = "hf", options: Optional[Mapping[str, Any]] = None,
                 context_length: Optional[int] = None) -> None:
        self.name = None if name is None else str(name)
        self.settings = settings
        self.backend = backend
        self.options = dict(options or {})
        self._context_length = context_length

    def check(self) -> None:
        """Fail now on a local path that does not exist (a server is tried when used)."""
        if self.name is not None and self.backend == "hf":
            from .sources import resolve_model_source

            resolve_model_source(self.name)

    def with_name(self, name: Optional[str]) -> "KnowCoderModel":
        """The same block for another model (e.g. a pipeline's packaged copy)."""
        return KnowCoderModel(name, self.settings, backend=self.backend, options=self.options,
                              context_length=self._context_length)

    def load(self) -> Generator:
        """A new generator for this block (the model is loaded here).

        RAISES: ValueError (E019) when ``name`` is None and the shipped default
            has no weights in this installation.
        """
        if self.backend == "openai":
            from .openai import OpenAIGenerator

            options = dict(self.options)
            api_key_env = options.pop("api_key_env", None)
            api_key = os.getenv(api_key_env) if api_key_env else None
            return OpenAIGenerator(str(self.name), self.settings, api_key=api_key, **options)
        from ..models import DEFAULT_MODEL, default_model_available

        if self.name is None and not default_model_available():
            raise ValueError(Errors.E019)
        from .hf import HFGenerator

        return HFGenerator(self.name or DEFAULT_MODEL, self.settings)

    @property
    def generator(self) -> Generator:
        """The generator spacy-llm calls, shared by blocks with equal settings."""
        key = (self.backend, self.name, astuple(self.settings),
               tuple(sorted(self.options.items())))
        if key not in _SHARED:
            _SHARED[key] = self.load()
        return _SHARED[key]

    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        """Complete every prompt of every doc in one batched run (spacy-llm's interface).

        prompts (Iterable[Iterable[str]]): Per doc, its prompts.
        RETURNS (Iterable[Iterable[str]]): Per doc, one completion per prompt.
        """
        per_doc = [list(doc_prompts) for doc_prompts in prompts]
        flat = [prompt for doc_prompts in per_doc for prompt in doc_prompts]
        completions = iter(self.generator.generate(flat) if flat else [])
        return [[next(completions) for _ in doc_prompts] for doc_prompts in per_doc]

    @property
    def context_length(self) -> int:
        """Tokens a prompt may use (spacy-llm's shard mapper fits prompts into this)."""
        if self._context_length is not None:
            return self._context_length
        return max(1, self.generator.max_context - self.settings.max_new_tokens)

    def __repr__(self) -> str:
        return f"KnowCoderModel({self.name!r}, backend={self.backend!r}, {self.settings})"


@registry.llm_models(HF_MODEL)
def make_hf_model_block(
    name: Optional[str] = None,
    max_new_tokens: int = 640,
    batch_size: int = 32,
    device: str = "cpu",
    dtype: str = "auto",
    constrained: bool = True,
    stop_repeats: bool = True,
    prefix_cache: bool = True,
    context_length: Optional[int] = None,
    close_penalty: Optional[float] = None,
) -> KnowCoderModel:
    """A model run in this process with transformers.

    name (Optional[str]): Shipped model's name ("knowcoder-smol"), HF directory,
        hub id or ``.gguf`` file; None: the shipped default.
    max_new_tokens (int): Most tokens per answer (the reference uses 640).
    batch_size (int): Prompts decoded together (``GenerationSettings``).
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto" (bfloat16 where the CPU or GPU computes it natively),
        "float32", "bfloat16" or "float16".
    constrained (bool): Decode with the schema grammar (only candidate classes,
        only mentions in the text; the output always parses).
    stop_repeats (bool): Under constraints, close the list when an item repeats
        more often than the text allows.
    prefix_cache (bool): Compute the schema prefix's KV cache once (lossless).
    context_length (Optional[int]): spacy-llm only: the prompt budget for sharding.
    close_penalty (Optional[float]): Under constraints, the log-probability margin
        by which ending the results list must beat going on (0: greedy; more:
        more recall); null: what the shipped model recommends, else 0.
    RETURNS (KnowCoderModel): The block.
    """
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size,
                                  device=device, dtype=dtype, constrained=constrained,
                                  stop_repeats=stop_repeats, prefix_cache=prefix_cache,
                                  close_penalty=close_penalty)
    return KnowCoderModel(name, settings, backend="hf", context_length=context_length)


@registry.llm_models(OPENAI_MODEL)
def make_openai_model_block(
    url: str,
    max_new_tokens: int = 640,
    batch_size: int = 8,
    model_name: str = "default",
    api_key_env: str = "OPENAI_API_KEY",
    max_context: int = 2048,
    timeout: float = 120.0,
    retries: int = 3,
    concurrency: int = 1,
    grammar: Optional[str] = None,
) -> KnowCoderModel:
    """A model served by an OpenAI-compatible completions server (vLLM, TGI, llama.cpp).

    url (str): The server, e.g. "http://127.0.0.1:8000/v1".
    max_new_tokens (int): Most tokens per answer.
    batch_size (int): Prompts sent in one request.
    model_name (str): The ``model`` field of each request.
    api_key_env (str): Environment variable holding the API key (may be unset).
    max_context (int): The server's context, for splitting long documents.
    timeout (float): Seconds per request.
    retries (int): Retries of a failed request (5xx, 429, timeouts).
    concurrency (int): Requests in flight at once (each of ``batch_size`` prompts),
        so that a server that batches continuously (vLLM, llama.cpp with
        ``--parallel``) is kept busy.
    grammar (Optional[str]): Constrain answers on the server with the schema's
        GBNF grammar, in the request field of this engine: "llama.cpp", "vllm"
        (v0.12 on), "vllm-legacy" (``guided_grammar``) or "sglang"; null sends none.
    RETURNS (KnowCoderModel): The block.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(Errors.E104.format(name="concurrency", expected="an integer >= 1",
                                            value=concurrency))
    from .gbnf import check_engine

    check_engine(grammar)
    if not is_endpoint(url):
        raise ValueError(Errors.E104.format(name="url", expected="an http:// or https:// URL",
                                            value=url))
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size)
    options = {"model_name": model_name, "api_key_env": api_key_env,
               "max_context": max_context, "timeout": timeout, "retries": retries,
               "concurrency": concurrency, "grammar": grammar}
    return KnowCoderModel(url, settings, backend="openai", options=options)


def as_model_block(model: Union[str, KnowCoderModel, None],
                   legacy: Optional[Mapping[str, Any]] = None) -> KnowCoderModel:
    """The block for a ``model`` setting: a block as given, a string as the shorthand.

    legacy (Mapping[str, Any]): Generation settings given as the component's flat
        keys (before the model became a block); those that are not None are
        applied to a shorthand with warning W004, and are an error (E024) next
        to a block.

    Example:
        >>> as_model_block("models/smollm2-135m").settings.batch_size
        32
        >>> as_model_block(None).name is None
        True
    """
    given = {key: value for key, value in (legacy or {}).items() if value is not None}
    if isinstance(model, KnowCoderModel):
        if given:
            raise ValueError(Errors.E024.format(keys=", ".join(sorted(given))))
        return model
    backend_keys = OPENAI_SETTINGS if model is not None and is_endpoint(str(model)) else HF_SETTINGS
    if given:
        warn(Warnings.W004.format(keys=", ".join(sorted(given)),
                                  block=model_block_config(model, **given)), FutureWarning)
    settings = {key: value for key, value in given.items() if key in backend_keys}
    if model is not None and is_endpoint(str(model)):
        return make_openai_model_block(str(model), **settings)
    return make_hf_model_block(model, **settings)


def model_block_config(model: Union[str, Mapping[str, Any], None], **settings: Any
                       ) -> Dict[str, Any]:
    """The config of a model block: a shorthand or a block's config, with ``settings`` set.

    Settings the block's kind does not take (``device`` for a server) are left out.

    Example:
        >>> model_block_config("knowcoder-smol", batch_size=4)
        {'@llm_models': 'spacy_knowcoder.HFModel.v1', 'name': 'knowcoder-smol', 'batch_size': 4}
        >>> model_block_config({"@llm_models": OPENAI_MODEL, "url": "http://h/v1"}, device="cpu")
        {'@llm_models': 'spacy_knowcoder.OpenAIModel.v1', 'url': 'http://h/v1'}
    """
    if isinstance(model, Mapping):
        config = dict(model)
    elif model is not None and is_endpoint(str(model)):
        config = {"@llm_models": OPENAI_MODEL, "url": str(model)}
    else:
        config = {"@llm_models": HF_MODEL, "name": model}
    allowed = OPENAI_SETTINGS if config.get("@llm_models") == OPENAI_MODEL else HF_SETTINGS
    config.update({key: value for key, value in settings.items()
                   if key in allowed and value is not None})
    return config
