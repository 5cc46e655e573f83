"""Build entity classes and relations from the DBpedia ontology.

Reads ``dbo_derived_classes_properties.json`` (the English classes and
properties of the DBpedia ontology, derived from ``dbo-snapshots.ttl``; see
``../shared/data/wikidata_schema/SOURCE.md``, CC BY-SA 3.0):

- every ``owl:Class`` becomes an entity class keyed ``dbo:Name``; its Wikidata
  equivalents (``Q...``) go to ``same_as``, so it merges with the same class
  from the Wikidata dump; ``subClassOf`` gives the parents, ``comment`` the
  description;
- every ``owl:ObjectProperty`` becomes a relation, keyed by its Wikidata
  ``P...`` id when it has one (so it merges with the Wikidata property) and by
  ``dbo:name`` otherwise (``include_unmapped``); domain and range are the
  head and tail types.

Example:
    >>> lib = build_from_dbpedia("dbo_derived_classes_properties.json")  # doctest: +SKIP
"""
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Tuple, Union

from ..library import LibraryClass, SchemaLibrary
from ._common import read_json_source, source_error

EXPECTED = ('{"classes": [{id, label, comment, subClassOf, wikidata}], '
            '"properties": [{id, kind, label, comment, domain, range, wikidata}]}')
OBJECT_PROPERTY = "owl:ObjectProperty"
SOURCE = "dbpedia"


def _dbo(ids: Iterable[str]) -> Tuple[str, ...]:
    return tuple(i for i in ids if isinstance(i, str) and i.startswith("dbo:"))


def dbpedia_classes(data: Mapping[str, Any], path: Union[str, Path] = "<data>"
                    ) -> List[LibraryClass]:
    """Entity classes and relations from the parsed JSON."""
    if not isinstance(data, Mapping) or not isinstance(data.get("classes"), list):
        raise source_error("DBpedia ontology", path, "no 'classes' list", EXPECTED)
    out: List[LibraryClass] = []
    for i, entry in enumerate(data["classes"]):
        if not isinstance(entry, Mapping) or not entry.get("id") or not entry.get("label"):
            raise source_error("DBpedia ontology", path, f"class #{i} has no id/label", EXPECTED)
        out.append(LibraryClass(
            "entity", entry["id"], entry["label"], entry.get("comment") or "",
            parents=_dbo(entry.get("subClassOf") or ()),
            same_as=tuple(entry.get("wikidata") or ()), sources=(SOURCE,)))
    return out


def dbpedia_relations(data: Mapping[str, Any], *, include_unmapped: bool = True
                      ) -> List[LibraryClass]:
    """Relations from the object properties (domain -> head, range -> tail)."""
    out: List[LibraryClass] = []
    for entry in data.get("properties") or []:
        if not isinstance(entry, Mapping) or entry.get("kind") != OBJECT_PROPERTY:
            continue
        wikidata = [p for p in entry.get("wikidata") or () if str(p).startswith("P")]
        if not wikidata and not include_unmapped:
            continue
        key = wikidata[0] if wikidata else entry["id"]
        same_as = tuple(wikidata[1:]) + (entry["id"],) if wikidata else ()
        out.append(LibraryClass(
            "relation", key, entry.get("label") or entry["id"], entry.get("comment") or "",
            head=_dbo(entry.get("domain") or ()), tail=_dbo(entry.get("range") or ()),
            parents=_dbo(entry.get("subPropertyOf") or ()), same_as=same_as,
            sources=(SOURCE,)))
    return out


def build_from_dbpedia(path: Union[str, Path], library: Union[SchemaLibrary, None] = None, *,
                       include_unmapped: bool = True) -> SchemaLibrary:
    """Add the DBpedia ontology's classes and object properties to a library.

    path (str | Path): ``dbo_derived_classes_properties.json``.
    library (SchemaLibrary): Added to (a new one if None).
    RETURNS (SchemaLibrary): The library.
    """
    library = library if library is not None else SchemaLibrary()
    data = read_json_source(path, "DBpedia ontology", EXPECTED)
    for cls in dbpedia_classes(data, path):
        library.add(cls)
    for rel in dbpedia_relations(data, include_unmapped=include_unmapped):
        library.add(rel)
    return library


def find_dbpedia_file(folder: Union[str, Path]) -> Path:
    """The derived JSON inside a ``wikidata_schema`` or ``dbpedia_ontology`` folder."""
    folder = Path(folder)
    for candidate in (folder / "dbo_derived_classes_properties.json",
                      folder / "dbpedia_ontology" / "dbo_derived_classes_properties.json"):
        if candidate.is_file():
            return candidate
    return folder / "dbpedia_ontology" / "dbo_derived_classes_properties.json"


