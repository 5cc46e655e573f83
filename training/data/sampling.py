"""Deterministic sampling: seeded RNGs, record subsets, negative class sampling.

Candidates follow the KnowCoder recipe (DESIGN §7): the gold classes of a text
plus random negatives up to a fixed number, shuffled; with ``negative_share``
the gold classes are left out so the answer is ``results = []``.

Example:
    >>> rng = rng_for(0, "wnut17", "ner")
    >>> candidates(rng, ["person"], ["person", "location", "group", "product"], 3, 0.0)[0] in (
    ...     "person", "location", "group", "product")
    True
"""
import random
from typing import List, Sequence, TypeVar

T = TypeVar("T")


def rng_for(seed: int, *keys: str) -> random.Random:
    """An RNG that depends only on the seed and the keys (stable across runs)."""
    return random.Random(":".join([str(seed), *keys]))


def sample_records(rng: random.Random, records: Sequence[T], cap: int) -> List[T]:
    """Up to ``cap`` records in a random order (0: all, shuffled)."""
    chosen = list(records)
    rng.shuffle(chosen)
    return chosen[:cap] if cap else chosen


def candidates(rng: random.Random, gold: Sequence[str], labels: Sequence[str], size: int,
               negative_share: float) -> List[str]:
    """Candidate labels for one prompt: gold + negatives (or negatives only), shuffled."""
    gold = list(dict.fromkeys(gold))
    others = [label for label in labels if label not in gold]
    keep = [] if (others and rng.random() < negative_share) else gold
    need = max(size - len(keep), 0) if keep else max(size, 1)
    chosen = keep + rng.sample(others, min(need, len(others)))
    rng.shuffle(chosen)
    return chosen
