"""``knowcoder schema ...``: build, inspect and render a schema library.

Example:
    $ knowcoder schema build --data-root ../shared/data --output lib.json
    $ knowcoder schema stats lib.json
    $ knowcoder schema show Politician --library lib.json
    $ knowcoder schema render lib.json schema_files/
    $ knowcoder schema train-ranker lib.json rankers/ train.jsonl more_train.jsonl
"""
from pathlib import Path
from typing import Dict, List, Optional

import typer
from wasabi import msg

from ..fileio import write_json
from ..schema.library import SchemaLibrary
from ..schema.render import render_entity, render_event_eae, render_relation
from . import app

schema_app = typer.Typer(help="Build and inspect KnowCoder schema libraries.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")
DEFAULT_LIBRARY = Path("schema_library.json")


@schema_app.command("build")
def build_cli(
    output: Path = typer.Option(..., "--output", "-o", help="The library JSON to write."),
    data_root: Optional[Path] = typer.Option(
        None, "--data-root", help="Data folder with fewrel/, re_docred/, geneva/, wikievents/."),
    wikidata_schema: Optional[Path] = typer.Option(
        None, "--wikidata-schema", help="Folder with dbpedia_ontology/ and property lists "
        "(default: DATA_ROOT/wikidata_schema)."),
    dump: Optional[Path] = typer.Option(
        None, "--dump", help="A Wikidata JSON dump (.json, .json.gz, .json.bz2)."),
    released: Optional[Path] = typer.Option(
        None, "--released", help="Folder with the released Entities.py/Relations.py/Events.py."),
    cooccurrence: Optional[List[Path]] = typer.Option(
        None, "--cooccurrence", help="DocRED-format files for derived head/tail types "
        "(default: DATA_ROOT/re_docred/dev_revised.json)."),
    min_instances: int = typer.Option(
        0, "--min-instances", help="With --dump: keep classes with this many instances."),
    render_dir: Optional[Path] = typer.Option(
        None, "--render-dir", help="Also write Entities.py, Relations.py, Events.py here."),
) -> None:
    """Build a schema library from Wikidata-style sources and save it as JSON."""
    from ..schema.builders.shared_data import build_from_shared_data

    if not any((data_root, wikidata_schema, dump, released)):
        msg.fail("Give at least one source: --data-root, --wikidata-schema, --dump or "
                 "--released.", exits=1)
    try:
        library, report = build_from_shared_data(
            data_root, wikidata_schema=wikidata_schema, dump=dump, released=released,
            cooccurrence=cooccurrence or None, min_instances=min_instances)
    except (OSError, ValueError) as err:
        msg.fail(str(err), exits=1)
    library.to_disk(output)
    msg.good(f"Saved {len(library)} classes to {output}")
    if report.missing:
        msg.warn(f"{len(report.missing)} source file(s) not found: "
                 + ", ".join(report.missing))
    if report.dump is not None and report.dump.malformed:
        msg.warn(f"Skipped {report.dump.malformed} malformed dump line(s), first at "
                 + ", ".join(map(str, report.dump.malformed_lines)))
    if render_dir is not None:
        for path in library.write_files(render_dir):
            msg.good(f"Wrote {path}")
    _print_stats(library)


