"""How likely a causal LM finds given continuations of one prompt (teacher forcing).

The typing stage (``spacy_knowcoder.class_scoring``) asks, for a mention the
model wrote, how probable ``\\tPerson("Ann")``, ``\\tCity("Ann")``, ... are after
the prompt. Every continuation of a prompt shares the prompt's key/value cache:
the schema prefix comes from the generator's prefix cache and the per-document
suffix is run once on top of it.

The continuations are then packed into one token tree (a trie: rows that start
alike, such as every ``\\tPerson("`` row, share their first tokens) and fed as
one sequence at batch size 1 with a tree attention mask: each token sees the
context and its own ancestors, nothing else. That needs no copy of the context
cache per row, and each shared token is computed once. Models with a sliding
attention window shorter than the sequence fall back to right-padded rows, each
on a copy of the context cache (right padding is safe: a causal model's scores
of the real tokens never see the pads after them).

Example:
    >>> scorer = ContinuationScorer(model, "cache", pad_id=0)  # doctest: +SKIP
    >>> scorer.score(past, len(prefix_ids), suffix_ids, [[464, 12], [464, 99, 7]])  # doctest: +SKIP
    [-3.2, -11.9]
"""
import copy
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
    """Sum of token log-probabilities of continuations after a shared context.

    model (PreTrainedModel): A causal LM in eval mode.
    cache_keyword (str): Its forward's name for the KV cache (see ``decoding.cache_keyword``).
    pad_id (int): Any token id to pad rows with (its scores are ignored).
    rows_per_batch (int): Continuations per forward pass on the padded-rows path.
    tree (bool): Pack the continuations as a token tree (see the module docstring);
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
        import torch
        from transformers import DynamicCache

        if not continuations:
            return []
        device = self.model.device
        cache = copy.deepcopy(past) if past is not None else DynamicCache(config=self.model.config)
        ids = torch.tensor([list(context)], dtype=torch.long, device=device)
        positions = torch.arange(past_length, past_length + len(context), device=device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, position_ids=positions[None], use_cache=True,
                                logits_to_keep=1, **{self.cache_keyword: cache}).logits
        first = torch.log_softmax(logits[0, -1].float(), dim=-1)
        n_context = past_length + len(context)
        longest = max(len(row) for row in continuations)
        if not self._tree_fits(n_context + longest):
            scores: List[float] = []
            for start in range(0, len(continuations), self.rows_per_batch):
                rows = continuations[start:start + self.rows_per_batch]
                scores.extend(self._score_rows(cache, n_context, first, rows))
            return scores
        return self._score_tree(cache, n_context, first, continuations)

    def _tree_fits(self, length: int) -> bool:
        """Whether the tree path computes what the model computes for ``length`` tokens:
        no sliding window shorter than that, and an attention that takes a custom
        4D mask (sdpa or eager; flash attention does not)."""
        config = self.model.config
        window = getattr(config, "sliding_window", None)
        attention = getattr(config, "_attn_implementation", "sdpa") or "sdpa"
        return (self.tree and not (isinstance(window, int) and length > window)
                and attention in ("sdpa", "eager"))

    def _score_tree(self, cache: Any, n_context: int, first: Any,
                    rows: Sequence[Sequence[int]]) -> List[float]:
        """Score rows packed as token trees of at most ``TREE_TOKENS`` fed tokens."""
        scores: List[Optional[float]] = [None] * len(rows)
        tree = TokenTree()
        members: List[int] = []
        for i, row in enumerate(rows):
            if members and len(tree) + max(0, len(row) - 1) > TREE_TOKENS:
                self._run_tree(cache, n_context, first, tree, [rows[j] for j in members],
                               members, scores)
                tree, members = TokenTree(), []
            tree.add(row[:-1])
            members.append(i)
        self._run_tree(cache, n_context, first, tree, [rows[j] for j in members], members,
                       scores)
        return [float(score) for score in scores]  # type: ignore[arg-type]

    def _run_tree(self, cache: Any, n_context: int, first: Any, tree: "TokenTree",
                  rows: Sequence[Sequence[int]], indices: Sequence[int],
                  scores: List[Optional[float]]) -> None:
        import torch

        logp = None
        if len(tree):
            device, dtype = self.model.device, self.model.dtype
            visible = tree.visibility()
            mask = torch.zeros((1, 1, len(tree), n_context + len(tree)), dtype=dtype)
            mask[0, 0, :, n_context:].masked_fill_(~visible, torch.finfo(dtype).min)
            ids = torch.tensor([tree.tokens], dtype=torch.long, device=device)
            positions = torch.tensor([[n_context + d for d in tree.depths]], device=device)
            tree_cache = copy.deepcopy(cache)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask.to(device),
                                    position_ids=positions, use_cache=True,
                                    **{self.cache_keyword: tree_cache}).logits[0]
            logp = torch.log_softmax(logits.float(), dim=-1)
        for index, row in zip(indices, rows):
            if not row:
                scores[index] = 0.0
                continue
            total = float(first[row[0]])
            nodes = tree.path(row[:-1])
            if nodes:
                assert logp is not None
                at = torch.tensor(nodes, dtype=torch.long, device=logp.device)
                targets = torch.tensor(list(row[1:]), dtype=torch.long, device=logp.device)
                total += float(logp[at, targets].sum())
            scores[index] = total

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
        rows_cache = copy.deepcopy(cache)
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

