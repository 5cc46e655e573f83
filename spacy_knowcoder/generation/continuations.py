"""How likely a causal LM finds given continuations of one prompt (teacher forcing).

The typing stage (``spacy_knowcoder.class_scoring``) asks, for a mention the
model wrote, how probable ``\\tPerson("Ann")``, ``\\tCity("Ann")``, ... are after
the prompt. Every prompt of a task and schema shares the schema prefix, whose
key/value cache comes from the generator's prefix cache.

The continuations of one prompt are packed into a token tree (a trie: rows
that start alike, such as every ``\\tPerson("`` row, share their first tokens).
The per-document context (the ``sentence = ...`` suffix) and its tree, and
those of the other documents of a batch, are laid one after another in one
sequence and fed in one pass on top of the prefix cache, with a block mask:
each token sees the prefix, its own context and its own ancestors, nothing
else. That needs no copy of the prefix cache, computes each shared token once
and keeps the matrix products large: on the 2-core AMX machine a 40-token pass
costs 1.4 ms a token in bf16, a 400-token pass 0.43 ms.

Models that mix full and sliding-window layers (Gemma 3: a 512-token window,
shorter than most prompts) get one mask per layer type, the transformers
convention for such models (``layer_types``): the sliding layers' mask covers
only the keys their cache keeps and also hides every key a window or more
before the query's own position. Other models with a window shorter than the
sequence fall back to right-padded rows, each on a copy of the context cache
(right padding is safe: a causal model's scores of the real tokens never see
the pads after them).

Example:
    >>> scorer = ContinuationScorer(model, "cache", pad_id=0)  # doctest: +SKIP
    >>> scorer.score(past, len(prefix_ids), suffix_ids, [[464, 12], [464, 99, 7]])  # doctest: +SKIP
    [-3.2, -11.9]
"""
import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

#: Continuation rows fed to the model together on the fallback path (each carries a
#: copy of the context cache).
ROWS_PER_BATCH = 32
#: Most tree tokens fed in one pass (the tree mask is this squared).
TREE_TOKENS = 1024


def continuation_ids(tokenizer: Any, context: str, continuation: str,
                     context_ids: Optional[Sequence[int]] = None) -> List[int]:
    """The token ids ``continuation`` adds to ``context`` when both are tokenized together.

    Tokenizers may merge across the boundary; then the continuation is
    tokenized on its own (what a decoder that forced it would feed).

    context (str): The text before (no special tokens are added).
    continuation (str): The text whose ids are wanted.
    context_ids (Optional[Sequence[int]]): ``context`` already tokenized the same
        way, for callers that score many continuations of one context.
    RETURNS (List[int]): Its token ids.
    """
    before = (list(context_ids) if context_ids is not None
              else tokenizer(context, add_special_tokens=False)["input_ids"])
    joined = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    if len(joined) > len(before) and joined[:len(before)] == before:
        return list(joined[len(before):])
    return list(tokenizer(continuation, add_special_tokens=False)["input_ids"])


class TokenTree:
    """Token sequences merged on their common beginnings (a trie), in feed order.

    Example:
        >>> tree = TokenTree()
        >>> tree.add([5, 6, 7]); tree.add([5, 6, 9]); tree.add([8])
        >>> tree.tokens, tree.depths, tree.parents
        ([5, 6, 7, 9, 8], [0, 1, 2, 2, 0], [-1, 0, 1, 1, -1])
        >>> tree.path([5, 6, 9])
        [0, 1, 3]
    """

    def __init__(self) -> None:
        self.tokens: List[int] = []
        self.depths: List[int] = []
        self.parents: List[int] = []
        self._children: Dict[Tuple[int, int], int] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, sequence: Sequence[int]) -> None:
        """Add a sequence, reusing the nodes of any common beginning."""
        parent = -1
        for depth, token in enumerate(sequence):
            node = self._children.get((parent, token))
            if node is None:
                node = len(self.tokens)
                self._children[(parent, token)] = node
                self.tokens.append(int(token))
                self.depths.append(depth)
                self.parents.append(parent)
            parent = node

    def path(self, sequence: Sequence[int]) -> List[int]:
        """The node of each token of a sequence that was added."""
        nodes, parent = [], -1
        for token in sequence:
            parent = self._children[(parent, token)]
            nodes.append(parent)
        return nodes

    def visibility(self) -> Any:
        """A bool matrix: node i may attend to node j (j is i or one of its ancestors)."""
        import torch

        size = len(self.tokens)
        visible = torch.zeros((size, size), dtype=torch.bool)
        for node, parent in enumerate(self.parents):  # parents come before children
            if parent >= 0:
                visible[node] = visible[parent]
            visible[node, node] = True
        return visible


