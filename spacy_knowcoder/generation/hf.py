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
import copy
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..errors import Errors, Warnings, warn
from .base import GenerationSettings, open_results_prefix, truncate_completion

#: A context length to assume when neither config nor tokenizer gives a sane one.
FALLBACK_CONTEXT = 2048
_SANE_CONTEXT_LIMIT = 10_000_000
_HUB_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class ModelSource(NamedTuple):
    """Where a model comes from.

    kind (str): "dir" (local HF directory), "gguf" (local .gguf file) or "hub".
    location (str): The directory, the .gguf file's directory, or the hub id.
    gguf_file (Optional[str]): The .gguf file name for kind "gguf".
    """

    kind: str
    location: str
    gguf_file: Optional[str] = None


def resolve_model_source(model: Union[str, Path]) -> ModelSource:
    """Decide whether ``model`` is a local directory, a .gguf file or a hub id.

    model (Union[str, Path]): Path or hub id.
    RETURNS (ModelSource): The resolved source.
    RAISES: FileNotFoundError (E100) for a missing local path, ValueError (E101)
        for a directory without config.json, ValueError (E102) for another file.

    Example:
        >>> resolve_model_source("golaxy/KnowCoder-7B-base").kind  # doctest: +SKIP
        'hub'
    """
    text = str(model)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            found = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
            raise ValueError(Errors.E101.format(path=text, found=found))
        return ModelSource("dir", str(path))
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ValueError(Errors.E102.format(path=text, suffix=path.suffix or "(none)"))
        return ModelSource("gguf", str(path.resolve().parent), path.name)
    if isinstance(model, Path) or _looks_like_local_path(text):
        raise FileNotFoundError(Errors.E100.format(path=text))
    return ModelSource("hub", text)


def _looks_like_local_path(text: str) -> bool:
    """A missing path that cannot be meant as a hub id (``org/name`` or ``name``)."""
    if not text or text.startswith((".", "/", "~")) or text.lower().endswith(".gguf"):
        return True
    if os.sep != "/" and os.sep in text:
        return True
    parts = text.split("/")
    if len(parts) > 2 or not all(_is_hub_name_part(part) for part in parts):
        return True
    # "models/smollm2-135m" is a valid hub id, but when "models/" exists here the
    # user almost certainly means a local directory that was not prepared yet.
    return len(parts) == 2 and Path(parts[0]).is_dir()


def _is_hub_name_part(part: str) -> bool:
    if not part or not set(part) <= _HUB_ID_CHARS:
        return False
    if part[0] in "-." or part[-1] in "-." or ".." in part or "--" in part:
        return False
    return True


def resolve_device(device: str) -> str:
    """Turn "auto" into "cuda" when available, else "cpu".

    device (str): A device name of GenerationSettings.
    RETURNS (str): A torch device name.

    Example:
        >>> resolve_device("cpu")  # doctest: +SKIP
        'cpu'
    """
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str) -> Any:
    """The torch dtype for a dtype setting on a device.

    dtype (str): "auto", "float32", "bfloat16" or "float16".
    device (str): A resolved torch device name.
    RETURNS (torch.dtype): float32 on CPU for "auto"; bfloat16 on CUDA where
        supported, else float16.

    Example:
        >>> resolve_dtype("auto", "cpu")  # doctest: +SKIP
        torch.float32
    """
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def load_model_and_tokenizer(
    model: Union[str, Path], device: str = "cpu", dtype: str = "auto"
) -> Tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a directory, hub id or .gguf file.

    A .gguf file is dequantized (``GgufConfig(dequantize=True)``), so the model
    can be saved and trained like any other.

    model (Union[str, Path]): The model source.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    dtype (str): "auto", "float32", "bfloat16" or "float16".
    RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): Model in eval
        mode on ``device``, and tokenizer.

    Example:
        >>> model, tokenizer = load_model_and_tokenizer("models/smollm2-135m")  # doctest: +SKIP
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(model)
    device = resolve_device(device)
    kwargs: dict = {"dtype": resolve_dtype(dtype, device)}
    if source.kind == "gguf":
        from transformers import GgufConfig

        kwargs["gguf_file"] = source.gguf_file
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    try:
        lm = AutoModelForCausalLM.from_pretrained(source.location, **kwargs)
        tok_kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
        tokenizer = AutoTokenizer.from_pretrained(source.location, **tok_kwargs)
    except OSError as err:
        raise OSError(Errors.E103.format(model=str(model), reason=err)) from err
    lm.to(device)
    lm.eval()
    return lm, tokenizer


