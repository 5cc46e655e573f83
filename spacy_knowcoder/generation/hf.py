"""Transformers backend: batched greedy decoding that stops when the list closes.

``model`` may be a local Hugging Face directory (config.json + safetensors), a
hub id such as ``golaxy/KnowCoder-7B-base`` (needs network) or a ``.gguf`` file
(dequantized on load). torch and transformers are imported lazily, so importing
this module is cheap.

Example:
    >>> gen = HFGenerator("models/smollm2-135m", GenerationSettings(max_new_tokens=64))  # doctest: +SKIP
    >>> gen.generate(['...\\nOutput:\\n'])  # doctest: +SKIP
    ['results = [\\n\\tPerson("Barack Obama")\\n]']
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import Errors, Warnings, warn
from ..answer import open_results_prefix
from .base import GenerationSettings
from .constrained import Constraint, ResultsGrammar, TokenChooser
from .continuations import ContinuationScorer, continuation_ids
from .decoding import GreedyDecoder, Row
from .prefix_cache import PrefixCache, split_prompt
from .sources import load_local_model, resolve_model_source
from .token_bytes import vocabulary_bytes

#: A context length to assume when neither config nor tokenizer gives a sane one.
FALLBACK_CONTEXT = 2048
_SANE_CONTEXT_LIMIT = 10_000_000


def load_model_and_tokenizer(
    model: Union[str, Path], device: str = "cpu", dtype: str = "auto"
) -> Tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a directory, hub id, .gguf file or
    shipped model's name.

    A shipped model is its prepared base with its adapter merged in
    (``shipped.load_shipped``); anything else loads with
    ``sources.load_local_model`` (a .gguf file is dequantized).

    model (Union[str, Path]): The model source.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16" (see ``load_local_model``).
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): Model in eval
        mode on ``device``, and tokenizer.

    Example:
        >>> model, tokenizer = load_model_and_tokenizer("models/smollm2-135m")  # doctest: +SKIP
    """
    source = resolve_model_source(model)
    if source.kind == "shipped":
        from .shipped import load_shipped

        return load_shipped(source.location, device, dtype)
    return load_local_model(model, device, dtype)