class ContinuationScorer:
    """Sum of token log-probabilities of continuations after a shared prefix.

    model (PreTrainedModel): A causal LM in eval mode.
    cache_keyword (str): Its forward's name for the KV cache (see ``decoding.cache_keyword``).
    pad_id (int): Any token id to pad rows with (its scores are ignored).
    rows_per_batch (int): Continuations per forward pass on the padded-rows path.
    tree (bool): Pack the continuations as token trees (see the module docstring);
        False always uses padded rows.
    """

    def __init__(self, model: Any, cache_keyword: str, pad_id: int,
                 rows_per_batch: int = ROWS_PER_BATCH, tree: bool = True) -> None:
        self.model = model
        self.cache_keyword = cache_keyword
        self.pad_id = pad_id
        self.rows_per_batch = max(1, rows_per_batch)
        self.tree = tree

    def score(self, past: Any, past_length: int, context: Sequence[int],
              continuations: Sequence[Sequence[int]]) -> List[float]:
        """log p(continuation | prefix + context), one float per continuation.

        past (Optional[DynamicCache]): The prefix's cache at batch size 1 (not
            changed), or None when ``context`` is the whole prompt.
        past_length (int): The prefix's length in tokens.
        context (Sequence[int]): Token ids after the prefix (at least one).
        continuations (Sequence[Sequence[int]]): Token ids to score; an empty
            one scores 0.
        RETURNS (List[float]): Natural-log probabilities, in input order.
        """
        return self.score_many(past, past_length, [(context, continuations)])[0]

    def score_many(self, past: Any, past_length: int,
                   requests: Sequence[Tuple[Sequence[int], Sequence[Sequence[int]]]]
                   ) -> List[List[float]]:
        """``score`` for several contexts after one prefix, packed into few passes.

        Each request is (context ids, continuation ids). Contexts and their
        continuation trees are laid one after another in one sequence, up to
        ``TREE_TOKENS`` tokens a pass, and a block mask keeps them apart: a
        context token sees the prefix and its own context, a tree token the
        prefix, its context and its ancestors. Position ids restart after the
        prefix for every context, so each score is what the model gives that
        context alone.

        RETURNS (List[List[float]]): Per request, its continuations' scores.

        Example:
            >>> scorer.score_many(past, 120, [([5, 6], [[7], [8, 9]]), ([5], [[7]])])  # doctest: +SKIP
            [[-2.3, -9.1], [-1.7]]
        """
        scores: List[List[Optional[float]]] = [[None] * len(rows) for _, rows in requests]
        packs: List[List[Segment]] = [[]]
        size = 0
        for index, (context, rows) in enumerate(requests):
            if not rows:
                continue
            if not context:
                raise ValueError("score_many needs at least one context token per request")
            longest = max(len(row) for row in rows)
            if not self._tree_fits(past_length + len(context) + longest):
                scores[index] = list(self._score_padded(past, past_length, context, rows))
                continue
            for segment in _segments(index, context, rows):
                if packs[-1] and size + len(segment) > TREE_TOKENS:
                    packs.append([])
                    size = 0
                packs[-1].append(segment)
                size += len(segment)
        for pack in packs:
            if pack:
                self._run_pack(past, past_length, pack, scores)
        return [[float(s) for s in row] for row in scores]  # type: ignore[arg-type]

    def _tree_fits(self, length: int) -> bool:
        """Whether the tree path computes what the model computes for ``length`` tokens:
        an attention that takes a custom 4D mask (sdpa or eager; flash attention
        does not), and no sliding window shorter than that unless the model takes
        one mask per layer type (``_layer_type_masks``)."""
        config = self.model.config
        window = getattr(config, "sliding_window", None)
        attention = getattr(config, "_attn_implementation", "sdpa") or "sdpa"
        short_window = isinstance(window, int) and length > window
        return (self.tree and attention in ("sdpa", "eager")
                and (not short_window or _layer_type_masks(config)))

    def _run_pack(self, past: Any, past_length: int, pack: Sequence["Segment"],
                  scores: List[List[Optional[float]]]) -> None:
        """One forward pass over the segments of a pack; fill in their rows' scores."""
        import torch

        device, dtype = self.model.device, self.model.dtype
        tokens: List[int] = []
        positions: List[int] = []
        keep: List[int] = []  # sequence positions whose next-token scores are read
        owners: List[int] = []  # where each segment starts in `keep`
        total = sum(len(segment) for segment in pack)
        visible = torch.zeros((total, total), dtype=torch.bool)
        for segment in pack:
            start, n_context = len(tokens), len(segment.context)
            tokens += segment.context + segment.tree.tokens
            positions += [past_length + j for j in range(n_context)]
            positions += [past_length + n_context + d for d in segment.tree.depths]
            context_end = start + n_context
            visible[start:context_end, start:context_end] = torch.ones(
                (n_context, n_context), dtype=torch.bool).tril()
            if len(segment.tree):
                visible[context_end:start + len(segment), start:context_end] = True
                visible[context_end:start + len(segment),
                        context_end:start + len(segment)] = segment.tree.visibility()
            owners.append(len(keep))
            keep += [context_end - 1] + list(range(context_end, start + len(segment)))
        cache = fork_cache(past) if past is not None else _empty_cache(self.model)
        mask = _tree_masks(self.model.config, cache, past_length, visible, positions, dtype,
                           device)
        with torch.inference_mode():
            logits = self.model(
                input_ids=torch.tensor([tokens], dtype=torch.long, device=device),
                attention_mask=mask,
                position_ids=torch.tensor([positions], dtype=torch.long, device=device),
                logits_to_keep=torch.tensor(keep, dtype=torch.long, device=device),
                use_cache=True, **{self.cache_keyword: cache}).logits[0]
        normaliser = torch.logsumexp(logits.float(), dim=-1)
        for segment, owner in zip(pack, owners):
            for index, row in zip(segment.members, segment.rows):
                if not row:
                    scores[segment.request][index] = 0.0
                    continue
                at = [owner] + [owner + 1 + node for node in segment.tree.path(row[:-1])]
                at_tensor = torch.tensor(at, dtype=torch.long, device=logits.device)
                targets = torch.tensor(list(row), dtype=torch.long, device=logits.device)
                picked = logits[at_tensor, targets].float() - normaliser[at_tensor]
                scores[segment.request][index] = float(picked.sum())

    def _score_padded(self, past: Any, past_length: int, context: Sequence[int],
                      continuations: Sequence[Sequence[int]]) -> List[float]:
        """The fallback: the context once, then right-padded rows on copies of its cache."""
        import torch

        device = self.model.device
        cache = fork_cache(past) if past is not None else _empty_cache(self.model)
        ids = torch.tensor([list(context)], dtype=torch.long, device=device)
        positions = torch.arange(past_length, past_length + len(context), device=device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, position_ids=positions[None], use_cache=True,
                                logits_to_keep=1, **{self.cache_keyword: cache}).logits
        first = torch.log_softmax(logits[0, -1].float(), dim=-1)
        n_context = past_length + len(context)
        scores: List[float] = []
        for start in range(0, len(continuations), self.rows_per_batch):
            rows = continuations[start:start + self.rows_per_batch]
            scores.extend(self._score_rows(cache, n_context, first, rows))
        return scores

    def _score_rows(self, cache: Any, n_context: int, first: Any,
                    rows: Sequence[Sequence[int]]) -> List[float]:
        import torch

        device = self.model.device
        width = max(len(row) for row in rows)
        if width <= 1:  # nothing to feed: each row's only token is scored by `first`
            return [float(first[row[0]]) if row else 0.0 for row in rows]
        ids = torch.full((len(rows), width - 1), self.pad_id, dtype=torch.long)
        row_mask = torch.zeros((len(rows), width - 1), dtype=torch.long)
        for j, row in enumerate(rows):
            fed = list(row[:-1])  # the last token is only predicted, never fed
            ids[j, :len(fed)] = torch.tensor(fed, dtype=torch.long)
            row_mask[j, :len(fed)] = 1
        rows_cache = fork_cache(cache)
        rows_cache.batch_repeat_interleave(len(rows))
        mask = torch.cat([torch.ones((len(rows), n_context), dtype=torch.long), row_mask], dim=1)
        positions = torch.arange(n_context, n_context + width - 1).expand(len(rows), -1)
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device),
                                position_ids=positions.to(device), use_cache=True,
                                **{self.cache_keyword: rows_cache}).logits
        scores = []
        for j, row in enumerate(rows):
            if not row:
                scores.append(0.0)
                continue
            total = float(first[row[0]])
            if len(row) > 1:
                steps = torch.log_softmax(logits[j, :len(row) - 1].float(), dim=-1)
                targets = torch.tensor(list(row[1:]), dtype=torch.long, device=steps.device)
                total += float(steps.gather(1, targets[:, None]).sum())
            scores.append(total)
        return scores


