"""The generator protocol, its settings and the "results list closed" scanner.

A generator turns KnowCoder prompts (plain text, without BOS) into completions
(only the new text). Decoding stops as soon as the ``results = [...]`` list that
the model writes is closed, which is what the reference implementation does. The
parser's own scanner (``answer.find_list_end``, the module that owns the answer
format) decides that on the decoded text, so stopping and parsing agree;
nothing is evaluated.

Example:
    >>> list_is_closed('results = [\\n\\tPerson("a ] b"),\\n]')
    True
"""
from dataclasses import dataclass
from typing import Any, List, Optional, Protocol, Sequence, Tuple, runtime_checkable

from ..errors import Errors
from ..answer import find_list_end

#: Stop strings of the reference inference code (the model starts a new docstring).
DEFAULT_STOP_STRINGS: Tuple[str, ...] = ('"""',)
DTYPES: Tuple[str, ...] = ("auto", "float32", "bfloat16", "float16")


@runtime_checkable
class Generator(Protocol):
    """What the knowcoder component needs from a text generation backend."""

    def generate(self, prompts: Sequence[str]) -> List[str]:
        """Complete each prompt; return only the new text, in input order.

        A backend that can decode under a schema grammar also takes
        ``constraints`` (one ``constrained.Constraint`` or None per prompt) and
        says so with a true ``accepts_constraints`` attribute; see
        ``generate_for_jobs``.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens of ``text`` as the model sees it (with special tokens)."""
        ...

    @property
    def max_context(self) -> int:
        """The model's context length in tokens."""
        ...


@dataclass
class GenerationSettings:
    """Settings of a generation backend.

    max_new_tokens (int): Most tokens generated per prompt (reference: 640).
    batch_size (int): Prompts decoded together. 32 by default: on 2 CPU cores the
        shipped default decodes 6.54 docs/s constrained at 32 against 4.91 at 8
        (200 sentences, 16 classes, bf16; benchmarks/README.md), where llama.cpp's
        server gives 5.69 on the same documents.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto" (CUDA when available).
    dtype (str): "auto" (float32 on CPU, bfloat16 on CUDA where supported, else
        float16), "float32", "bfloat16" or "float16".
    stop_at_list_end (bool): Stop a row as soon as its ``results = [...]`` list
        closes (or it starts a new triple-quoted string) and cut the completion
        there.
    prefix_cache (bool): Compute the KV cache of the prompt part shared by many
        prompts (system text, classes, instruction) once and reuse it. The
        outputs are the same as without it (lossless).
    prefix_cache_size (int): Most prefixes kept (each holds the keys and
        values of every layer for the prefix's tokens).
    constrained (bool): Decode with the schema grammar when the caller gives
        per-prompt constraints (see ``constrained.Constraint``): only candidate
        class names and roles, only mentions that occur in the text, and the
        output always parses. Switch off for the model's unconstrained output.
    stop_repeats (bool): Under constraints, close the list (without the item)
        when an item repeats a mention more often than the text has it, or a
        relation a second time: such items are dropped anyway, and a model that
        loops would otherwise decode until ``max_new_tokens``.
    close_penalty (Optional[float]): Under constraints, how much more likely (as
        a log-probability margin, in nats) ending the results list must be than
        going on with the best other valid token before the decoder ends it.
        0 is plain greedy decoding; larger values trade precision for recall
        with models that close their lists too early. None (default): the value
        a shipped model recommends (``models.recommended_setting``), else 0.

    Example:
        >>> GenerationSettings(max_new_tokens=64, batch_size=4).batch_size
        4
    """

    max_new_tokens: int = 640
    batch_size: int = 32
    device: str = "cpu"
    dtype: str = "auto"
    stop_at_list_end: bool = True
    prefix_cache: bool = True
    prefix_cache_size: int = 4
    constrained: bool = True
    stop_repeats: bool = True
    close_penalty: Optional[float] = None

    def __post_init__(self) -> None:
        _check_positive_int("max_new_tokens", self.max_new_tokens)
        _check_positive_int("batch_size", self.batch_size)
        if not isinstance(self.device, str) or not _is_device_name(self.device):
            raise ValueError(
                Errors.E104.format(
                    name="device",
                    expected="'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'",
                    value=self.device,
                )
            )
        if self.dtype not in DTYPES:
            raise ValueError(
                Errors.E104.format(
                    name="dtype", expected=f"one of {', '.join(DTYPES)}", value=self.dtype
                )
            )
        _check_positive_int("prefix_cache_size", self.prefix_cache_size)
        penalty = self.close_penalty
        if penalty is not None and (isinstance(penalty, bool)
                                    or not isinstance(penalty, (int, float))
                                    or not 0 <= penalty < float("inf")):
            raise ValueError(Errors.E104.format(
                name="close_penalty", expected="a finite number >= 0", value=penalty))
        for name in ("stop_at_list_end", "prefix_cache", "constrained", "stop_repeats"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(
                    Errors.E104.format(name=name, expected="true or false", value=value)
                )


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            Errors.E104.format(name=name, expected="an integer >= 1", value=value)
        )


