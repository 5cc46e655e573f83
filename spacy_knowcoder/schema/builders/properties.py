"""Build relations from Wikidata property lists and benchmark relation lists.

Understood formats (see ``../shared/data/*/SOURCE.md``):

- a property dump list ``[{id, label, description, aliases, datatype}]``
  (``wikidata_properties_fractalego/props.json``): entity-valued properties
  (datatype ``wikibase-item``) become relations;
- a SPARQL export ``[{property: ".../P6", propertyLabel, propertyDescription}]``
  (``wikidata_properties_glirel/all_wikidata_properties.json``): it has no
  datatype, so by default it only fills labels and descriptions of relations
  already known (``only_known``);
- a relation map ``{"P17": ["country", "description"]}`` (FewRel
  ``pid2name.json``) or ``{"P17": "country"}`` (DocRED ``rel_info.json``), with
  an optional description map ``{"P17": "..."}``;
- the OpenNRE Markdown table ``| Wikidata ID | Name | Description |``.

Relations from benchmark lists are relations by definition (they are what RE
datasets annotate), so they are added even when no datatype is known.

Example:
    >>> rels = relations_from_pid_map({"P17": ["country", "sovereign state"], "P0": None})
    >>> [(r.key, r.label, r.description) for r in rels]
    [('P17', 'country', 'sovereign state')]
"""
import re
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

from ...fileio import read_text
from ..library import LibraryClass, SchemaLibrary
from ._common import read_json_source, source_error

PID = re.compile(r"P[1-9]\d*")
ENTITY_VALUED = ("wikibase-item",)


def relations_from_property_list(data: Any, source: str = "wikidata-properties",
                                 path: Union[str, Path] = "<data>") -> List[LibraryClass]:
    """Entity-valued properties of a ``[{id, label, description, aliases, datatype}]`` list."""
    if not isinstance(data, list):
        raise source_error("property list", path, f"got {type(data).__name__}",
                           "a JSON list of {id, label, description, datatype}")
    out = []
    for entry in data:
        if not isinstance(entry, Mapping) or entry.get("datatype") not in ENTITY_VALUED:
            continue
        key, label = entry.get("id"), entry.get("label")
        if isinstance(key, str) and PID.fullmatch(key) and label:
            aliases = tuple(a for a in entry.get("aliases") or () if isinstance(a, str))
            out.append(LibraryClass("relation", key, label, entry.get("description") or "",
                                    aliases=aliases, sources=(source,)))
    return out


def relations_from_sparql_export(data: Any, source: str = "wikidata-properties",
                                 path: Union[str, Path] = "<data>") -> List[LibraryClass]:
    """Records of a ``[{property, propertyLabel, propertyDescription}]`` export."""
    if not isinstance(data, list):
        raise source_error("property export", path, f"got {type(data).__name__}",
                           "a JSON list of {property, propertyLabel, propertyDescription}")
    out = []
    for entry in data:
        if not isinstance(entry, Mapping):
            continue
        key = str(entry.get("property", "")).rsplit("/", 1)[-1]
        label = entry.get("propertyLabel")
        if PID.fullmatch(key) and isinstance(label, str) and label and label != key:
            out.append(LibraryClass("relation", key, label,
                                    entry.get("propertyDescription") or "", sources=(source,)))
    return out


def relations_from_pid_map(data: Any, descriptions: Optional[Mapping[str, str]] = None,
                           source: str = "relation-list",
                           path: Union[str, Path] = "<data>") -> List[LibraryClass]:
    """Relations from ``{P-id: [label, description]}`` or ``{P-id: label}``."""
    if not isinstance(data, Mapping):
        raise source_error("relation map", path, f"got {type(data).__name__}",
                           '{"P17": ["country", "description"]} or {"P17": "country"}')
    descriptions = descriptions or {}
    out = []
    for key, value in data.items():
        if not PID.fullmatch(str(key)) or not value:
            continue
        if isinstance(value, str):
            label, description = value, ""
        elif isinstance(value, Sequence) and value and isinstance(value[0], str):
            label = value[0]
            description = value[1] if len(value) > 1 and isinstance(value[1], str) else ""
        else:
            continue
        description = descriptions.get(key) or description
        if description == "No description defined":
            description = ""
        out.append(LibraryClass("relation", key, label, description, sources=(source,)))
    return out


def relations_from_markdown_table(text: str, source: str = "opennre-wiki80") -> List[LibraryClass]:
    """Rows ``|P6 | head of government | description |`` of a Markdown table."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and PID.fullmatch(cells[0]) and cells[1]:
            description = cells[2] if len(cells) > 2 else ""
            out.append(LibraryClass("relation", cells[0], cells[1], description,
                                    sources=(source,)))
    return out


def add_relations(library: SchemaLibrary, relations: Iterable[LibraryClass], *,
                  only_known: bool = False) -> int:
    """Add relations (or, with ``only_known``, only merge into existing ones).

    RETURNS (int): How many records were added or merged.
    """
    n = 0
    for rel in relations:
        if only_known and library.resolve(rel.key, "relation", names=False) is None:
            continue
        library.add(rel)
        n += 1
    return n


def load_property_file(path: Union[str, Path]) -> List[LibraryClass]:
    """Read any of the formats above, recognised by content."""
    path = Path(path)
    if path.suffix.lower() == ".md":
        return relations_from_markdown_table(read_text(path))
    data = read_json_source(path, "relation list", "a property list or relation map")
    if isinstance(data, Mapping):
        return relations_from_pid_map(data, source=path.parent.name, path=path)
    if data and isinstance(data[0], Mapping) and "property" in data[0]:
        return relations_from_sparql_export(data, path=path)
    return relations_from_property_list(data, path=path)
