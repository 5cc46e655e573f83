"""A generation backend that calls an OpenAI-compatible ``/v1/completions`` endpoint.

For users who outgrow one machine: serve the model with vLLM, TGI or llama.cpp
(all speak the OpenAI completions protocol) and point the component's ``model``
at the server, e.g. ``"http://127.0.0.1:8000/v1"``. The server does the
batching and KV caching (vLLM's automatic prefix caching reuses the schema
prefix the same way the local backend does).

- Prompts are sent ``batch_size`` at a time in one request (``prompt`` is a list),
  and up to ``concurrency`` requests are in flight at once (threads; a server
  with continuous batching serves them together).
- Greedy (``temperature`` 0), ``max_tokens`` = ``max_new_tokens``, stop strings
  ``\"\"\"`` and ``\\n]`` (the end of a KnowCoder list); the closing ``]`` that the
  server swallows with its stop string is put back, and the text is cut right
  after the list closes, like the local backend.
- 5xx/429 answers, timeouts and refused connections are retried with
  exponential backoff; then a coded error says what failed.
- Token counts (for splitting long documents into windows) are estimated
  conservatively from the UTF-8 length (``bytes_per_token``), as the protocol
  has no tokenizer endpoint; set ``max_context`` to the server's context.
- Schema-constrained decoding on the server: with ``grammar`` naming the
  engine (``"llama.cpp"``, ``"vllm"``, ``"vllm-legacy"``, ``"sglang"``), each
  prompt goes in its own request with the GBNF grammar of its constraint
  (``gbnf.results_gbnf``: the candidate classes, mentions from the text) in the
  engine's field, and llama.cpp is asked to keep the prompt in its cache.
  Without it the parser drops what is outside the schema or the text (and
  counts it); it checks grammar-constrained answers the same way.

Example:
    >>> gen = OpenAIGenerator("http://127.0.0.1:8000/v1", GenerationSettings(max_new_tokens=64))  # doctest: +SKIP
    >>> gen.generate(['...sentence = "Obama spoke."\\nOutput:\\n'])  # doctest: +SKIP
    ['results = [\\n\\tPerson("Obama")\\n]']
"""
import json
import math
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..answer import LIST_CLOSE, find_list_end, open_results_prefix
from ..errors import Errors
from .base import DEFAULT_STOP_STRINGS, GenerationSettings, truncate_completion
from .constrained import Constraint
from .gbnf import check_engine, request_fields, results_gbnf

LIST_END_STOP = LIST_CLOSE
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_endpoint(model: str) -> bool:
    """Whether a ``model`` setting names an HTTP(S) endpoint.

    Example:
        >>> is_endpoint("http://127.0.0.1:8000/v1"), is_endpoint("models/smollm2-135m")
        (True, False)
    """
    return str(model).startswith(("http://", "https://"))


