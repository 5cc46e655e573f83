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
    """The ids the tokenizer itself puts before a text, the EOS ids and a pad id.

    The leading ids are the ones ``tokenizer(text)`` adds, as inference encodes
    prompts (``HFGenerator.encode``): BOS for Llama-2 and Gemma, nothing for
    SmolLM2, whose ``bos_token`` (``<|im_start|>``) its tokenizer never adds.
    Training on a start token that inference never shows the model would teach
    it a context it does not get.
    """
    with_special = list(tokenizer("x", add_special_tokens=True)["input_ids"])
    plain = list(tokenizer("x", add_special_tokens=False)["input_ids"])
    starts = [i for i in range(len(with_special) - len(plain) + 1)
              if with_special[i:i + len(plain)] == plain]
    bos = with_special[:starts[0]] if starts else []
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



def load_pretraining_examples(settings: Any, section: str = "pretrain") -> Tuple[Any, List[Dict[str, Any]]]:
    """The model's tokenizer and the packed blocks of ``settings.data`` (``[pretrain]``).

    Example:
        >>> tokenizer, blocks = load_pretraining_examples(cfg.pretrain)  # doctest: +SKIP
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(settings.model)
    texts = read_pretraining(settings.data, section)
    return tokenizer, pack_pretraining(texts, tokenizer, settings.seq_length, settings.data, section)

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
    return _checked_sft(out, n_cut, len(records), seq_length, path, section)


def _checked_sft(out: List[Any], n_cut: int, total: int, seq_length: int,
                 path: Union[str, Path], section: str) -> List[Any]:
    """Warn W300 for cut examples; raise E307 when none is left."""
    if n_cut:
        warn(Warnings.W300.format(count=n_cut, total=total, path=path,
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


# -- shared class-definition prefixes ---------------------------------------
#
# Samples whose prompts share a schema prefix (the system text, the class
# definitions and the instruction: everything before the ``sentence = `` line,
# see spacy_knowcoder.generation.prefix_cache.split_prompt) train as one unit:
# the prefix runs once at batch size 1, its key/value cache is repeated for the
# unit's suffixes, and the suffixes (sentence, output frame, response) run as a
# batch on top of it. Loss and gradients equal those of the full sequences; the
# token ids equal the inference path's, which tokenizes prefix and suffix apart
# too (``HFGenerator.encode_split``).


class SharedExample(NamedTuple):
    """One SFT example as token ids: prefix (BOS included), suffix and its labels."""

    prefix: Tuple[int, ...]
    suffix: List[int]
    labels: List[int]

    @property
    def length(self) -> int:
        """Tokens of the full sequence (prefix + suffix)."""
        return len(self.prefix) + len(self.suffix)


def encode_sft_shared(records: Sequence[SFTRecord], tokenizer: Any, seq_length: int,
                      path: Union[str, Path] = "<records>", section: str = "sft") -> List[SharedExample]:
    """Tokenize each example as prefix ids and suffix ids, the way inference does.

    The labels are -100 on the suffix's prompt part and the response ids plus
    EOS after it. An example longer than ``seq_length`` loses the end of its
    response; one whose prompt alone does not fit is dropped. Both are counted
    in warning W300.

    RETURNS (List[SharedExample]): One entry per kept example.
    RAISES: ValueError (E307) when no example has a response token left.

    Example:
        >>> encode_sft_shared([SFTRecord('A\\nsentence = "x"\\nOutput:\\n', "results = []")], tok, 64)  # doctest: +SKIP
    """
    from spacy_knowcoder.generation.prefix_cache import split_prompt

    bos, eos, _ = special_ids(tokenizer)
    out: List[SharedExample] = []
    prefix_ids: Dict[str, Tuple[int, ...]] = {}
    n_cut = 0
    for record in records:
        prefix_text, suffix_text = split_prompt(record.prompt)
        if prefix_text not in prefix_ids:
            prefix_ids[prefix_text] = tuple(bos + _encode(tokenizer, prefix_text)) if prefix_text else tuple(bos)
        prefix = prefix_ids[prefix_text]
        prompt_part = _encode(tokenizer, suffix_text)
        response = _encode(tokenizer, record.response) + eos
        room = seq_length - len(prefix) - len(prompt_part)
        if room < len(response):
            n_cut += 1
            response = response[:max(room, 0)]
        if not response:
            continue
        out.append(SharedExample(prefix, prompt_part + response,
                                 [IGNORE_INDEX] * len(prompt_part) + response))
    return _checked_sft(out, n_cut, len(records), seq_length, path, section)


def shared_units(examples: Sequence[SharedExample], micro_batch_size: int, seed: int, epoch: int,
                 bucket_by_length: bool = True) -> List[List[int]]:
    """One epoch's micro batches (lists of example indices), in a shuffled order.

    Examples with the same prefix form units of up to ``micro_batch_size``
    suffixes that share one prefix pass; examples whose prefix no other example
    has are batched as plain sequences, bucketed by length, ``micro_batch_size
    // 2`` at a time (a full sequence holds about four suffixes' activations).
    Depends only on (examples, seed, epoch), so a resumed run sees the same
    batches.

    Example:
        >>> ex = [SharedExample((1, 2), [3], [3]), SharedExample((1, 2), [4], [4]), SharedExample((9,), [5], [5])]
        >>> sorted(sorted(u) for u in shared_units(ex, 4, seed=0, epoch=0))
        [[0, 1], [2]]
    """
    import random

    by_prefix: Dict[Tuple[int, ...], List[int]] = {}
    for i in batch_order(len(examples), seed, epoch):
        by_prefix.setdefault(examples[i].prefix, []).append(i)
    units: List[List[int]] = []
    alone: List[int] = []
    for members in by_prefix.values():
        if len(members) == 1:
            alone.extend(members)
            continue
        units.extend(members[i:i + micro_batch_size] for i in range(0, len(members), micro_batch_size))
    if alone:
        size = max(1, micro_batch_size // 2)
        lengths = [examples[i].length for i in alone]
        order = (bucketed_order(lengths, size, seed, epoch) if bucket_by_length
                 else list(range(len(alone))))
        units.extend([alone[j] for j in order[k:k + size]] for k in range(0, len(order), size))
    random.Random(f"shared-units:{seed}:{epoch}").shuffle(units)
    return units


def collate_shared(examples: Sequence[SharedExample], pad_id: int) -> Dict[str, Any]:
    """Tensors for one unit: ``prefix_ids`` (1, P) plus the padded suffixes, or,
    when the examples do not share one prefix, plain right-padded sequences.

    Example:
        >>> b = collate_shared([SharedExample((1, 2), [3, 4], [-100, 4]), SharedExample((1, 2), [5], [5])], 0)
        >>> b["prefix_ids"].tolist(), b["input_ids"].tolist(), b["attention_mask"].tolist()
        ([[1, 2]], [[3, 4], [5, 0]], [[1, 1], [1, 0]])
        >>> collate_shared([SharedExample((1,), [3], [3]), SharedExample((2,), [5, 6], [-100, 6])], 0)["input_ids"].tolist()
        [[1, 3, 0], [2, 5, 6]]
    """
    import torch

    shared = len({e.prefix for e in examples}) == 1 and len(examples) > 1
    rows = [(list(e.suffix), list(e.labels)) if shared else
            (list(e.prefix) + e.suffix, [IGNORE_INDEX] * len(e.prefix) + e.labels) for e in examples]
    width = max(len(ids) for ids, _ in rows)
    batch = {"input_ids": torch.tensor([ids + [pad_id] * (width - len(ids)) for ids, _ in rows]),
             "labels": torch.tensor([lab + [IGNORE_INDEX] * (width - len(lab)) for _, lab in rows]),
             "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])}
    if shared:
        batch["prefix_ids"] = torch.tensor([list(examples[0].prefix)])
    return batch


def shared_micro_batches(examples: Sequence[SharedExample], micro_batch_size: int, seed: int,
                         pad_id: int, start: int = 0, rank: int = 0, world: int = 1,
                         bucket_by_length: bool = True) -> Iterator[Dict[str, Any]]:
    """An endless stream of :func:`collate_shared` units for one data-parallel rank.

    start (int): How many units (of this rank) to skip, for resuming.
    rank, world (int): Ranks take disjoint units (unit ``k * world + rank``).
    """
    per_epoch = shared_units_per_epoch(examples, micro_batch_size, seed, world)
    index, cached = start, (-1, [])
    while True:
        epoch, pos = divmod(index, per_epoch)
        if cached[0] != epoch:
            cached = (epoch, shared_units(examples, micro_batch_size, seed, epoch, bucket_by_length))
        units = cached[1]
        unit = units[(pos * world + rank) % len(units)]
        yield collate_shared([examples[i] for i in unit], pad_id)
        index += 1


def shared_units_per_epoch(examples: Sequence[SharedExample], micro_batch_size: int, seed: int,
                           world: int = 1) -> int:
    """Units one rank draws per pass over the data (at least 1)."""
    return max(1, len(shared_units(examples, micro_batch_size, seed, 0, False)) // world)


def sample_tokens(batch: Dict[str, Any]) -> int:
    """Tokens of the full sequences in a unit, as if each had its own prefix pass.

    This is the unit of SFT tokens/s: the same count whether or not prefixes
    are shared, so rates compare across the two paths.
    """
    tokens = int(batch["attention_mask"].sum())
    if "prefix_ids" in batch:
        tokens += batch["prefix_ids"].shape[1] * batch["input_ids"].shape[0]
    return tokens
