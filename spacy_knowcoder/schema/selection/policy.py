"""The base of the selection policies: a configured method that ``bind`` applies to a library.

Each registered policy (``spacy_knowcoder.lexical_selection.v1``, ...) is its own
subclass with its own ``bind``: ``lexical.LexicalPolicy``, ``embedding.HybridPolicy``,
``learned.LearnedPolicy``, ``split.SplitPolicy``.

Example:
    >>> from spacy_knowcoder.schema.selection import lexical_selection
    >>> selector = lexical_selection(budget=4).bind(library)  # doctest: +SKIP
    >>> selector("ner", None, "The physicist.")  # doctest: +SKIP
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional

from ..library import SchemaLibrary
from ..ranker import ClassRanker
from ..types import Schema
from .settings import SelectionSettings

if TYPE_CHECKING:
    from .lexical import LibrarySelector


@dataclass(frozen=True)
class SelectionPolicy:
    """A configured selection method; ``bind`` applies it to a library.

    settings (SelectionSettings): Budget and quotas.
    """

    settings: SelectionSettings

    #: Whether the policy selects with learned class rankers (saved with a pipeline).
    uses_rankers = False

    def __call__(self, library: SchemaLibrary,
                 rankers: Optional[Dict[str, ClassRanker]] = None) -> "LibrarySelector":
        return self.bind(library, rankers)

    def load_rankers(self) -> Optional[Dict[str, ClassRanker]]:
        """The rankers the policy reads from disk (None: it uses none)."""
        return None

    def bind(self, library: SchemaLibrary,
             rankers: Optional[Dict[str, ClassRanker]] = None) -> "LibrarySelector":
        """A selector over ``library``.

        rankers (Optional[Dict[str, ClassRanker]]): Rankers saved with a pipeline
            (policies that use rankers; others ignore them).
        """
        raise NotImplementedError

    def bind_schema(self, schema: Schema,
                    rankers: Optional[Dict[str, ClassRanker]] = None) -> "LibrarySelector":
        """A selector over the classes of a plain schema."""
        return self.bind(SchemaLibrary.from_schema(schema), rankers)