def _is_device_name(device: str) -> bool:
    if device in ("cpu", "cuda", "mps", "auto"):
        return True
    kind, sep, index = device.partition(":")
    return kind == "cuda" and sep == ":" and index.isdigit()


def list_is_closed(text: str) -> bool:
    """Whether the ``results = [`` list in ``text`` has been closed.

    Brackets inside string literals (with backslash escapes) and comments do not
    count; the list must be closed at depth 0.

    text (str): Generated code, e.g. a completion or prompt tail plus completion.
    RETURNS (bool): True when a ``results = [`` assignment starts a line of
        ``text`` and its bracket is closed.

    Example:
        >>> list_is_closed('results = [Person("[")')
        False
        >>> list_is_closed('results = [Person("["), Person("b")]')
        True
    """
    return find_list_end(text) is not None


def truncate_completion(
    completion: str,
    prefix: str = "",
    stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
) -> Tuple[str, bool]:
    """Cut a completion right after its results list closes or before a stop string.

    completion (str): The generated text.
    prefix (str): The open list the prompt ended with (see open_results_prefix).
    stop_strings (Sequence[str]): Strings that end generation where they start.
    RETURNS (Tuple[str, bool]): The kept text and whether a stop point was found.

    Example:
        >>> truncate_completion('results = []\\nmore')
        ('results = []', True)
    """
    cut = None
    end = find_list_end(prefix + completion)
    if end is not None and end > len(prefix):
        cut = end - len(prefix)
    for stop in stop_strings:
        index = completion.find(stop)
        if index != -1 and (cut is None or index < cut):
            cut = index
    if cut is None:
        return completion, False
    return completion[:cut], True


def generate_for_jobs(generator: Generator, jobs: Sequence[Any]) -> List[str]:
    """Complete the prompts of extractor jobs, with their constraints if supported.

    A generator with a true ``accepts_constraints`` attribute gets one
    ``Constraint`` per job (task, candidate classes, argument classes, text);
    any other generator gets only the prompt strings.

    generator (Generator): The backend.
    jobs (Sequence[PromptJob]): The jobs (``extractor.PromptJob``).
    RETURNS (List[str]): One completion per job.

    Example:
        >>> generate_for_jobs(generator, extractor.jobs("ner", states))  # doctest: +SKIP
    """
    if not jobs:
        return []
    prompts = [job.prompt for job in jobs]
    if getattr(generator, "accepts_constraints", False):
        from .constrained import Constraint

        constraints = [Constraint.of(job) for job in jobs]
        return generator.generate(prompts, constraints=constraints)  # type: ignore[call-arg]
    return generator.generate(prompts)
