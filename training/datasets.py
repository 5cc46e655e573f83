"""Tokenize the training JSONL files into fixed-length model inputs (DESIGN §3).

Pretraining rows ``{"text", "kind", "source"}`` become ``bos + text + eos`` and are
packed into blocks of ``seq_length`` tokens (documents are concatenated; the
last incomplete block is dropped unless it is the only one, then it is
padded with labels -100). SFT rows ``{"prompt", "response", ...}`` are
tokenized in two parts, ``bos + prompt`` and ``response + eos``, whose ids are
concatenated; the labels are -100 on the prompt and the padding, so the loss
is on the response and the end-of-sequence token only. The special tokens are
the tokenizer's own (``<s>``/``</s>`` for Llama-2, ``<|endoftext|>`` etc. for
SmolLM2); the text never contains them.

Example:
    >>> from transformers import AutoTokenizer  # doctest: +SKIP
    >>> tok = AutoTokenizer.from_pretrained("models/smollm2-135m")  # doctest: +SKIP
    >>> blocks = pack_pretraining(read_pretraining("pretrain.jsonl"), tok, 256)  # doctest: +SKIP
    >>> blocks[0]["input_ids"].shape  # doctest: +SKIP
    torch.Size([256])
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from spacy_knowcoder.errors import Errors, Warnings, warn

IGNORE_INDEX = -100
PRETRAIN_FIELDS = "'text' (string), optional 'kind' and 'source'"
SFT_FIELDS = "'prompt' and 'response' (strings), optional 'task' and 'dataset'"


class SFTRecord(NamedTuple):
    """One instruction example: the prompt (SYSTEM + query) and the response."""

    prompt: str
    response: str


def iter_jsonl(path: Union[str, Path], what: str, section: str, fields: str) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-empty line of a JSONL file.

    path (Union[str, Path]): The file.
    what (str): What the file holds, for messages ("pretraining data").
    section (str): The config section that names the file.
    fields (str): The expected fields, for messages.
    RAISES: FileNotFoundError (E305) for a missing file; ValueError (E306) naming
        the file and line for invalid JSON, a non-object or bad UTF-8.

    Example:
        >>> list(iter_jsonl("missing.jsonl", "data", "sft", "x"))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        FileNotFoundError: (spacy-knowcoder) [E305] The data file 'missing.jsonl' does not exist...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(Errors.E305.format(what=what, path=path, section=section))
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as err:
                raise ValueError(Errors.E306.format(path=path, line=number, fields=fields,
                                                    reason=f"not UTF-8 ({err.reason})")) from None
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(Errors.E306.format(path=path, line=number, fields=fields,
                                                    reason=f"invalid JSON ({err.msg} at column {err.colno})")) from None
            if not isinstance(obj, dict):
                raise ValueError(Errors.E306.format(path=path, line=number, fields=fields,
                                                    reason=f"a JSON {type(obj).__name__}, not an object"))
            yield number, obj


def _string_field(obj: Dict[str, Any], key: str, path: Path, number: int, fields: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        found = "missing" if key not in obj else f"a {type(value).__name__}"
        raise ValueError(Errors.E306.format(path=path, line=number, fields=fields,
                                            reason=f"field '{key}' is {found}, expected a string"))
    return value


def read_pretraining(path: Union[str, Path], section: str = "pretrain") -> List[str]:
    """The ``text`` of every pretraining row, checked (see :func:`iter_jsonl`)."""
    path = Path(path)
    return [_string_field(obj, "text", path, n, PRETRAIN_FIELDS)
            for n, obj in iter_jsonl(path, "pretraining data", section, PRETRAIN_FIELDS)]


def read_sft(path: Union[str, Path], section: str = "sft") -> List[SFTRecord]:
    """The prompt/response pairs of an SFT file, checked (see :func:`iter_jsonl`)."""
    path = Path(path)
    return [SFTRecord(_string_field(obj, "prompt", path, n, SFT_FIELDS),
                      _string_field(obj, "response", path, n, SFT_FIELDS))
            for n, obj in iter_jsonl(path, "SFT data", section, SFT_FIELDS)]


def special_ids(tokenizer: Any) -> Tuple[List[int], List[int], int]:
    """The tokenizer's BOS ids (empty when it has none), EOS ids and a pad id."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    eos_id = tokenizer.eos_token_id
    if eos_id is None:
        raise ValueError(Errors.E313.format(path=getattr(tokenizer, "name_or_path", "?"), section="pretrain",
                                            reason="its tokenizer has no EOS token"))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    return bos, [eos_id], pad