@lru_cache(maxsize=1)
def _list_end_criteria_class() -> type:
    """Define the stopping criterion lazily, as transformers imports torch."""
    import torch
    from transformers import StoppingCriteria

    class ListEndCriteria(StoppingCriteria):
        """Per-row stop once the results list closes or a stop string appears.

        tokenizer: Used to decode each row's new tokens.
        prompt_length (int): Padded prompt length; new tokens start there.
        prefixes (List[str]): Per row, the open list the prompt ended with.
        """

        def __init__(self, tokenizer: Any, prompt_length: int, prefixes: List[str]):
            self.tokenizer = tokenizer
            self.prompt_length = prompt_length
            self.prefixes = prefixes
            self.done: Optional[torch.Tensor] = None

        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            if self.done is None:
                self.done = torch.zeros(input_ids.shape[0], dtype=torch.bool)
            rows = [i for i in range(input_ids.shape[0]) if not self.done[i]]
            if rows:
                new_ids = input_ids[rows, self.prompt_length:].tolist()
                texts = self.tokenizer.batch_decode(new_ids, skip_special_tokens=True)
                for row, text in zip(rows, texts):
                    self.done[row] = truncate_completion(text, self.prefixes[row])[1]
            return self.done.to(input_ids.device)

    return ListEndCriteria


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
        self._setup(lm, tokenizer, settings, str(model))

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

    def generate(self, prompts: Sequence[str]) -> List[str]:
        """Complete prompts greedily; return the new text only, in input order.

        Prompts are sorted by length so that each batch holds prompts of similar
        length (less padding), then the original order is restored. With
        ``stop_at_list_end`` each completion ends right after its closing ``]``.

        prompts (Sequence[str]): Prompt texts without BOS.
        RETURNS (List[str]): One completion per prompt.
        RAISES: TypeError (E109) for a single string, ValueError (E105) for a
            prompt that does not fit the context.

        Example:
            >>> gen.generate(['...sentence = "Obama spoke."\\nOutput:\\n'])  # doctest: +SKIP
            ['results = [\\n\\tPerson("Obama")\\n]']
        """
        if isinstance(prompts, (str, bytes)):
            raise TypeError(Errors.E109.format(type=type(prompts).__name__))
        prompts = list(prompts)
        encoded = [self.encode(prompt) for prompt in prompts]
        for ids in encoded:
            if len(ids) >= self.max_context:
                raise ValueError(
                    Errors.E105.format(n_tokens=len(ids), max_context=self.max_context)
                )
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        results: List[str] = [""] * len(prompts)
        size = self.settings.batch_size
        for start in range(0, len(order), size):
            batch = order[start:start + size]
            texts = self._generate_batch([encoded[i] for i in batch], [prompts[i] for i in batch])
            for index, text in zip(batch, texts):
                results[index] = text
        return results

    def _generate_batch(self, ids: List[List[int]], prompts: List[str]) -> List[str]:
        import torch
        from transformers import StoppingCriteriaList

        input_ids, attention_mask = self._pad_left(ids)
        prompt_length = input_ids.shape[1]
        stop = self.settings.stop_at_list_end
        prefixes = [open_results_prefix(p) if stop else "" for p in prompts]
        criteria = StoppingCriteriaList()
        if stop:
            criteria.append(_list_end_criteria_class()(self.tokenizer, prompt_length, prefixes))
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                generation_config=self._batch_config(prompt_length),
                stopping_criteria=criteria,
            )
        new_ids = output[:, prompt_length:].tolist()
        texts = self.tokenizer.batch_decode(new_ids, skip_special_tokens=True)
        if stop:
            texts = [truncate_completion(t, p)[0] for t, p in zip(texts, prefixes)]
        return texts

    def _batch_config(self, prompt_length: int) -> Any:
        config = copy.deepcopy(self.generation_config)
        config.max_new_tokens = self._new_token_budget(prompt_length)
        return config

    def _pad_left(self, ids: List[List[int]]) -> Tuple[Any, Any]:
        import torch

        width = max(len(row) for row in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        attention_mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, row in enumerate(ids):
            if row:
                input_ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
                attention_mask[i, width - len(row):] = 1
        return input_ids, attention_mask

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