@dataclass
class Segment:
    """One request's context and (some of) its continuations, as laid out in a pack.

    request (int): The request's index.
    context (List[int]): Its context ids.
    tree (TokenTree): Its rows without their last token, merged.
    members (List[int]): The rows' indices within the request.
    rows (List[Sequence[int]]): The rows.
    """

    request: int
    context: List[int]
    tree: TokenTree = field(default_factory=TokenTree)
    members: List[int] = field(default_factory=list)
    rows: List[Sequence[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.context) + len(self.tree)


def _segments(request: int, context: Sequence[int],
              rows: Sequence[Sequence[int]]) -> List[Segment]:
    """A request cut into segments of at most ``TREE_TOKENS`` tokens (at least one row each)."""
    segments = [Segment(request, list(context))]
    for i, row in enumerate(rows):
        current = segments[-1]
        if current.rows and len(current) + max(0, len(row) - 1) > TREE_TOKENS:
            current = Segment(request, list(context))
            segments.append(current)
        current.tree.add(row[:-1])
        current.members.append(i)
        current.rows.append(row)
    return segments


def _layer_type_masks(config: Any) -> bool:
    """Whether a model mixes full and sliding-window layers and takes a mask per
    layer type (``{"full_attention": ..., "sliding_attention": ...}``)."""
    kinds = set(getattr(config, "layer_types", None) or ())
    return ("sliding_attention" in kinds and kinds <= {"full_attention", "sliding_attention"}
            and isinstance(getattr(config, "sliding_window", None), int))


def _tree_masks(config: Any, cache: Any, past_length: int, visible: Any,
                positions: Sequence[int], dtype: Any, device: Any) -> Any:
    """The additive attention mask(s) of a packed pass (0 = may attend).

    Keys are the cached prefix, then the packed tokens; ``visible`` says which
    packed token sees which. A model with sliding-window layers
    (``_layer_type_masks``) gets a dict with a second mask for those layers: its
    keys are the prefix tokens their cache keeps (the last ones) and the packed
    tokens, and a key at position ``k`` is hidden from a query at ``q`` unless
    ``k > q - window`` (transformers' ``sliding_window_overlay``). A window the
    whole pass fits in needs no second mask.

    RETURNS (Union[Tensor, Dict[str, Tensor]]): One mask (1, 1, queries, keys), or
        one per layer type, on ``device``.
    """
    import torch

    total = visible.shape[0]
    lowest = torch.finfo(dtype).min
    full = torch.zeros((1, 1, total, past_length + total), dtype=dtype)
    full[0, 0, :, past_length:].masked_fill_(~visible, lowest)
    window = getattr(config, "sliding_window", None)
    if not _layer_type_masks(config) or max(positions, default=0) < window:
        return full.to(device)
    kept = _sliding_cache_length(cache)
    query_at = torch.tensor(list(positions), dtype=torch.long)
    key_at = torch.cat([torch.arange(past_length - kept, past_length), query_at])
    allowed = torch.cat([torch.ones((total, kept), dtype=torch.bool), visible], dim=1)
    allowed &= key_at[None, :] > query_at[:, None] - window
    sliding = torch.zeros((1, 1, total, kept + total), dtype=dtype)
    sliding[0, 0].masked_fill_(~allowed, lowest)
    return {"full_attention": full.to(device), "sliding_attention": sliding.to(device)}


def _sliding_cache_length(cache: Any) -> int:
    """How many prefix tokens the sliding-window layers of a cache keep."""
    for layer in getattr(cache, "layers", ()):
        if getattr(layer, "is_sliding", False):
            keys = getattr(layer, "keys", None)
            return int(keys.shape[-2]) if keys is not None and keys.dim() == 4 else 0
    return 0


def fork_cache(cache: Any) -> Any:
    """A copy of a DynamicCache that shares its tensors, safe to extend.

    ``DynamicCache.update`` concatenates into new tensors and ``crop`` or
    ``batch_*`` rebind them, so only the cache and layer objects need copying:
    extending the fork never changes ``cache``, and no key/value memory is copied.

    Example:
        >>> fork_cache(prefix_cache).layers[0].keys is prefix_cache.layers[0].keys  # doctest: +SKIP
        True
    """
    fork = copy.copy(cache)
    fork.layers = [copy.copy(layer) for layer in cache.layers]
    return fork


def _empty_cache(model: Any) -> Any:
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def score_reference(model: Any, ids: Sequence[int], n_context: int) -> float:
    """log p(ids[n_context:] | ids[:n_context]) from one plain forward pass, no cache.

    The slow reference that ``ContinuationScorer`` must agree with (tests).

    Example:
        >>> score_reference(model, prompt_ids + continuation, len(prompt_ids))  # doctest: +SKIP
        -3.2
    """
    import torch

    tensor = torch.tensor([list(ids)], dtype=torch.long, device=model.device)
    with torch.inference_mode():
        logits = model(input_ids=tensor, use_cache=False).logits[0].float()
    steps = torch.log_softmax(logits[n_context - 1:-1], dim=-1)
    targets = tensor[0, n_context:]
    return float(steps.gather(1, targets[:, None]).sum())

