"""Read the released KnowCoder-Schema-Library files (Entities.py, Relations.py, Events.py).

The files are Python source; they are parsed with ``ast`` through
``schema_from_source`` (nothing is executed). Each class keeps its released
class name (the key), its parents, description, examples, head/tail
annotations and roles. ``SchemaLibrary.render_files`` writes the same three
files, so a library round-trips through this reader.

Example:
    >>> lib = build_from_released("KnowCoder-Schema-Library/")  # doctest: +SKIP
"""
from pathlib import Path
from typing import Iterable, List, Optional, Union

from ...fileio import read_text
from ..library import LibraryClass, SchemaLibrary
from ..source import schema_from_source
from ..types import BASE_CLASSES

RELEASED_FILES = ("Entities.py", "Relations.py", "Events.py")


def released_classes(source: str, where: str = "<string>") -> List[LibraryClass]:
    """Library classes from one released file's source."""
    schema = schema_from_source(source, where=where)
    out = []
    for t in schema:
        out.append(LibraryClass(
            t.kind, t.class_name, t.label, t.description, examples=tuple(t.examples),
            parents=tuple(p for p in t.parents if p not in BASE_CLASSES),
            head=getattr(t, "head", ()), tail=getattr(t, "tail", ()),
            roles=getattr(t, "roles", ()), sources=("knowcoder-schema-library",),
            class_name=t.class_name))
    return out


def build_from_released(paths: Union[str, Path, Iterable[Union[str, Path]]],
                        library: Optional[SchemaLibrary] = None) -> SchemaLibrary:
    """Add the classes of released files (a folder holding them, or file paths)."""
    library = library if library is not None else SchemaLibrary()
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        files = [Path(paths) / name for name in RELEASED_FILES if (Path(paths) / name).is_file()]
    elif isinstance(paths, (str, Path)):
        files = [Path(paths)]
    else:
        files = [Path(p) for p in paths]
    for path in files:
        for cls in released_classes(read_text(path), where=str(path)):
            library.add(cls)
    return library
