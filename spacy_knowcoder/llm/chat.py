"""An OpenAI-compatible chat endpoint for spacy-llm (``spacy_knowcoder.OpenAICompatible.v1``).

spacy-llm's OpenAI models (``spacy.GPT-4.v3`` ...) accept an ``endpoint``, but
they check the API key against ``https://api.openai.com/v1/models`` whatever the
endpoint is, so they cannot start against a local or self-hosted
OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI) without access to
api.openai.com. This model is spacy-llm's OpenAI model (same requests, same
retries, each prompt sent as one user message) with two changes:

- the check lists the models of the *configured* endpoint (``.../v1/models``)
  and only warns (W351) when that fails;
- the API key is read from the environment variable named by ``api_key_env``
  and may be absent (local servers usually need none).

Example:
    >>> model = make_openai_compatible(  # doctest: +SKIP
    ...     name="qwen2.5-7b-instruct", endpoint="http://127.0.0.1:8000/v1/chat/completions")
    >>> model([["...KnowCoder prompt..."]])  # doctest: +SKIP
    [['```python\\nresults = [...]\\n```']]
"""
import os
from typing import Any, Dict, Optional

import requests
from spacy_llm.models.rest.openai.model import OpenAI
from spacy_llm.registry import registry

from ..errors import Warnings, warn

MODEL_NAME = "spacy_knowcoder.OpenAICompatible.v1"
_API_SUFFIXES = ("/chat/completions", "/completions")


class OpenAICompatible(OpenAI):
    """spacy-llm's OpenAI REST model, pointed at any OpenAI-compatible server.

    api_key_env (str): Environment variable holding the API key (may be unset).
    Other arguments: as for spacy-llm's ``OpenAI`` REST model.
    """

    def __init__(self, *, api_key_env: str = "OPENAI_API_KEY", **kwargs: Any) -> None:
        self._api_key_env = api_key_env
        super().__init__(**kwargs)

    @property
    def credentials(self) -> Dict[str, str]:
        """An Authorization header when a key is set, else none."""
        api_key = os.getenv(self._api_key_env)
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    @property
    def models_url(self) -> str:
        """The endpoint's model list: ``.../v1/chat/completions`` -> ``.../v1/models``."""
        endpoint = self._endpoint.rstrip("/")
        for suffix in _API_SUFFIXES:
            if endpoint.endswith(suffix):
                return endpoint[: -len(suffix)] + "/models"
        return endpoint + "/models"

    def _verify_auth(self) -> None:
        url = self.models_url
        try:
            response = requests.get(url, headers=self._credentials,
                                    timeout=self._max_request_time)
        except requests.RequestException as err:
            warn(Warnings.W351.format(url=url, reason=f"{type(err).__name__}: {err}"))
            return
        if response.status_code != 200:
            warn(Warnings.W351.format(url=url, reason=f"HTTP {response.status_code}"))
            return
        try:
            names = [m.get("id") for m in response.json().get("data", [])]
        except (ValueError, AttributeError) as err:
            warn(Warnings.W351.format(url=url, reason=f"unexpected answer ({err})"))
            return
        if names and self._name not in names:
            warn(Warnings.W351.format(url=url, reason=f"it does not serve '{self._name}' "
                                      f"(it serves: {', '.join(map(str, names[:10]))})"))


@registry.llm_models(MODEL_NAME)
def make_openai_compatible(
    name: str,
    endpoint: str,
    config: Optional[Dict[str, Any]] = None,
    api_key_env: str = "OPENAI_API_KEY",
    strict: bool = True,
    max_tries: int = 5,
    interval: float = 1.0,
    max_request_time: float = 30.0,
    context_length: Optional[int] = None,
) -> OpenAICompatible:
    """Build a chat model for an OpenAI-compatible endpoint.

    name (str): The model name the server knows.
    endpoint (str): The chat completions URL, e.g. ``http://host:8000/v1/chat/completions``.
    config (Optional[Dict[str, Any]]): Extra request fields; default ``{"temperature": 0}``.
    api_key_env (str): Environment variable with the API key (may be unset).
    strict, max_tries, interval, max_request_time: As for spacy-llm's OpenAI models.
    context_length (Optional[int]): The model's context in tokens, used for sharding.
    RETURNS (OpenAICompatible): The model.
    """
    return OpenAICompatible(
        api_key_env=api_key_env, name=name, endpoint=endpoint,
        config=dict(config) if config is not None else {"temperature": 0.0},
        strict=strict, max_tries=max_tries, interval=interval,
        max_request_time=max_request_time, context_length=context_length)
