"""Split selection: no retrieval, every class of the kind in prompts of ``budget``.

With ``budget = 1`` every class gets its own prompt (one class per prompt).

Example:
    >>> from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
    >>> lib = SchemaLibrary([LibraryClass("entity", "Q5", "human"),
    ...                      LibraryClass("entity", "Q515", "city")])
    >>> [[t.class_name for t in s.entities] for s in split_selection(1).bind(lib)("ner", None, "x")]
    [['Human'], ['City']]
"""
from typing import List, Optional

from spacy.util import registry

from ..library import SchemaLibrary
from .lexical import LibrarySelector
from .policy import SelectionPolicy
from ...tasks import TASK_KINDS
from .settings import SelectionSettings


class SplitSelector(LibrarySelector):
    """No retrieval: every class of the kind, split into prompts of ``budget`` classes."""

    def candidates(self, task: str, text: str) -> List[str]:
        return self.library.keys(TASK_KINDS[task])


class SplitPolicy(SelectionPolicy):
    """Every class, split into prompts (``split_selection.v1``)."""

    def bind(self, library: SchemaLibrary, rankers: Optional[dict] = None) -> SplitSelector:
        return SplitSelector(library, self.settings)


@registry.misc("spacy_knowcoder.split_selection.v1")
def split_selection(budget: int = 16) -> SplitPolicy:
    """Every class, split into prompts of at most ``budget`` classes."""
    return SplitPolicy(SelectionSettings(budget=budget, max_candidates=budget))
