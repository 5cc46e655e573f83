"""Batched greedy decoding with a shared-prefix KV cache, per-row stops and grammars.

``GreedyDecoder.run`` decodes one batch of rows that share a prefix (possibly
empty). Its layout per row is::

    [shared prefix (cached once)] [pads] [suffix] [new tokens ...]

The prefix's key/value cache is computed at batch size 1 and repeated for the
rows; suffixes of different lengths are left-padded *after* the prefix, the
pads are masked out in ``attention_mask`` and every row gets its own
``position_ids``, so each row sees exactly ``prefix + suffix``. Each step feeds
a block of new tokens per row (usually one; several when a grammar forces
text), again left-padded and masked. A row that is finished (its list closed,
EOS, or its token budget spent) leaves the batch: its cache rows are dropped,
so no more work is done for it.

Without a prefix (``past=None``) the same loop runs on the whole prompts, which
is how "no cache" is measured: the same token ids, the same code.

Example:
    >>> decoder = GreedyDecoder(model, tokenizer)  # doctest: +SKIP
    >>> rows = [Row(0, suffix=[1, 2, 3], budget=16)]  # doctest: +SKIP
    >>> decoder.run(rows, past=None)  # doctest: +SKIP
"""
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

from ..answer import EMPTY_RESULTS  # what a row that ran out before any item returns
from .base import truncate_completion
from .constrained import CLOSE_ITEMS, ResultsGrammar, TokenChooser, top_ids
from .continuations import fork_cache

#: Bytes one of which a token that ends the list must hold: an item's ``)``, or
#: the ``\n`` / ``]`` of the closing.
_ENDS = b")]\n"


@dataclass
class Row:
    """One prompt being decoded.

    index (int): Its position in the caller's prompt list.
    suffix (List[int]): Token ids fed after the shared prefix (all ids without one).
    budget (int): Most new tokens.
    open_prefix (str): The open ``results = [`` tail of a primed prompt ("" if none).
    grammar (Optional[ResultsGrammar]): Constrained decoding when set.
    """

    index: int
    suffix: List[int]
    budget: int
    open_prefix: str = ""
    grammar: Optional[ResultsGrammar] = None
    state: Any = None
    new_ids: List[int] = field(default_factory=list)
    out: bytearray = field(default_factory=bytearray)
    boundary: Optional[Tuple[int, bytes]] = None
    pending: List[int] = field(default_factory=list)
    done: bool = False
    cut_off: bool = False
    stopped_repeat: bool = False
    penalized_at: Optional[int] = None
    text: str = ""


