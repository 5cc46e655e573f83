"""Build a library from the Wikidata JSON dump, in one streaming pass.

The dump (``latest-all.json.gz``/``.bz2``) is a JSON array with one entity per
line: ``[``, then ``{...},`` lines, then ``]``. Each line is parsed on its own,
so memory holds only the classes found, never the dump:

- items with "subclass of" (P279) claims become entity classes (English label,
  description, aliases; parents = the P279 targets);
- items that are only referenced (a P279 target that is a root, a class named
  in a property constraint) are kept when they are met after the reference; any
  still missing at the end are fetched by a second pass over the file;
- "instance of" (P31) targets are counted (the ``count`` of a class, a prior
  for selection, and the filter ``min_instances``);
- properties with datatype ``wikibase-item`` become relations; the P2302
  constraints "subject type constraint" (Q21503250) and "value-type constraint"
  (Q21510865) give, through their P2308 "class" qualifiers, the head and tail
  types.

Malformed lines are skipped, counted and reported with their line numbers
(W200). Format reference: https://www.wikidata.org/wiki/Wikidata:Database_download#JSON_dumps_(recommended)

Example:
    >>> lib, report = build_from_wikidata_dump("latest-all.json.gz")  # doctest: +SKIP
    >>> report.malformed, lib.stats()["entity"]["classes"]  # doctest: +SKIP
"""
import bz2
import gzip
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Set, Tuple, Union

from ...errors import Errors, Warnings, warn
from ..library import LibraryClass, SchemaLibrary

SUBCLASS_OF = "P279"
INSTANCE_OF = "P31"
PROPERTY_CONSTRAINT = "P2302"
CONSTRAINT_CLASS = "P2308"
SUBJECT_TYPE = "Q21503250"
VALUE_TYPE = "Q21510865"
RELATION_DATATYPES = ("wikibase-item",)
MAX_REPORTED_LINES = 20


@dataclass
class DumpReport:
    """What a pass over a dump saw.

    lines (int): Lines read. entities (int): Entity objects parsed.
    malformed (int): Lines skipped as malformed; malformed_lines: the first ones.
    skipped_properties (int): Properties that are not entity-valued.
    no_label (int): Classes dropped for lack of a label in the language.
    second_pass (bool): Whether a second pass fetched late references.
    unresolved (int): References to classes never found.
    """

    lines: int = 0
    entities: int = 0
    malformed: int = 0
    malformed_lines: List[int] = field(default_factory=list)
    skipped_properties: int = 0
    no_label: int = 0
    second_pass: bool = False
    unresolved: int = 0


