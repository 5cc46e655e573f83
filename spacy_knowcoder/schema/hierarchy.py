"""Walks over a class taxonomy, and hierarchy-aware label matching for evaluation.

``walk``, ``find_cycles`` and ``parents_first`` work on any graph given as a
function from a node to its neighbours; ``SchemaLibrary`` answers its
ancestors, descendants, cycles and topological order with them.

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
from collections import deque
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple

if TYPE_CHECKING:
    from .library import SchemaLibrary

Matcher = Callable[[str, str], bool]
Neighbours = Callable[[str], Iterable[str]]


def walk(start: str, step: Neighbours, max_depth: Optional[int] = None) -> List[str]:
    """Every node reachable from ``start`` (not itself), nearest first (breadth-first;
    cycles cannot hang it).

    Example:
        >>> up = {"a": ["b"], "b": ["c", "a"], "c": []}
        >>> walk("a", up.__getitem__), walk("a", up.__getitem__, max_depth=1)
        (['b', 'c'], ['b'])
    """
    seen = {start}
    out: List[str] = []
    queue = deque([(start, 0)])
    while queue:
        node, depth = queue.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for nxt in step(node):
            if nxt not in seen:
                seen.add(nxt)
                out.append(nxt)
                queue.append((nxt, depth + 1))
    return out


def find_cycles(nodes: Iterable[str], parents: Neighbours) -> List[List[str]]:
    """Cycles of the parent graph, each as a list of nodes ending where it started
    (at most one per cycle entry point).

    Example:
        >>> up = {"a": ["b"], "b": ["a"], "c": ["a"]}
        >>> find_cycles(up, up.__getitem__)
        [['a', 'b', 'a']]
    """
    state: Dict[str, int] = {}
    found: List[List[str]] = []
    for start in nodes:
        if state.get(start):
            continue
        stack: List[Tuple[str, Iterator[str]]] = [(start, iter(parents(start)))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(parents(nxt))))
    return found


def parents_first(nodes: Iterable[str], parents: Neighbours) -> List[str]:
    """``nodes`` and their ancestors, every parent before its children (cycles broken).

    Example:
        >>> up = {"city": ["place"], "place": [], "capital": ["city"]}
        >>> parents_first(["capital", "place"], up.__getitem__)
        ['place', 'city', 'capital']
    """
    order: List[str] = []
    done: set = set()
    for start in nodes:
        stack = [(start, False)]
        while stack:
            key, expanded = stack.pop()
            if key in done:
                continue
            if expanded:
                done.add(key)
                order.append(key)
                continue
            stack.append((key, True))
            stack.extend((p, False) for p in reversed(list(parents(key))) if p not in done
                         and not any(p == k for k, e in stack if e))
    return order


def upper_labels(library: "SchemaLibrary", label: str, kind: str = "entity",
                 max_depth: Optional[int] = None) -> List[str]:
    """A label followed by the spaCy labels of all its ancestors (nearest first).

    label (str): A spaCy label, class name or key; unknown ones give ``[label]``.
    """
    key = library.resolve(label, kind)
    if key is None:
        return [label]
    return [label] + [library.label(a) for a in library.ancestors(key, max_depth)]


def hierarchy_matcher(library: Optional["SchemaLibrary"], kind: str = "entity", *,
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