def _encode(tokenizer: Any, text: str) -> List[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def pack_pretraining(texts: Sequence[str], tokenizer: Any, seq_length: int,
                     path: Union[str, Path] = "<texts>", section: str = "pretrain") -> List[Dict[str, Any]]:
    """Concatenate ``bos + text + eos`` for all texts and cut into blocks.

    RETURNS (List[Dict[str, torch.Tensor]]): input_ids and labels per block
        (labels equal input_ids except -100 on padding).
    RAISES: ValueError (E307) when nothing is left.
    """
    import torch

    bos, eos, pad = special_ids(tokenizer)
    stream: List[int] = []
    for text in texts:
        if text.strip():
            stream.extend(bos + _encode(tokenizer, text) + eos)
    if not stream:
        raise ValueError(Errors.E307.format(what="pretraining data", path=path, section=section,
                                            reason="every text is empty"))
    n_full = len(stream) // seq_length
    blocks = [stream[i * seq_length:(i + 1) * seq_length] for i in range(n_full)]
    out = [{"input_ids": torch.tensor(b), "labels": torch.tensor(b)} for b in blocks]
    if not out:
        rest = stream + [pad] * (seq_length - len(stream))
        labels = stream + [IGNORE_INDEX] * (seq_length - len(stream))
        out = [{"input_ids": torch.tensor(rest), "labels": torch.tensor(labels)}]
    return out


def encode_sft(records: Sequence[SFTRecord], tokenizer: Any, seq_length: int,
               path: Union[str, Path] = "<records>", section: str = "sft") -> List[Dict[str, Any]]:
    """Tokenize prompt and response separately; mask the prompt; pad to seq_length.

    An example longer than ``seq_length`` keeps its whole prompt when possible
    and loses the end of the response (counted in warning W300); one whose
    prompt alone does not fit is cut from the left of the prompt, keeping the
    sentence and output marker that precede the response.

    RETURNS (List[Dict[str, torch.Tensor]]): input_ids, labels, attention_mask.
    RAISES: ValueError (E307) when no example has a response token left.

    Example:
        >>> encode_sft([SFTRecord("Q\\nOutput:\\n", "results = []")], tok, 64)  # doctest: +SKIP
    """
    import torch

    bos, eos, pad = special_ids(tokenizer)
    out, n_cut = [], 0
    for record in records:
        prompt = bos + _encode(tokenizer, record.prompt)
        response = _encode(tokenizer, record.response) + eos
        if len(prompt) + len(response) > seq_length:
            n_cut += 1
            keep_prompt = min(len(prompt), max(seq_length // 2, seq_length - len(response)))
            prompt = prompt[len(prompt) - keep_prompt:]
            response = response[: seq_length - len(prompt)]
        if not response:
            continue
        ids = prompt + response
        n_pad = seq_length - len(ids)
        labels = [IGNORE_INDEX] * len(prompt) + response + [IGNORE_INDEX] * n_pad
        out.append({"input_ids": torch.tensor(ids + [pad] * n_pad),
                    "labels": torch.tensor(labels),
                    "attention_mask": torch.tensor([1] * len(ids) + [0] * n_pad)})
    if n_cut:
        warn(Warnings.W300.format(count=n_cut, total=len(records), path=path,
                                  seq_length=seq_length, section=section))
    if not out:
        raise ValueError(Errors.E307.format(what="SFT data", path=path, section=section,
                                            reason="no example has a response"))
    return out


def count_label_tokens(example: Dict[str, Any]) -> int:
    """Tokens that carry loss in one example."""
    return int((example["labels"] != IGNORE_INDEX).sum())


def batch_order(n_examples: int, seed: int, epoch: int) -> List[int]:
    """A deterministic shuffle of the example indices for one epoch.

    The order depends only on (seed, epoch), so a resumed run sees exactly
    the batches the interrupted run would have seen.

    Example:
        >>> batch_order(5, seed=0, epoch=0) == batch_order(5, seed=0, epoch=0)
        True
        >>> sorted(batch_order(5, seed=0, epoch=1))
        [0, 1, 2, 3, 4]
    """
    import random

    order = list(range(n_examples))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def bucketed_order(lengths: Sequence[int], micro_batch_size: int, seed: int, epoch: int,
                   window: int = 16) -> List[int]:
    """An epoch's example order in which each micro batch holds similar lengths.

    The shuffled order of :func:`batch_order` is cut into windows of ``window``
    micro batches; each window is sorted by length and cut into micro batches,
    and the micro batches are shuffled again, so batches stay random across the
    epoch while padding (and attention over it) mostly disappears. Depends only
    on (lengths, seed, epoch): a resumed run sees the same batches.

    Example:
        >>> order = bucketed_order([1, 9, 2, 8, 3, 7, 4, 6], 2, seed=0, epoch=0, window=4)
        >>> sorted(order) == list(range(8))
        True
        >>> lengths = [1, 9, 2, 8, 3, 7, 4, 6]
        >>> [abs(lengths[a] - lengths[b]) <= 2 for a, b in zip(order[::2], order[1::2])]
        [True, True, True, True]
    """
    import random

    order = batch_order(len(lengths), seed, epoch)
    size = micro_batch_size * window
    batches: List[List[int]] = []
    for begin in range(0, len(order), size):
        chunk = sorted(order[begin:begin + size], key=lambda i: lengths[i])
        batches.extend(chunk[i:i + micro_batch_size] for i in range(0, len(chunk), micro_batch_size))
    random.Random(f"buckets:{seed}:{epoch}").shuffle(batches)
    return [i for batch in batches for i in batch]


def example_length(example: Dict[str, Any]) -> int:
    """Tokens of an example without its padding."""
    mask = example.get("attention_mask")
    return int(mask.sum()) if mask is not None else int(example["input_ids"].numel())


def micro_batches(examples: Sequence[Dict[str, Any]], micro_batch_size: int, seed: int,
                  start: int = 0, rank: int = 0, world: int = 1,
                  bucket_by_length: bool = False) -> Iterator[Dict[str, Any]]:
    """An endless stream of stacked micro batches for one data-parallel rank.

    start (int): How many micro batches (of this rank) to skip, for resuming.
    rank, world (int): The data-parallel rank and size; ranks take disjoint rows.
    bucket_by_length (bool): Group similar lengths (:func:`bucketed_order`).

    Example:
        >>> import torch
        >>> ex = [{"input_ids": torch.tensor([i]), "labels": torch.tensor([i])} for i in range(4)]
        >>> first_epoch = [b["input_ids"].flatten().tolist() for _, b in zip(range(2), micro_batches(ex, 2, seed=0))]
        >>> sorted(first_epoch[0] + first_epoch[1])
        [0, 1, 2, 3]
    """
    import torch

    per_epoch = max(1, len(examples) // (micro_batch_size * world))
    lengths = [example_length(e) for e in examples] if bucket_by_length else []
    index, epoch_order = start, (-1, [])
    while True:
        epoch, pos = divmod(index, per_epoch)
        if epoch_order[0] != epoch:
            order = (bucketed_order(lengths, micro_batch_size * world, seed, epoch) if bucket_by_length
                     else batch_order(len(examples), seed, epoch))
            epoch_order = (epoch, order)
        order = epoch_order[1]
        begin = (pos * world + rank) * micro_batch_size
        rows = [order[(begin + j) % len(order)] for j in range(micro_batch_size)]
        yield {key: torch.stack([examples[r][key] for r in rows]) for key in examples[0]}
        index += 1


def micro_batches_per_epoch(n_examples: int, micro_batch_size: int, world: int = 1) -> int:
    """Micro batches one rank draws per pass over the data (at least 1)."""
    return max(1, n_examples // (micro_batch_size * world))


def total_tokens(batch: Dict[str, Any], pad_mask_key: Optional[str] = "attention_mask") -> int:
    """Non-padding tokens of a batch (for tokens per second)."""
    if pad_mask_key and pad_mask_key in batch:
        return int(batch[pad_mask_key].sum())
    return int((batch["labels"] != IGNORE_INDEX).sum()) if "labels" in batch else batch["input_ids"].numel()