class GreedyDecoder:
    """Greedy decoding of rows with a transformers causal LM.

    model (PreTrainedModel): The causal LM (eval mode).
    tokenizer (PreTrainedTokenizerBase): Its tokenizer.
    stop_at_list_end (bool): End a row when its results list closes.
    chooser (Optional[TokenChooser]): Picks grammar-valid tokens for constrained rows.
    stop_repeats (bool): Close a constrained row's list, without its last item,
        when that item repeats a mention more often than the text has it
        (``ResultsGrammar.repeats_beyond_text``): the loop a small model falls
        into, which would run to the token budget and be dropped by alignment.
    close_penalty (float): Constrained rows only: the log-probability margin by
        which ending the list at an item boundary must beat the best way to go
        on (``close_penalty`` below). 0 is plain greedy decoding.
    """

    def __init__(self, model: Any, tokenizer: Any, stop_at_list_end: bool = True,
                 chooser: Optional[TokenChooser] = None, stop_repeats: bool = True,
                 close_penalty: float = 0.0) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.stop_at_list_end = stop_at_list_end
        self.stop_repeats = stop_repeats
        self.close_penalty = close_penalty
        #: Totals over every run: new tokens decoded, constrained rows closed
        #: early because an item repeated beyond the text (``stop_repeats``), and
        #: list ends the close penalty turned into one more item.
        self.stats = {"new_tokens": 0, "repeat_stops": 0, "close_overrides": 0}
        self.chooser = chooser
        self.eos_ids = _eos_ids(model, tokenizer)
        self.cache_keyword = cache_keyword(model)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    # -- prefix --------------------------------------------------------------

    def prefill(self, prefix: Sequence[int]) -> Any:
        """The KV cache of a prefix, at batch size 1.

        prefix (Sequence[int]): Token ids (with BOS if the model uses one).
        RETURNS (DynamicCache): The cache.
        """
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        ids = torch.tensor([list(prefix)], dtype=torch.long, device=self.model.device)
        with torch.inference_mode():
            self.model(input_ids=ids, use_cache=True, logits_to_keep=1,
                       **{self.cache_keyword: cache})
        return cache

    # -- decoding ------------------------------------------------------------

    def run(self, rows: List[Row], past: Any = None, past_length: int = 0) -> None:
        """Decode ``rows`` to the end; the completions land in ``row.text``.

        rows (List[Row]): The batch.
        past (Optional[DynamicCache]): The shared prefix's cache (batch size 1).
        past_length (int): The prefix's length in tokens.
        """
        import torch
        from transformers import DynamicCache

        for row in rows:
            self._begin(row)
        active = [row for row in rows if not row.done]
        if not active:
            return
        if past is not None:
            cache = fork_cache(past)  # batch_repeat_interleave rebinds, never writes
            cache.batch_repeat_interleave(len(active))
        else:
            cache = DynamicCache(config=self.model.config)
        device = self.model.device
        mask = torch.ones((len(active), past_length), dtype=torch.long, device=device)
        positions = [past_length] * len(active)
        while active:
            ids, block_mask, block_pos = self._block(active, positions)
            mask = torch.cat([mask, block_mask.to(device)], dim=1)
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(device), attention_mask=mask,
                                    position_ids=block_pos.to(device), use_cache=True,
                                    logits_to_keep=1,
                                    **{self.cache_keyword: cache}).logits[:, -1, :]
            positions = [p + len(row.pending) for p, row in zip(positions, active)]
            best = logits.argmax(dim=-1).tolist()
            for j, row in enumerate(active):
                self._advance(row, logits[j], best[j])
            keep = [j for j, row in enumerate(active) if not row.done]
            if len(keep) < len(active):
                if keep:
                    index = torch.tensor(keep, dtype=torch.long, device=device)
                    cache.batch_select_indices(index)
                    mask = mask[index]
                active = [active[j] for j in keep]
                positions = [positions[j] for j in keep]

    def _block(self, rows: List[Row], positions: List[int]) -> Tuple[Any, Any, Any]:
        """Left-pad each row's pending tokens into one block, with mask and positions."""
        import torch

        width = max(len(row.pending) for row in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        for j, (row, start) in enumerate(zip(rows, positions)):
            k = len(row.pending)
            ids[j, width - k:] = torch.tensor(row.pending, dtype=torch.long)
            mask[j, width - k:] = 1
            pos[j, :] = start
            pos[j, width - k:] = torch.arange(start, start + k)
        return ids, mask, pos

    # -- per row -------------------------------------------------------------

    def _begin(self, row: Row) -> None:
        row.pending = list(row.suffix)
        if row.grammar is None:
            return
        grammar = row.grammar
        row.state = grammar.start()
        if row.open_prefix:  # a primed prompt: continue its list
            state, _ = grammar.scan(row.state, row.open_prefix.encode("utf-8"))
            if state is None:
                row.grammar = None  # the primed text is not ours to constrain
                return
            row.state = state
        row.pending += self._force(row)
        self._finish_constrained(row)

    def _advance(self, row: Row, scores: Any, best: int) -> None:
        """Take the next token of a row (and any forced text after it)."""
        if row.grammar is None:
            self._advance_free(row, best)
            return
        assert self.chooser is not None
        token, _ = self.chooser.choose(row.grammar, row.state, scores, preferred=best)
        if self.close_penalty > 0:
            token = self._penalize_close(row, scores, token)
        self._accept(row, [token])
        row.pending = [token]
        if not row.done:
            row.pending += self._force(row)
        self._finish_constrained(row)

    def _advance_free(self, row: Row, token: int) -> None:
        if token in self.eos_ids:
            self._finish_free(row)
            return
        row.new_ids.append(token)
        row.pending = [token]
        if self.stop_at_list_end:
            text = self.tokenizer.decode(row.new_ids, skip_special_tokens=True)
            if truncate_completion(text, row.open_prefix)[1]:
                self._finish_free(row)
                return
        if len(row.new_ids) >= row.budget:
            self._finish_free(row)

    def _finish_free(self, row: Row) -> None:
        text = self.tokenizer.decode(row.new_ids, skip_special_tokens=True)
        if self.stop_at_list_end:
            text = truncate_completion(text, row.open_prefix)[0]
        row.text = text
        row.done = True

    def _accept(self, row: Row, tokens: List[int]) -> None:
        """Append grammar-valid tokens to a constrained row's output and state."""
        assert row.grammar is not None and self.chooser is not None
        data = b"".join(self.chooser.token_bytes[t] or b"" for t in tokens)
        state, boundary = row.grammar.scan(row.state, data)
        assert state is not None, "only grammar-valid tokens are accepted"
        self.stats["new_tokens"] += len(tokens)
        if boundary is not None:
            end = len(row.out) + boundary[0]
            if self._repeats(row, end, data[:boundary[0]], boundary[1]):
                row.stopped_repeat = row.done = True  # closed after the previous item
                self.stats["repeat_stops"] += 1
                row.new_ids.extend(tokens)
                return
            row.boundary = (end, boundary[1])
        row.state = state
        row.out.extend(data)
        row.new_ids.extend(tokens)
        row.done = row.grammar.is_done(state)

    def _penalize_close(self, row: Row, scores: Any, token: int) -> int:
        """The token to take when ``token`` would end the list: the best one that
        goes on with another item at the same boundary instead, if its score is
        within ``close_penalty`` of ``token``'s.

        Each item boundary is weighed once: a token that ends right at it
        (``")``, which the tokenizers write before a closing ``\\n]``, against
        ``"),``), or the ``\\n`` or ``]`` that closes the list there. Only tokens
        that pass the same boundary are alternatives, so the items written so far
        stay as they are: the penalty adds items, it never changes one.
        """
        boundary, ends = self._ending(row, token)
        if not ends or boundary == row.penalized_at:
            return token
        row.penalized_at = boundary
        assert row.grammar is not None and self.chooser is not None
        limit = float(scores[token]) - self.close_penalty
        for other in top_ids(scores, self.chooser.top_k):
            if float(scores[other]) < limit:
                break
            data = self.chooser.token_bytes[other]
            if other == token or not data or row.grammar.advance(row.state, data) is None:
                continue
            if self._ending(row, other) == (boundary, False):
                self.stats["close_overrides"] += 1
                return other
        return token

    def _ending(self, row: Row, token: int) -> Tuple[Optional[int], bool]:
        """Where ``token`` meets an item boundary, and whether it ends the list there.

        RETURNS (Tuple[Optional[int], bool]): The output offset of the last item
            boundary the token reaches (the row's own, when it stands at one; None
            if none), and True when the token closes the list, or ends right at a
            boundary after an item (``")``), where going on needs the comma.
        """
        assert row.grammar is not None and self.chooser is not None
        grammar = row.grammar
        here = len(row.out) if grammar.checkpoint(row.state) is not None else None
        data = self.chooser.token_bytes[token] or b""
        if not any(byte in data for byte in _ENDS):  # nothing that ends an item or the list
            return here, False
        state, last = grammar.scan(row.state, data)
        if state is None:
            return None, False
        if last is None:
            if here is None:
                return None, False
            boundary = here
        else:
            boundary = len(row.out) + last[0]
            if last[0] == len(data) and last[1] == CLOSE_ITEMS:
                return boundary, True
        rest = grammar.advance(state, grammar.forced(state))
        return boundary, grammar.is_done(state) or (rest is not None and grammar.is_done(rest))

    def _repeats(self, row: Row, end: int, data: bytes, closing: bytes) -> bool:
        """Whether the item that ends at ``end`` repeats beyond the text."""
        if not self.stop_repeats or closing != CLOSE_ITEMS or row.boundary is None:
            return False
        assert row.grammar is not None
        completion = row.open_prefix.encode("utf-8") + bytes(row.out) + data
        return row.grammar.repeats_beyond_text(completion)

    def _force(self, row: Row) -> List[int]:
        """Append the text the grammar forces, tokenized, without asking the model.

        RETURNS (List[int]): The tokens appended (to be fed to the model next).
        """
        assert row.grammar is not None and self.chooser is not None
        forced = _whole_characters(row.grammar.forced(row.state))
        room = row.budget - len(row.new_ids)
        if not forced or room <= 0:
            return []
        tokens = self.tokenizer(forced.decode("utf-8"), add_special_tokens=False)["input_ids"]
        table = self.chooser.token_bytes
        if b"".join(table[t] or b"" for t in tokens) != forced:
            return []  # the tokenizer normalizes this text: let the model spell it
        tokens = tokens[:room]
        self._accept(row, tokens)
        return tokens

    def _finish_constrained(self, row: Row) -> None:
        if not row.done and len(row.new_ids) < row.budget:
            return
        if row.stopped_repeat:
            offset, closing = row.boundary  # type: ignore[misc]
            row.text = (bytes(row.out[:offset]) + closing).decode("utf-8", "replace")
        elif not row.done:  # out of tokens: close the list after the last whole item
            row.cut_off = True
            if row.boundary is None:
                row.text = "" if row.open_prefix else EMPTY_RESULTS
            else:
                offset, closing = row.boundary
                row.text = (bytes(row.out[:offset]) + closing).decode("utf-8", "replace")
        else:
            row.text = bytes(row.out).decode("utf-8", "replace")
        row.done = True


def _whole_characters(data: bytes) -> bytes:
    """The longest prefix of ``data`` that is valid UTF-8."""
    for end in range(len(data), max(-1, len(data) - 4), -1):
        try:
            data[:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return data[:end]
    return b""


def cache_keyword(model: Any) -> str:
    """The name under which the model's ``forward`` takes a KV cache.

    transformers 5.x renamed ``past_key_values`` to ``cache`` (the old name warns
    with a FutureWarning on every call); older versions only know the old name.

    model (Any): A transformers causal LM.
    RETURNS (str): "cache" or "past_key_values".

    Example:
        >>> class New:
        ...     def forward(self, input_ids=None, cache=None): ...
        >>> cache_keyword(New())
        'cache'
    """
    import inspect

    try:
        parameters = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return "past_key_values"
    return "cache" if "cache" in parameters else "past_key_values"


def _eos_ids(model: Any, tokenizer: Any) -> frozenset:
    """The tokenizer's EOS id (what transformers' generate stops on by default here)."""
    eos = tokenizer.eos_token_id
    return frozenset([eos]) if isinstance(eos, int) else frozenset()