class HFGenerator:
    """Greedy, batched KnowCoder completion with a transformers causal LM.

    model (Union[str, Path]): Local HF directory, hub id or .gguf file.
    settings (Optional[GenerationSettings]): Decoding settings; defaults if None.

    Example:
        >>> gen = HFGenerator("models/smollm2-135m", GenerationSettings(batch_size=4))  # doctest: +SKIP
        >>> completions = gen.generate(prompts)  # doctest: +SKIP
    """

    def __init__(
        self, model: Union[str, Path], settings: Optional[GenerationSettings] = None
    ) -> None:
        settings = settings if settings is not None else GenerationSettings()
        lm, tokenizer = load_model_and_tokenizer(model, settings.device, settings.dtype)
        self._setup(lm, tokenizer, with_recommended(settings, model), str(model))

    @classmethod
    def from_pretrained(
        cls, model: Union[str, Path], **settings: Any
    ) -> "HFGenerator":
        """Load a generator, with settings given as keyword arguments.

        model (Union[str, Path]): Local HF directory, hub id or .gguf file.
        **settings: Fields of GenerationSettings.
        RETURNS (HFGenerator): The generator.

        Example:
            >>> gen = HFGenerator.from_pretrained("models/smollm2-135m", batch_size=4)  # doctest: +SKIP
        """
        return cls(model, GenerationSettings(**settings))

    @classmethod
    def from_objects(
        cls, model: Any, tokenizer: Any, settings: Optional[GenerationSettings] = None
    ) -> "HFGenerator":
        """Wrap a model and tokenizer that are already loaded (e.g. during training).

        model (PreTrainedModel): A causal LM; it is used as is (device and dtype).
        tokenizer (PreTrainedTokenizerBase): Its tokenizer (padding side is set
            to left).
        settings (Optional[GenerationSettings]): Decoding settings.
        RETURNS (HFGenerator): The generator.

        Example:
            >>> gen = HFGenerator.from_objects(model, tokenizer)  # doctest: +SKIP
        """
        self = cls.__new__(cls)
        settings = settings if settings is not None else GenerationSettings()
        self._setup(model, tokenizer, settings, getattr(model, "name_or_path", "model"))
        return self

    def _setup(self, model: Any, tokenizer: Any, settings: GenerationSettings, name: str) -> None:
        from transformers import GenerationConfig

        self.name = name
        self.model = model
        contiguous_head_input(model)
        self.tokenizer = tokenizer
        self.settings = settings
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        # A fresh config, so sampling defaults of the checkpoint do not leak in.
        self.generation_config = GenerationConfig(
            do_sample=False,
            num_beams=1,
            max_new_tokens=settings.max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            bos_token_id=tokenizer.bos_token_id,
        )
        self.decoder = GreedyDecoder(model, tokenizer, settings.stop_at_list_end,
                                     stop_repeats=settings.stop_repeats,
                                     close_penalty=settings.close_penalty or 0.0)
        self.continuation_scorer = ContinuationScorer(model, self.decoder.cache_keyword,
                                                      self.decoder.pad_id)
        self.prefix_cache = PrefixCache(settings.prefix_cache_size)

    @property
    def accepts_constraints(self) -> bool:
        """Whether ``generate`` uses per-prompt constraints (``settings.constrained``)."""
        return self.settings.constrained

    @property
    def max_context(self) -> int:
        """The model's context length in tokens (config.max_position_embeddings)."""
        value = getattr(self.model.config, "max_position_embeddings", None)
        if isinstance(value, int) and value > 0:
            return value
        value = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(value, int) and 0 < value < _SANE_CONTEXT_LIMIT:
            return value
        return FALLBACK_CONTEXT

    @property
    def device(self) -> Any:
        """The torch device of the model."""
        return self.model.device

    def encode(self, text: str) -> List[int]:
        """Token ids of a prompt, with the tokenizer's own special tokens (BOS).

        text (str): Plain prompt text, without BOS.
        RETURNS (List[int]): The token ids.

        Example:
            >>> gen.encode("Hello world")  # doctest: +SKIP
            [19556, 905]
        """
        ids = list(self.tokenizer(text, add_special_tokens=True)["input_ids"])
        if not ids:  # an empty prompt for a tokenizer that adds no BOS
            start = self.tokenizer.bos_token_id
            ids = [start if start is not None else self.tokenizer.eos_token_id]
        return ids

    def count_tokens(self, text: str) -> int:
        """Number of tokens of a text as a prompt (special tokens included).

        text (str): The text.
        RETURNS (int): The token count.

        Example:
            >>> gen.count_tokens("Hello world")  # doctest: +SKIP
            2
        """
        return len(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def generate(self, prompts: Sequence[str],
                 constraints: Optional[Sequence[Optional[Constraint]]] = None) -> List[str]:
        """Complete prompts greedily; return the new text only, in input order.

        Each prompt is tokenized as prefix + suffix (see ``prefix_cache``). With
        ``prefix_cache`` the prefix's KV cache is computed once and reused for
        every prompt and batch that shares it. Prompts are grouped by prefix and
        sorted by length, decoded ``batch_size`` at a time; a row leaves its
        batch as soon as its list closes. With ``stop_at_list_end`` each
        completion ends right after its closing ``]``.

        prompts (Sequence[str]): Prompt texts without BOS.
        constraints (Optional[Sequence[Optional[Constraint]]]): One per prompt;
            used when ``settings.constrained`` is on (None: free decoding).
        RETURNS (List[str]): One completion per prompt.
        RAISES: TypeError (E109) for a single string, ValueError (E105) for a
            prompt that does not fit the context, ValueError (E162) for a
            constraint list of the wrong length.

        Example:
            >>> gen.generate(['...sentence = "Obama spoke."\\nOutput:\\n'])  # doctest: +SKIP
            ['results = [\\n\\tPerson("Obama")\\n]']
        """
        if isinstance(prompts, (str, bytes)):
            raise TypeError(Errors.E109.format(type=type(prompts).__name__))
        prompts = list(prompts)
        if constraints is not None and len(constraints) != len(prompts):
            raise ValueError(Errors.E162.format(n_constraints=len(constraints),
                                                n_prompts=len(prompts)))
        rows, prefixes = self._rows(prompts, constraints)
        groups: Dict[Tuple[int, ...], List[Row]] = {}
        for row, prefix in zip(rows, prefixes):
            groups.setdefault(prefix, []).append(row)
        for prefix, group in groups.items():
            group.sort(key=lambda row: -len(row.suffix))
            size = self.settings.batch_size
            for start in range(0, len(group), size):
                batch = group[start:start + size]
                past = self.prefix_cache.get_or_compute(
                    prefix, lambda: self.decoder.prefill(prefix)) if prefix else None
                self.decoder.run(batch, past, len(prefix))
        cut_off = sum(row.cut_off for row in rows)
        if cut_off:
            warn(Warnings.W160.format(n=cut_off, max_new_tokens=self.settings.max_new_tokens))
        return [row.text for row in rows]

    def score_continuations(self, prompt: str, continuations: Sequence[str]) -> List[float]:
        """log p(continuation | prompt) for each continuation (teacher forcing).

        The prompt is split and tokenized as for ``generate``, so its schema
        prefix comes from the same prefix cache; the continuations are scored
        together on top of the prompt (``continuations.ContinuationScorer``).

        prompt (str): Prompt text without BOS (e.g. ending in ``results = [\\n``).
        continuations (Sequence[str]): Texts that could follow it.
        RETURNS (List[float]): Natural-log probabilities, in input order.
        RAISES: ValueError (E105) when prompt plus continuation exceed the context.

        Example:
            >>> gen.score_continuations(prompt, ['\\tPerson("Ann")', '\\tCity("Ann")'])  # doctest: +SKIP
            [-2.1, -7.4]
        """
        return self.score_continuations_many([(prompt, continuations)])[0]

    def score_continuations_many(self, requests: Sequence[Tuple[str, Sequence[str]]]
                                 ) -> List[List[float]]:
        """``score_continuations`` for many prompts, packed into few forward passes.

        Prompts that share a schema prefix (every document of a batch, for one
        task) are scored together on that prefix's cache: one pass covers the
        suffixes and continuations of several documents.

        requests (Sequence[Tuple[str, Sequence[str]]]): (prompt, continuations) pairs.
        RETURNS (List[List[float]]): Per request, the continuations' log-probabilities.
        RAISES: ValueError (E105) when a prompt plus a continuation exceed the context.

        Example:
            >>> gen.score_continuations_many([(p1, ['\\tCity("Rome")']), (p2, ['\\tPerson("Ann")'])])  # doctest: +SKIP
            [[-1.2], [-0.8]]
        """
        groups: Dict[Tuple[int, ...], List[Tuple[int, List[int], List[List[int]]]]] = {}
        for index, (prompt, continuations) in enumerate(requests):
            if not continuations:
                continue
            suffix_text = split_prompt(prompt)[1]
            prefix, suffix = self.encode_split(prompt)
            context_ids = self.tokenizer(suffix_text, add_special_tokens=False)["input_ids"]
            rows = [continuation_ids(self.tokenizer, suffix_text, text, context_ids)
                    for text in continuations]
            n_tokens = len(prefix) + len(suffix) + max(len(row) for row in rows)
            if n_tokens >= self.max_context:
                raise ValueError(Errors.E105.format(n_tokens=n_tokens,
                                                    max_context=self.max_context))
            if not prefix or not self.settings.prefix_cache:
                prefix, suffix = [], prefix + suffix
            groups.setdefault(tuple(prefix), []).append((index, suffix, rows))
        scores: List[List[float]] = [[] for _ in requests]
        for prefix_key, members in groups.items():
            past = (self.prefix_cache.get_or_compute(
                prefix_key, lambda: self.decoder.prefill(list(prefix_key)))
                if prefix_key else None)
            found = self.continuation_scorer.score_many(
                past, len(prefix_key), [(suffix, rows) for _, suffix, rows in members])
            for (index, _, _), row_scores in zip(members, found):
                scores[index] = row_scores
        return scores

    def encode_split(self, prompt: str) -> Tuple[List[int], List[int]]:
        """Token ids of a prompt as (prefix ids, suffix ids); see ``split_prompt``.

        The ids are the same whether or not the prefix cache is used.

        prompt (str): Prompt text without BOS.
        RETURNS (Tuple[List[int], List[int]]): Prefix ids (with BOS, may be
            empty when the prompt has no ``sentence = `` line) and suffix ids.

        Example:
            >>> prefix, suffix = gen.encode_split(prompt)  # doctest: +SKIP
        """
        prefix, suffix = split_prompt(prompt)
        if not prefix:
            return [], self.encode(prompt)
        prefix_ids = self.encode(prefix)
        suffix_ids = list(self.tokenizer(suffix, add_special_tokens=False)["input_ids"])
        return prefix_ids, suffix_ids

    def _rows(self, prompts: List[str], constraints: Optional[Sequence[Optional[Constraint]]]
              ) -> Tuple[List[Row], List[Tuple[int, ...]]]:
        rows: List[Row] = []
        prefixes: List[Tuple[int, ...]] = []
        use_cache = self.settings.prefix_cache
        constrained = self.settings.constrained and constraints is not None
        for i, prompt in enumerate(prompts):
            prefix, suffix = self.encode_split(prompt)
            n_tokens = len(prefix) + len(suffix)
            if n_tokens >= self.max_context:
                raise ValueError(
                    Errors.E105.format(n_tokens=n_tokens, max_context=self.max_context))
            open_prefix = open_results_prefix(prompt) if self.settings.stop_at_list_end else ""
            constraint = constraints[i] if constrained and constraints is not None else None
            grammar = ResultsGrammar(constraint) if constraint is not None else None
            if grammar is not None:
                open_prefix = open_results_prefix(prompt)
                self._ensure_chooser()
            if not use_cache:
                prefix, suffix = [], prefix + suffix
            rows.append(Row(i, suffix, self._new_token_budget(n_tokens), open_prefix, grammar))
            prefixes.append(tuple(prefix))
        return rows, prefixes

    def _ensure_chooser(self) -> None:
        if self.decoder.chooser is None:
            self.decoder.chooser = TokenChooser(vocabulary_bytes(self.tokenizer))

    def _new_token_budget(self, prompt_length: int) -> int:
        wanted = self.settings.max_new_tokens
        room = self.max_context - prompt_length
        if room < wanted:
            warn(
                Warnings.W100.format(
                    n_prompt=prompt_length, n_new=room, max_new_tokens=wanted,
                    max_context=self.max_context,
                )
            )
            return room
        return wanted

    def __repr__(self) -> str:
        return f"HFGenerator({self.name!r}, {self.settings!r})"


def with_recommended(settings: GenerationSettings, model: Any) -> GenerationSettings:
    """``settings`` with each setting left unset (None) taken from what the model
    recommends (a shipped model's metadata), else its plain default.

    Example:
        >>> with_recommended(GenerationSettings(), "models/smollm2-135m").close_penalty
        0.0
    """
    from dataclasses import replace

    from ..models import recommended_setting

    if settings.close_penalty is not None:
        return settings
    return replace(settings, close_penalty=float(
        recommended_setting(str(model), "close_penalty", 0.0)))


def contiguous_head_input(model: Any) -> None:
    """Make the model's output head read a contiguous copy of its input.

    Decoding keeps only the last position of each row (``logits_to_keep=1``): a
    strided view of the hidden states whenever a row feeds several tokens at once
    (its prompt suffix, text the grammar forces). torch's CPU linear takes a slow
    path for such a view in bfloat16: 7,261 against 28 ms for Gemma 3's
    262k-token head on 8 rows, 421 against 6.5 ms for SmolLM2's
    (``benchmarks/strided_head.py``, 2 cores, AVX512-BF16). Copying the rows x hidden slice first costs
    microseconds; a contiguous input (training, scoring) is passed on as it is.
    Registering twice does nothing.

    model (PreTrainedModel): A causal LM.

    Example:
        >>> contiguous_head_input(model)  # doctest: +SKIP
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None or getattr(head, "_knowcoder_contiguous_input", False):
        return
    head.register_forward_pre_hook(_contiguous_first_argument)
    head._knowcoder_contiguous_input = True


def _contiguous_first_argument(module: Any, args: Tuple[Any, ...]) -> Optional[Tuple[Any, ...]]:
    if args and hasattr(args[0], "is_contiguous") and not args[0].is_contiguous():
        return (args[0].contiguous(),) + tuple(args[1:])
    return None

