"""Hierarchy-aware label matching for evaluation (the reference's ``wikidata_upper``).

With ``wikidata_upper`` the KnowCoder evaluation replaces a predicted type by
the type plus all its ancestors in the Wikidata ontology, and counts the
prediction as correct when the gold type is among them (ICT-GoKnow/KnowCoder,
``eval/src/convert/ner.py``, ``convert_type``). ``hierarchy_matcher`` gives
the same rule as a function: a predicted subclass counts for a gold ancestor.

Example:
    >>> from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
    >>> lib = SchemaLibrary([LibraryClass("entity", "Q5", "person"),
    ...                      LibraryClass("entity", "Q82955", "politician", parents=("Q5",))])
    >>> matches = hierarchy_matcher(lib)
    >>> matches("politician", "person"), matches("person", "politician")
    (True, False)
"""
from functools import lru_cache
from typing import Callable, FrozenSet, List, Optional

from .library import SchemaLibrary

Matcher = Callable[[str, str], bool]


def upper_labels(library: SchemaLibrary, label: str, kind: str = "entity",
                 max_depth: Optional[int] = None) -> List[str]:
    """A label followed by the spaCy labels of all its ancestors (nearest first).

    label (str): A spaCy label, class name or key; unknown ones give ``[label]``.
    """
    key = library.resolve(label, kind)
    if key is None:
        return [label]
    return [label] + [library.label(a) for a in library.ancestors(key, max_depth)]


def hierarchy_matcher(library: Optional[SchemaLibrary], kind: str = "entity", *,
                      enabled: bool = True, max_depth: Optional[int] = None) -> Matcher:
    """``matches(pred_label, gold_label) -> bool`` for scoring.

    library (SchemaLibrary): Supplies the taxonomy; None means exact matching.
    kind (str): "entity", "relation" or "event".
    enabled (bool): False gives exact matching (``wikidata_upper`` off).
    max_depth (int): Only ancestors this many levels up count (None: all).
    RETURNS (Callable[[str, str], bool]): True if the labels are equal or, when
        enabled, the gold label names an ancestor of the predicted class.
    """
    if library is None or not enabled:
        return lambda pred, gold: pred == gold

    @lru_cache(maxsize=65536)
    def uppers(pred: str) -> FrozenSet[str]:
        key = library.resolve(pred, kind)
        if key is None:
            return frozenset()
        return frozenset(library.ancestors(key, max_depth))

    def matches(pred: str, gold: str) -> bool:
        if pred == gold:
            return True
        gold_key = library.resolve(gold, kind)
        return gold_key is not None and gold_key in uppers(pred)

    return matches