@schema_app.command("stats")
def stats_cli(
    library: Path = typer.Argument(DEFAULT_LIBRARY, help="The library JSON."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write JSON."),
) -> None:
    """Print how many classes a library has, with and without descriptions."""
    lib = _load(library)
    stats = _print_stats(lib)
    if output is not None:
        write_json(output, stats)


@schema_app.command("show")
def show_cli(
    name: str = typer.Argument(..., help="A class name, label or key (e.g. Q5)."),
    library: Path = typer.Option(DEFAULT_LIBRARY, "--library", "-l", help="The library JSON."),
) -> None:
    """Print a class as KnowCoder code, with its ancestors."""
    lib = _load(library)
    try:
        key = lib.find(name)
    except KeyError as err:
        msg.fail(str(err.args[0]), exits=1)
    typer.echo(render_class(lib, key))


def render_class(lib: SchemaLibrary, key: str) -> str:
    """A class's code, an ancestry line and its ancestors' code (nearest first).

    Example:
        >>> from spacy_knowcoder.schema.library import LibraryClass
        >>> lib = SchemaLibrary([LibraryClass("entity", "Q5", "person"),
        ...                      LibraryClass("entity", "Q1", "politician", parents=("Q5",))])
        >>> print(render_class(lib, "Q1").splitlines()[0])
        # Politician (key Q1, label 'politician'): Politician -> Person -> Entity
    """
    ancestors = lib.ancestors(key)
    chain = " -> ".join([lib.class_name(key)] + [lib.class_name(a) for a in ancestors]
                        + [{"entity": "Entity", "relation": "Relation", "event": "Event"}[
                            lib[key].kind]])
    header = f"# {lib.class_name(key)} (key {key}, label {lib.label(key)!r}): {chain}"
    blocks = [header, _render(lib, key)]
    for ancestor in ancestors:
        blocks.append(_render(lib, ancestor))
    return "\n".join(blocks)


def _render(lib: SchemaLibrary, key: str) -> str:
    render = {"entity": render_entity, "relation": render_relation,
              "event": render_event_eae}[lib[key].kind]
    return render(lib.schema_type(key))  # type: ignore[operator]


@schema_app.command("render")
def render_cli(
    library: Path = typer.Argument(..., help="The library JSON."),
    output_dir: Path = typer.Argument(..., help="Folder for Entities.py, Relations.py, Events.py."),
) -> None:
    """Write a library as the three Python files of the released schema library."""
    for path in _load(library).write_files(output_dir):
        msg.good(f"Wrote {path}")


@schema_app.command("train-ranker")
def train_ranker_cli(
    library: Path = typer.Argument(..., help="The library JSON."),
    output_dir: Path = typer.Argument(..., help="Folder for entity/relation/event.msgpack."),
    data: List[Path] = typer.Argument(..., help="Benchmark JSONL files (DESIGN §5) whose "
                                      "labels are classes of the library."),
    skip_unknown: bool = typer.Option(
        False, "--skip-unknown", help="Ignore labels the library lacks (default: fail)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Records per file."),
) -> None:
    """Learn which classes go with which words, for spacy_knowcoder.learned_selection.v1."""
    from ..corpora.benchmark import read_benchmark
    from ..schema.ranker import ClassRanker
    from ..schema.selection import save_rankers

    lib = _load(library)
    examples: Dict[str, List] = {"entity": [], "relation": [], "event": []}
    unknown: Dict[str, int] = {}
    for path in data:
        try:
            records = read_benchmark(path, limit=limit)
        except (OSError, ValueError) as err:
            msg.fail(str(err), exits=1)
        for record in records:
            for kind, field in (("entity", "entities"), ("relation", "relations"),
                                ("event", "events")):
                keys = []
                for item in record.get(field) or []:
                    label = item.get("label") or item.get("type")
                    key = lib.resolve(str(label), kind) if label else None
                    if key is None:
                        unknown[f"{kind} {label!r}"] = unknown.get(f"{kind} {label!r}", 0) + 1
                    else:
                        keys.append(key)
                if keys:
                    examples[kind].append((record["text"], keys))
    if unknown and not skip_unknown:
        shown = ", ".join(f"{name} ({n}x)" for name, n in sorted(unknown.items())[:8])
        msg.fail(f"{len(unknown)} label(s) in the data are not classes of {library}: "
                 f"{shown}. Fix: add them to the library (knowcoder schema build), or "
                 "pass --skip-unknown to train without them.", exits=1)
    if unknown:
        msg.warn(f"Skipped {sum(unknown.values())} mention(s) of {len(unknown)} unknown "
                 "label(s)")
    rankers = [ClassRanker.train(kind, pairs) for kind, pairs in examples.items() if pairs]
    if not rankers:
        msg.fail("No mention in the data has a label of the library; nothing to learn.",
                 exits=1)
    for ranker, path in zip(rankers, save_rankers(rankers, output_dir), strict=True):
        n_texts = len(examples[ranker.kind])
        msg.good(f"Wrote {path}: {len(ranker)} {ranker.kind} classes from {n_texts} texts")


def _load(path: Path) -> SchemaLibrary:
    try:
        return SchemaLibrary.from_disk(path)
    except (OSError, ValueError) as err:
        msg.fail(str(err), exits=1)
        raise


def _print_stats(lib: SchemaLibrary) -> Dict[str, Dict[str, int]]:
    stats = lib.stats()
    columns = sorted({c for row in stats.values() for c in row},
                     key=lambda c: (c != "classes", c))
    rows = [[kind] + [row.get(c, "") for c in columns] for kind, row in stats.items()]
    msg.table(rows, header=["kind"] + columns, divider=True)
    return stats