def completions_url(base_url: str) -> str:
    """The completions URL for a server address (``/v1`` is added when missing).

    Example:
        >>> completions_url("http://localhost:8000")
        'http://localhost:8000/v1/completions'
        >>> completions_url("http://localhost:8000/v1/")
        'http://localhost:8000/v1/completions'
    """
    base = base_url.rstrip("/")
    if base.endswith("/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/completions"


class OpenAIGenerator:
    """Complete KnowCoder prompts with an OpenAI-compatible completions server.

    base_url (str): The server, e.g. "http://127.0.0.1:8000/v1".
    settings (Optional[GenerationSettings]): max_new_tokens, batch_size,
        stop_at_list_end (device, dtype and constrained do not apply).
    model_name (str): The ``model`` field of the request (the served model's name).
    api_key (Optional[str]): Sent as a Bearer token when given.
    max_context (int): The served model's context length in tokens.
    timeout (float): Seconds per request.
    retries (int): Retries after the first try for 5xx/429, timeouts and
        connection errors.
    backoff (float): Seconds before the first retry; doubled after each.
    bytes_per_token (float): For the conservative token estimate.
    concurrency (int): Requests in flight at once.
    grammar (Optional[str]): The engine that constrains by grammar
        (``gbnf.ENGINES``), or None for unconstrained answers.
    """

    def __init__(self, base_url: str, settings: Optional[GenerationSettings] = None, *,
                 model_name: str = "default", api_key: Optional[str] = None,
                 max_context: int = 2048, timeout: float = 120.0, retries: int = 3,
                 backoff: float = 0.5, bytes_per_token: float = 3.0,
                 concurrency: int = 1, grammar: Optional[str] = None) -> None:
        check_engine(grammar)
        self.url = completions_url(base_url)
        self.grammar = grammar
        self.settings = settings if settings is not None else GenerationSettings()
        self.model_name = model_name
        self.api_key = api_key
        self._max_context = max_context
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.bytes_per_token = bytes_per_token
        self.concurrency = concurrency

    @property
    def max_context(self) -> int:
        """The served model's context length (as configured)."""
        return self._max_context

    def count_tokens(self, text: str) -> int:
        """A conservative (high) estimate of the tokens of ``text``.

        Example:
            >>> OpenAIGenerator("http://x").count_tokens("abcdef")
            2
        """
        return max(1, math.ceil(len(text.encode("utf-8")) / self.bytes_per_token))

    @property
    def accepts_constraints(self) -> bool:
        """Whether ``generate`` sends per-prompt grammars (``grammar`` is set)."""
        return self.grammar is not None

    def generate(self, prompts: Sequence[str],
                 constraints: Optional[Sequence[Optional[Constraint]]] = None) -> List[str]:
        """Complete prompts on the server; return the new text only, in input order.

        prompts (Sequence[str]): Prompt texts.
        constraints (Optional[Sequence[Optional[Constraint]]]): One per prompt,
            used when ``grammar`` is set (a prompt primed with an open list is
            sent without one).
        RETURNS (List[str]): One completion per prompt.
        RAISES: TypeError (E109) for a single string; ConnectionError (E163)
            when the server cannot be reached; RuntimeError (E164) for an
            error status, ValueError (E165) for an answer of the wrong shape.
        """
        if isinstance(prompts, (str, bytes)):
            raise TypeError(Errors.E109.format(type=type(prompts).__name__))
        prompts = list(prompts)
        grammars = self._grammars(prompts, constraints)
        size = self.settings.batch_size
        free = [i for i, grammar in enumerate(grammars) if grammar is None]
        requests = [(free[start:start + size], None) for start in range(0, len(free), size)]
        requests += [([i], grammar) for i, grammar in enumerate(grammars) if grammar is not None]
        requests.sort(key=lambda request: request[0][0])

        def send(request: Tuple[List[int], Optional[str]]) -> List[Tuple[str, Optional[str]]]:
            indexes, grammar = request
            return self._complete([prompts[i] for i in indexes], grammar)

        if self.concurrency > 1 and len(requests) > 1:
            with ThreadPoolExecutor(min(self.concurrency, len(requests))) as pool:
                answers = list(pool.map(send, requests))
        else:
            answers = [send(request) for request in requests]
        results = [""] * len(prompts)
        for (indexes, _), texts in zip(requests, answers):
            for i, (text, reason) in zip(indexes, texts):
                results[i] = self._finish(prompts[i], text, reason)
        return results

    def _grammars(self, prompts: List[str],
                  constraints: Optional[Sequence[Optional[Constraint]]]) -> List[Optional[str]]:
        if self.grammar is None or constraints is None:
            return [None] * len(prompts)
        if len(constraints) != len(prompts):
            raise ValueError(Errors.E162.format(n_constraints=len(constraints),
                                                n_prompts=len(prompts)))
        return [results_gbnf(c) if c is not None and not open_results_prefix(p) else None
                for p, c in zip(prompts, constraints)]

    def request_body(self, prompts: List[str], grammar: Optional[str] = None) -> Dict[str, Any]:
        """The JSON body of one completions request (with the grammar in the
        engine's field when ``grammar`` is given).

        Example:
            >>> body = OpenAIGenerator("http://x", grammar="vllm").request_body(["p"], 'root ::= "]"')
            >>> body["structured_outputs"], body["temperature"]
            ({'grammar': 'root ::= "]"'}, 0)
        """
        stop = list(DEFAULT_STOP_STRINGS)
        if self.settings.stop_at_list_end:
            stop.append(LIST_END_STOP)
        body: Dict[str, Any] = {"model": self.model_name, "prompt": prompts, "temperature": 0,
                                "max_tokens": self.settings.max_new_tokens, "stop": stop,
                                "n": 1}
        if grammar is not None and self.grammar is not None:
            body.update(request_fields(grammar, self.grammar))
        return body

    def _complete(self, prompts: List[str],
                  grammar: Optional[str] = None) -> List[Tuple[str, Optional[str]]]:
        answer = self._post(self.request_body(prompts, grammar))
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or len(choices) != len(prompts):
            raise ValueError(Errors.E165.format(url=self.url, n=len(prompts),
                                                answer=str(answer)[:200]))
        ordered: List[Tuple[str, Optional[str]]] = [("", None)] * len(prompts)
        for position, choice in enumerate(choices):
            index = choice.get("index", position) if isinstance(choice, dict) else None
            text = choice.get("text") if isinstance(choice, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(prompts) \
                    or not isinstance(text, str):
                raise ValueError(Errors.E165.format(url=self.url, n=len(prompts),
                                                    answer=str(choice)[:200]))
            ordered[index] = (text, _stop_reason(choice))
        return ordered

    def _finish(self, prompt: str, text: str, reason: Optional[str]) -> str:
        """Put back the ``]`` a list-end stop swallowed; cut after the list."""
        if not self.settings.stop_at_list_end:
            return text
        prefix = open_results_prefix(prompt)
        if reason in (None, LIST_END_STOP) and find_list_end(prefix + text) is None:
            closed = text + LIST_END_STOP
            if find_list_end(prefix + closed) is not None:
                text = closed
        return truncate_completion(text, prefix)[0]

    def _post(self, body: Dict[str, Any]) -> Any:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return _read_json(response.read(), self.url)
            except urllib.error.HTTPError as err:
                if err.code not in RETRY_STATUSES or last:
                    detail = err.read()[:300].decode("utf-8", "replace")
                    raise RuntimeError(Errors.E164.format(url=self.url, status=err.code,
                                                          detail=detail)) from err
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if last:
                    raise ConnectionError(Errors.E163.format(
                        url=self.url, tries=self.retries + 1, reason=err)) from err
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def __repr__(self) -> str:
        return f"OpenAIGenerator({self.url!r}, {self.settings!r})"


def _stop_reason(choice: Dict[str, Any]) -> Optional[str]:
    """Which stop string ended a choice, where the server says so (vLLM: stop_reason)."""
    if choice.get("finish_reason") not in (None, "stop"):
        return "length"
    reason = choice.get("stop_reason")
    return reason if isinstance(reason, str) else None


def _read_json(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(Errors.E165.format(url=url, n="?", answer=raw[:200])) from err