def open_dump(path: Union[str, Path]) -> IO[str]:
    """Open a ``.json``, ``.json.gz`` or ``.json.bz2`` dump as text."""
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise FileNotFoundError(Errors.E021.format(path=path))
    if name.endswith(".json.gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    if name.endswith(".json.bz2"):
        return bz2.open(path, "rt", encoding="utf-8")
    if name.endswith(".json") or name.endswith(".jsonl"):
        return open(path, "r", encoding="utf-8")
    raise ValueError(Errors.E204.format(path=path))


def iter_dump(path: Union[str, Path], report: Optional[DumpReport] = None
              ) -> Iterator[Dict[str, Any]]:
    """Yield the entity objects of a dump, one line at a time; bad lines are counted."""
    report = report if report is not None else DumpReport()
    with open_dump(path) as handle:
        for number, line in enumerate(handle, start=1):
            report.lines = number
            text = line.strip()
            if text in ("", "[", "]"):
                continue
            if text.endswith(","):
                text = text[:-1]
            try:
                entity = json.loads(text)
            except ValueError:
                entity = None
            if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
                report.malformed += 1
                if len(report.malformed_lines) < MAX_REPORTED_LINES:
                    report.malformed_lines.append(number)
                continue
            report.entities += 1
            yield entity


def _text(entity: Dict[str, Any], field_name: str, language: str) -> str:
    value = (entity.get(field_name) or {}).get(language) or {}
    return value.get("value", "") if isinstance(value, dict) else ""


def _aliases(entity: Dict[str, Any], language: str, limit: int) -> Tuple[str, ...]:
    values = (entity.get("aliases") or {}).get(language) or []
    return tuple(v["value"] for v in values[:limit] if isinstance(v, dict) and "value" in v)


def _snak_id(snak: Any) -> Optional[str]:
    if not isinstance(snak, dict) or snak.get("snaktype", "value") != "value":
        return None
    value = (snak.get("datavalue") or {}).get("value")
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            return value["id"]
        if "numeric-id" in value:
            return f"Q{value['numeric-id']}"
    return None


def claim_targets(entity: Dict[str, Any], prop: str) -> List[str]:
    """The item ids a property's statements point to (deprecated ones left out)."""
    statements = (entity.get("claims") or {}).get(prop) or []
    out = []
    for statement in statements:
        if isinstance(statement, dict) and statement.get("rank") != "deprecated":
            target = _snak_id(statement.get("mainsnak"))
            if target:
                out.append(target)
    return list(dict.fromkeys(out))


def type_constraints(entity: Dict[str, Any]) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(head classes, tail classes) from a property's P2302 constraints."""
    sides: Dict[str, List[str]] = {SUBJECT_TYPE: [], VALUE_TYPE: []}
    for statement in (entity.get("claims") or {}).get(PROPERTY_CONSTRAINT) or []:
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        kind = _snak_id(statement.get("mainsnak"))
        if kind in sides:
            qualifiers = (statement.get("qualifiers") or {}).get(CONSTRAINT_CLASS) or []
            sides[kind].extend(t for t in map(_snak_id, qualifiers) if t)
    return (tuple(dict.fromkeys(sides[SUBJECT_TYPE])), tuple(dict.fromkeys(sides[VALUE_TYPE])))


class WikidataDumpBuilder:
    """Streaming builder; call ``build(path)``.

    language (str): The label/description language.
    max_aliases (int): Aliases kept per class.
    min_instances (int): Keep only entity classes with at least this many P31
        instances (and their ancestors); 0 keeps all.
    second_pass (bool): Re-read the file for classes referenced before they
        appeared.
    """

    def __init__(self, *, language: str = "en", max_aliases: int = 10,
                 min_instances: int = 0, second_pass: bool = True) -> None:
        self.language = language
        self.max_aliases = max_aliases
        self.min_instances = min_instances
        self.second_pass = second_pass

    def build(self, path: Union[str, Path]) -> Tuple[SchemaLibrary, DumpReport]:
        """Read the dump and return the library and a report (W200 on bad lines)."""
        report = DumpReport()
        classes: Dict[str, LibraryClass] = {}
        relations: Dict[str, LibraryClass] = {}
        referenced: Set[str] = set()
        counts: Dict[str, int] = {}
        for entity in iter_dump(path, report):
            self._visit(entity, classes, relations, referenced, counts, report)
        missing = referenced - set(classes)
        if missing and self.second_pass:
            report.second_pass = True
            for entity in iter_dump(path, DumpReport()):
                if entity["id"] in missing:
                    self._keep_class(entity, (), classes, report)
        report.unresolved = len(referenced - set(classes))
        if report.malformed:
            lines = ", ".join(map(str, report.malformed_lines))
            warn(Warnings.W200.format(count=report.malformed, path=path, lines=lines))
        return self._library(classes, relations, counts), report

    def _visit(self, entity: Dict[str, Any], classes: Dict[str, LibraryClass],
               relations: Dict[str, LibraryClass], referenced: Set[str],
               counts: Dict[str, int], report: DumpReport) -> None:
        id_ = entity["id"]
        if entity.get("type") == "property":
            if entity.get("datatype") not in RELATION_DATATYPES:
                report.skipped_properties += 1
                return
            head, tail = type_constraints(entity)
            referenced.update(head + tail)
            label = _text(entity, "labels", self.language)
            if label:
                relations[id_] = LibraryClass(
                    "relation", id_, label, _text(entity, "descriptions", self.language),
                    aliases=_aliases(entity, self.language, self.max_aliases),
                    head=head, tail=tail, sources=("wikidata",))
            else:
                report.no_label += 1
            return
        for target in claim_targets(entity, INSTANCE_OF):
            counts[target] = counts.get(target, 0) + 1
        parents = tuple(claim_targets(entity, SUBCLASS_OF))
        if parents:
            referenced.update(parents)
            self._keep_class(entity, parents, classes, report)
        elif id_ in referenced:
            self._keep_class(entity, (), classes, report)

    def _keep_class(self, entity: Dict[str, Any], parents: Tuple[str, ...],
                    classes: Dict[str, LibraryClass], report: DumpReport) -> None:
        label = _text(entity, "labels", self.language)
        if not label:
            report.no_label += 1
            return
        classes[entity["id"]] = LibraryClass(
            "entity", entity["id"], label, _text(entity, "descriptions", self.language),
            aliases=_aliases(entity, self.language, self.max_aliases), parents=parents,
            sources=("wikidata",))

    def _library(self, classes: Dict[str, LibraryClass], relations: Dict[str, LibraryClass],
                 counts: Dict[str, int]) -> SchemaLibrary:
        # Keys are added in id order, so the result does not depend on the dump's order.
        library = SchemaLibrary()
        for key in sorted(classes, key=_id_order):
            cls = classes[key]
            library.add(replace(cls, count=counts.get(key, 0)))
        if self.min_instances > 0:
            keep = {k for k in library.keys("entity")
                    if library[k].count >= self.min_instances}
            keep |= {a for k in list(keep) for a in library.ancestors(k)}
            library.remove(k for k in library.keys("entity") if k not in keep)
        for key in sorted(relations, key=_id_order):
            library.add(relations[key])
        return library


def _id_order(id_: str) -> Tuple[str, int]:
    digits = id_[1:]
    return (id_[:1], int(digits) if digits.isdigit() else -1)


def build_from_wikidata_dump(path: Union[str, Path], **settings: Any
                             ) -> Tuple[SchemaLibrary, DumpReport]:
    """Build a library from a Wikidata JSON dump (see ``WikidataDumpBuilder``)."""
    return WikidataDumpBuilder(**settings).build(path)
