"""Build the full library from a local data folder laid out like ``../shared/data``.

Sources, in the order they are merged (the first record of a class keeps its
label; later ones fill gaps):

1. an optional Wikidata JSON dump (``wikidata_dump``);
2. optional released KnowCoder-Schema-Library files (``released``);
3. DBpedia ontology classes (``wikidata_schema/dbpedia_ontology``);
4. Wikidata properties (``wikidata_properties_fractalego/props.json``), the
   relation lists of RE benchmarks (FewRel ``pid2name.json``, Re-DocRED
   ``rel_info.json`` with its descriptions, OpenNRE Wiki80, GLiREL
   ``pid2name_wiki.json``), then the GLiREL export for missing descriptions;
5. DBpedia object properties (domain/range as head/tail types);
6. event ontologies: GENEVA and KAIROS (WikiEvents);
7. head/tail types from co-occurrence in Re-DocRED ``dev_revised.json`` (its
   test split is left for measuring selection recall).

Missing files are skipped (listed in ``BuildReport.missing``).

Example:
    >>> lib, report = build_from_shared_data("../shared/data")  # doctest: +SKIP
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Union

from ..library import SchemaLibrary, warn_cycles, warn_unresolved
from ._common import read_json_source
from .cooccurrence import DOCRED_TYPE_MAP, apply_cooccurrence, docred_cooccurrence
from .dbpedia import EXPECTED, dbpedia_classes, dbpedia_relations
from .events import build_events
from .properties import add_relations, load_property_file, relations_from_pid_map
from .released import build_from_released
from .wikidata_dump import DumpReport, build_from_wikidata_dump

PathLike = Union[str, Path]


@dataclass
class BuildReport:
    """Which files were used or missing, and what the passes found."""

    used: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    dump: Optional[DumpReport] = None
    derived_constraints: int = 0
    unresolved: int = 0
    cycles: int = 0


def build_from_shared_data(data_root: Optional[PathLike] = None, *,
                           wikidata_schema: Optional[PathLike] = None,
                           dump: Optional[PathLike] = None,
                           released: Optional[PathLike] = None,
                           cooccurrence: Optional[Sequence[PathLike]] = None,
                           min_instances: int = 0) -> "tuple[SchemaLibrary, BuildReport]":
    """Build a library from every source found (see the module docstring).

    data_root (PathLike): The data folder (``fewrel/``, ``re_docred/``, ...).
    wikidata_schema (PathLike): Default ``data_root / "wikidata_schema"``.
    dump (PathLike): A Wikidata JSON dump (``.json``/``.json.gz``/``.json.bz2``).
    released (PathLike): A folder with Entities.py/Relations.py/Events.py.
    cooccurrence (Sequence[PathLike]): DocRED-format files for derived
        constraints; default ``re_docred/dev_revised.json`` under ``data_root``.
    RETURNS (tuple): The library and a ``BuildReport``.
    """
    report = BuildReport()
    root = Path(data_root) if data_root is not None else None
    schema_dir = Path(wikidata_schema) if wikidata_schema else (root / "wikidata_schema"
                                                                if root else None)
    library = SchemaLibrary()
    if dump is not None:
        library, report.dump = build_from_wikidata_dump(dump, min_instances=min_instances)
        report.used.append(str(dump))
    if released is not None:
        build_from_released(released, library)
        report.used.append(str(released))
    _add_ontology_and_relations(library, root, schema_dir, report)
    if root is not None:
        geneva, kairos = root / "geneva/event_ontology.json", root / "wikievents/event_role_KAIROS.json"
        build_events(library, geneva=_found(geneva, report), kairos=_found(kairos, report))
    files = cooccurrence if cooccurrence is not None else (
        [root / "re_docred/dev_revised.json"] if root else [])
    present = [p for p in (_found(Path(f), report) for f in files) if p is not None]
    if present:
        report.derived_constraints = apply_cooccurrence(
            library, docred_cooccurrence(present), type_map=DOCRED_TYPE_MAP)
    report.unresolved = warn_unresolved(library)
    report.cycles = warn_cycles(library)
    return library, report


def _add_ontology_and_relations(library: SchemaLibrary, root: Optional[Path],
                                schema_dir: Optional[Path], report: BuildReport) -> None:
    dbpedia = None
    if schema_dir is not None:
        path = _found(schema_dir / "dbpedia_ontology/dbo_derived_classes_properties.json", report)
        if path is not None:
            dbpedia = read_json_source(path, "DBpedia ontology", EXPECTED)
            for cls in dbpedia_classes(dbpedia, path):
                library.add(cls)
        for name in ("wikidata_properties_fractalego/props.json",
                     "opennre_wiki80/rel4wiki80.md",
                     "wikidata_properties_glirel/pid2name_wiki.json"):
            path = _found(schema_dir / name, report)
            if path is not None:
                add_relations(library, load_property_file(path))
    if root is not None:
        _add_benchmark_relation_lists(library, root, report)
    if schema_dir is not None:
        path = _found(schema_dir / "wikidata_properties_glirel/all_wikidata_properties.json",
                      report)
        if path is not None:
            add_relations(library, load_property_file(path), only_known=True)
    if dbpedia is not None:
        for rel in dbpedia_relations(dbpedia):
            library.add(rel)


def _add_benchmark_relation_lists(library: SchemaLibrary, root: Path,
                                  report: BuildReport) -> None:
    path = _found(root / "fewrel/pid2name.json", report)
    if path is not None:
        add_relations(library, load_property_file(path))
    path = _found(root / "re_docred/rel_info.json", report)
    if path is not None:
        desc_path = _found(root / "re_docred/rel_desc_from_PRiSM.json", report)
        descriptions = read_json_source(desc_path, "relation descriptions",
                                        "{P-id: description}") if desc_path else {}
        data = read_json_source(path, "relation list", '{"P17": "country"}')
        add_relations(library, relations_from_pid_map(data, descriptions, "re_docred", path))


def _found(path: Path, report: BuildReport) -> Optional[Path]:
    if path.is_file():
        report.used.append(str(path))
        return path
    report.missing.append(str(path))
    return None
