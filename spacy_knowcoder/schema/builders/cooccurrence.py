"""Relation head/tail types from co-occurrence in annotated instance data.

KnowCoder derives the type constraints of a relation from the entity types
its instances connect. Here every annotated triple adds one count to
``(relation, head type, tail type)``; a type becomes a head (tail) constraint
when it covers at least ``min_share`` of the relation's instances. Declared
constraints (Wikidata P2302, DBpedia domain/range) are never overwritten. The
instance counts also become the relations' ``count`` (the selection prior).

Dataset entity types are mapped to library classes with ``type_map``; the
default for DocRED's coarse types maps PER, ORG, LOC and TIME to DBpedia
classes and leaves NUM and MISC out (they name no class).

Example:
    >>> stats = CooccurrenceStats()
    >>> for _ in range(9): stats.add("P19", "PER", "LOC")
    >>> stats.add("P19", "ORG", "LOC")
    >>> stats.constraints("P19", min_share=0.2)
    (('PER',), ('LOC',))
"""
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Tuple, Union

from ..library import SchemaLibrary
from ._common import read_json_source, source_error

DOCRED_TYPE_MAP = {"PER": "dbo:Person", "ORG": "dbo:Organisation", "LOC": "dbo:Place",
                   "TIME": "dbo:TimePeriod"}


class CooccurrenceStats:
    """Counts of (relation, head type, tail type) triples."""

    def __init__(self) -> None:
        self.heads: Dict[str, Counter] = defaultdict(Counter)
        self.tails: Dict[str, Counter] = defaultdict(Counter)
        self.counts: Counter = Counter()

    def add(self, relation: str, head_type: Optional[str], tail_type: Optional[str]) -> None:
        """Count one instance."""
        self.counts[relation] += 1
        if head_type:
            self.heads[relation][head_type] += 1
        if tail_type:
            self.tails[relation][tail_type] += 1

    def constraints(self, relation: str, min_share: float = 0.05
                    ) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
        """Head and tail types covering at least ``min_share`` of the instances."""
        total = self.counts[relation]

        def keep(counter: Counter) -> Tuple[str, ...]:
            ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            return tuple(t for t, n in ranked if total and n / total >= min_share)
        return keep(self.heads[relation]), keep(self.tails[relation])


def docred_triples(data: Any, path: Union[str, Path] = "<data>"
                   ) -> Iterator[Tuple[str, str, str]]:
    """(relation, head type, tail type) from DocRED/Re-DocRED documents."""
    if not isinstance(data, list):
        raise source_error("DocRED", path, f"got {type(data).__name__}",
                           "a JSON list of {vertexSet, labels}")
    for doc in data:
        vertices = doc.get("vertexSet") or []
        for label in doc.get("labels") or []:
            try:
                head = vertices[label["h"]][0].get("type")
                tail = vertices[label["t"]][0].get("type")
            except (IndexError, KeyError, TypeError, AttributeError):
                continue
            yield label.get("r"), head, tail


def benchmark_triples(records: Iterable[Mapping[str, Any]]) -> Iterator[Tuple[str, str, str]]:
    """(relation label, head label, tail label) from benchmark-format records (DESIGN §5)."""
    for record in records:
        for rel in record.get("relations") or []:
            yield (rel.get("label"), (rel.get("head") or {}).get("label"),
                   (rel.get("tail") or {}).get("label"))


def apply_cooccurrence(library: SchemaLibrary, stats: CooccurrenceStats, *,
                       type_map: Optional[Mapping[str, str]] = None,
                       min_share: float = 0.05, set_counts: bool = True) -> int:
    """Fill missing head/tail constraints (and counts) of the library's relations.

    type_map (Mapping[str, str]): dataset type -> library key/id; unmapped types
        are taken as library ids themselves, and dropped if unknown.
    RETURNS (int): How many relations got a derived constraint.
    """
    type_map = type_map or {}
    changed = 0
    for relation, total in sorted(stats.counts.items(), key=lambda kv: str(kv[0])):
        key = library.resolve(str(relation), "relation") if relation else None
        if key is None:
            continue
        cls = library[key]
        heads, tails = stats.constraints(relation, min_share)
        updates: Dict[str, Any] = {}
        if not cls.head and _mapped(library, heads, type_map):
            updates["head"] = _mapped(library, heads, type_map)
        if not cls.tail and _mapped(library, tails, type_map):
            updates["tail"] = _mapped(library, tails, type_map)
        if updates:
            updates["sources"] = tuple(dict.fromkeys(cls.sources + ("cooccurrence",)))
            changed += 1
        if set_counts:
            updates["count"] = max(cls.count, total)
        library.update(key, **updates)
    return changed


def _mapped(library: SchemaLibrary, types: Iterable[str], type_map: Mapping[str, str]
            ) -> Tuple[str, ...]:
    keys = (library.resolve(type_map.get(t, t), "entity") for t in types)
    return tuple(dict.fromkeys(k for k in keys if k is not None))


def docred_cooccurrence(paths: Iterable[Union[str, Path]]) -> CooccurrenceStats:
    """Count the triples of DocRED-format files."""
    stats = CooccurrenceStats()
    for path in paths:
        data = read_json_source(path, "DocRED", "a JSON list of {vertexSet, labels}")
        for relation, head, tail in docred_triples(data, path):
            stats.add(relation, head, tail)
    return stats
