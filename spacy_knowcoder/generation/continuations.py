"""How likely a causal LM finds given continuations of one prompt (teacher forcing).

The typing stage (``spacy_knowcoder.class_scoring``) asks, for a mention the
model wrote, how probable ``\\tPerson("Ann")``, ``\\tCity("Ann")``, ... are after
the prompt. Every continuation of a prompt shares the prompt's key/value cache:
the schema prefix comes from the generator's prefix cache, the per-document
suffix is run once, and the continuations are scored as right-padded rows on
top of it, ``rows_per_batch`` at a time. Right padding is safe here: a causal
model's scores of the real tokens never see the pads after them.

Example:
    >>> scorer = ContinuationScorer(model, tokenizer)  # doctest: +SKIP
    >>> scorer.score(past, len(prefix_ids), suffix_ids, [[464, 12], [464, 99, 7]])  # doctest: +SKIP
    [-3.2, -11.9]
"""
import copy
from typing import Any, List, Sequence

#: Continuation rows fed to the model together (each carries a copy of the context cache).
ROWS_PER_BATCH = 32


def continuation_ids(tokenizer: Any, context: str, continuation: str) -> List[int]:
    """The token ids ``continuation`` adds to ``context`` when both are tokenized together.

    Tokenizers may merge across the boundary; then the continuation is
    tokenized on its own (what a decoder that forced it would feed).

    context (str): The text before (no special tokens are added).
    continuation (str): The text whose ids are wanted.
    RETURNS (List[int]): Its token ids.
    """
    before = tokenizer(context, add_special_tokens=False)["input_ids"]
    joined = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    if len(joined) > len(before) and joined[:len(before)] == before:
        return list(joined[len(before):])
    return list(tokenizer(continuation, add_special_tokens=False)["input_ids"])


class ContinuationScorer:
    """Sum of token log-probabilities of continuations after a shared context.

    model (PreTrainedModel): A causal LM in eval mode.
    cache_keyword (str): Its forward's name for the KV cache (see ``decoding.cache_keyword``).
    pad_id (int): Any token id to pad rows with (its scores are ignored).
    rows_per_batch (int): Continuations scored in one forward pass.
    """

    def __init__(self, model: Any, cache_keyword: str, pad_id: int,
                 rows_per_batch: int = ROWS_PER_BATCH) -> None:
        self.model = model
        self.cache_keyword = cache_keyword
        self.pad_id = pad_id
        self.rows_per_batch = max(1, rows_per_batch)

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

