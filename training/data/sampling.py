"""Deterministic sampling: seeded RNGs, record subsets, negative class sampling.

Candidates follow the KnowCoder recipe (DESIGN §7): the gold classes of a text
plus random negatives up to a fixed number, shuffled; with ``negative_share``
the gold classes are left out so the answer is ``results = []``. Two
additions make a listed class no promise that it occurs (issue 24, after
GLiNER and GNER): ``gold_dropout`` leaves out each gold class on its own (the
answer keeps the listed ones), and ``weights`` draw negatives by how often
each class occurs, so frequent classes are often listed and absent.

Example:
    >>> rng = rng_for(0, "wnut17", "ner")
    >>> candidates(rng, ["person"], ["person", "location", "group", "product"], 3, 0.0)[0] in (
    ...     "person", "location", "group", "product")
    True
"""
import random
from typing import List, Mapping, Optional, Sequence, TypeVar

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
               negative_share: float, gold_dropout: float = 0.0,
               weights: Optional[Mapping[str, float]] = None) -> List[str]:
    """Candidate labels for one prompt: gold + negatives (or negatives only), shuffled.

    gold_dropout (float): Chance that each gold class is left out.
    weights (Optional[Mapping[str, float]]): Sampling weight of each negative
        (missing: 1); None draws them uniformly.

    Example:
        >>> rng = random.Random(0)
        >>> sorted(candidates(rng, ["a"], ["a", "b", "c"], 2, 0.0, weights={"b": 1e9, "c": 1e-9}))
        ['a', 'b']
    """
    gold = list(dict.fromkeys(gold))
    others = [label for label in labels if label not in gold]
    keep = [] if (others and rng.random() < negative_share) else gold
    if gold_dropout and others:
        keep = [label for label in keep if rng.random() >= gold_dropout]
    need = max(size - len(keep), 0) if keep else max(size, 1)
    chosen = keep + weighted_sample(rng, others, min(need, len(others)), weights)
    rng.shuffle(chosen)
    return chosen


def weighted_sample(rng: random.Random, items: Sequence[str], count: int,
                    weights: Optional[Mapping[str, float]] = None) -> List[str]:
    """``count`` distinct items, each drawn with chance by weight (Efraimidis-Spirakis).

    Example:
        >>> weighted_sample(random.Random(1), ["x", "y"], 1, {"x": 0.0, "y": 5.0})
        ['y']
    """
    if weights is None:
        return rng.sample(list(items), count)
    keys = []
    for item in items:
        weight = weights.get(item, 1.0)
        draw = rng.random()
        keys.append((draw ** (1.0 / weight) if weight > 0 else 0.0, item))
    keys.sort(key=lambda pair: pair[0], reverse=True)
    return [item for _, item in keys[:count]]
