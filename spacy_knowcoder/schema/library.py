"""A schema library: thousands of classes with a taxonomy, constraints and statistics.

KnowCoder's schema library (about 29k entity, 900 relation and 500 event types
from Wikidata) is too big for one prompt. ``SchemaLibrary`` holds such a
library: every class has a stable *key* (a Wikidata id such as ``Q5``/``P19``
or a namespaced id such as ``dbo:Person``), a spaCy label, a description,
aliases, examples, parents (keys, the "subclass of" taxonomy), relation
head/tail constraints (entity keys), event roles and an instance count. The
Python class names are derived once, deterministically (see
``assign_class_names``), and are stored with the library so that they stay
the same when it is loaded again.

Example:
    >>> lib = SchemaLibrary([
    ...     LibraryClass("entity", "Q5", "human", "A person.", aliases=("person",)),
    ...     LibraryClass("entity", "Q901", "scientist", parents=("Q5",)),
    ...     LibraryClass("relation", "P19", "place of birth", head=("Q5",)),
    ... ])
    >>> lib.class_name("Q901"), lib.ancestors("Q901")
    ('Scientist', ['Q5'])
    >>> lib.to_schema(["P19"]).relations[0].head
    ('Human',)
"""
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from ..errors import Errors, Warnings, warn
from ..fileio import read_text, write_json, write_text
from .hierarchy import find_cycles, parents_first, walk
from .naming import assign_class_names
from .render import (
    ENTITY_BASE,
    EVENT_BASE_EAE,
    RELATION_BASE,
    render_entity,
    render_event_eae,
    render_relation,
)
from .types import (
    BASE_CLASSES,
    BASE_ENTITY,
    BASE_EVENT,
    BASE_RELATION,
    EntityType,
    EventType,
    RelationType,
    Schema,
    SchemaType,
)

KINDS = ("entity", "relation", "event")
FORMAT = "spacy-knowcoder-schema-library"
VERSION = 1
_BASE_OF = {"entity": BASE_ENTITY, "relation": BASE_RELATION, "event": BASE_EVENT}


@dataclass(frozen=True)
class LibraryClass:
    """One class of the library (plain data; class names are assigned by the library).

    kind (str): "entity", "relation" or "event".
    key (str): Stable id, e.g. "Q5", "P19", "dbo:Person", "geneva:Know".
    label (str): The English label, also the default spaCy label.
    description (str): One line for the docstring.
    aliases (Tuple[str, ...]): Other names (used for retrieval).
    examples (tuple): Example mentions (relations: (head, tail) pairs).
    parents (Tuple[str, ...]): Keys of the parent classes ("subclass of").
    head / tail (Tuple[str, ...]): Entity keys allowed as relation head / tail.
    roles (Tuple[str, ...]): Event argument roles.
    same_as (Tuple[str, ...]): Other ids of the same class (merged on add).
    count (int): Instances seen in data (a retrieval prior).
    sources (Tuple[str, ...]): Where the class came from.
    class_name (Optional[str]): A fixed Python class name (else derived).
    """

    kind: str
    key: str
    label: str
    description: str = ""
    aliases: Tuple[str, ...] = ()
    examples: Tuple[Any, ...] = ()
    parents: Tuple[str, ...] = ()
    head: Tuple[str, ...] = ()
    tail: Tuple[str, ...] = ()
    roles: Tuple[str, ...] = ()
    same_as: Tuple[str, ...] = ()
    count: int = 0
    sources: Tuple[str, ...] = ()
    class_name: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(Errors.E202.format(where=repr(self.key), reason=f"kind {self.kind!r}",
                                                expected="'entity', 'relation' or 'event'"))
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(Errors.E202.format(where=repr(self.label), reason="empty key",
                                                expected="a non-empty string key"))
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(Errors.E202.format(where=repr(self.key), reason="empty label",
                                                expected="a non-empty label"))


def merge_classes(old: LibraryClass, new: LibraryClass) -> LibraryClass:
    """Combine two records of the same class: ``old`` wins, ``new`` fills gaps."""
    def union(a: Tuple[Any, ...], b: Tuple[Any, ...]) -> Tuple[Any, ...]:
        return tuple(dict.fromkeys(a + b))

    aliases = union(old.aliases, new.aliases + ((new.label,) if new.label != old.label else ()))
    return replace(
        old, description=old.description or new.description, aliases=aliases,
        examples=old.examples or new.examples, parents=union(old.parents, new.parents),
        head=old.head or new.head, tail=old.tail or new.tail, roles=old.roles or new.roles,
        same_as=union(old.same_as, (new.key,) + new.same_as), count=max(old.count, new.count),
        sources=union(old.sources, new.sources), class_name=old.class_name or new.class_name)


class SchemaLibrary:
    """A set of classes with a taxonomy, constraints, class names and spaCy labels.

    classes (Iterable[LibraryClass]): The classes; records with the same key (or
        a shared id in ``same_as``) are merged, the first one winning.
    """

    def __init__(self, classes: Iterable[LibraryClass] = ()) -> None:
        self._classes: Dict[str, LibraryClass] = {}
        self._ids: Dict[str, str] = {}
        self._label_overrides: Dict[str, str] = {}
        self._cache: Dict[str, Any] = {}
        for cls in classes:
            self.add(cls)

    # -- building ------------------------------------------------------------

    def add(self, cls: LibraryClass) -> str:
        """Add or merge a class. RETURNS (str): The key it is stored under."""
        key = self._find(cls)
        if key is None:
            key = cls.key
            self._classes[key] = cls
        else:
            self._classes[key] = merge_classes(self._classes[key], cls)
        for id_ in (cls.key,) + cls.same_as:
            self._ids.setdefault(f"{cls.kind}:{id_}", key)
        self._cache.clear()
        return key

    def _find(self, cls: LibraryClass) -> Optional[str]:
        for id_ in (cls.key,) + cls.same_as:
            key = self._ids.get(f"{cls.kind}:{id_}")
            if key is not None:
                return key
        return None

    def update(self, key: str, **changes: Any) -> None:
        """Replace fields of a class, e.g. ``update("P19", head=("Q5",))``."""
        self._classes[key] = replace(self[key], **changes)
        if {"label", "class_name", "kind"} & set(changes):
            self._cache.clear()
        else:  # names and labels stay valid
            self._cache.pop("types", None)
            self._cache.pop("children", None)

    def remove(self, keys: Iterable[str]) -> None:
        """Drop classes (references to them are dropped when schemas are built)."""
        for key in keys:
            self._classes.pop(key, None)
        self._ids = {i: k for i, k in self._ids.items() if k in self._classes}
        self._cache.clear()

    # -- lookup --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, key: object) -> bool:
        return key in self._classes

    def __getitem__(self, key: str) -> LibraryClass:
        return self._classes[key]

    def __iter__(self) -> Iterator[LibraryClass]:
        return iter(self._classes.values())

    def keys(self, kind: Optional[str] = None) -> List[str]:
        """Keys of all classes (of one kind), in insertion order."""
        return [k for k, c in self._classes.items() if kind is None or c.kind == kind]

    def resolve(self, id_: str, kind: str = "entity", *, names: bool = True) -> Optional[str]:
        """The key of the class with this key, id in ``same_as``, class name or label.

        names (bool): Also look at class names and labels (they are computed for
            the whole library, so leave this off while adding many classes).
        """
        key = self._ids.get(f"{kind}:{id_}")
        if key is not None or not names:
            return key
        by_name = self._by_name().get(id_)
        if by_name is not None and self._classes[by_name].kind == kind:
            return by_name
        return self._by_label(kind).get(id_)

    def find(self, name: str) -> str:
        """The key for a class name, key or label of any kind; E205 if unknown."""
        for kind in KINDS:
            key = self.resolve(name, kind)
            if key is not None:
                return key
        lowered = name.lower()
        similar = sorted(n for n in self._by_name() if lowered in n.lower())[:5]
        raise KeyError(Errors.E205.format(name=name, similar=", ".join(similar) or "(none)"))

    # -- class names and labels ----------------------------------------------

    def class_name(self, key: str) -> str:
        """The Python class name of a class."""
        return self._names()[key]

    def _names(self) -> Dict[str, str]:
        if "names" not in self._cache:
            self._cache["names"] = assign_class_names(self._classes.values())
        return self._cache["names"]

    def _by_name(self) -> Dict[str, str]:
        if "by_name" not in self._cache:
            self._cache["by_name"] = {n: k for k, n in self._names().items()}
        return self._cache["by_name"]

    def label(self, key: str) -> str:
        """The spaCy label of a class (labels are unique within a kind)."""
        return self._labels()[key]

    def _labels(self) -> Dict[str, str]:
        if "labels" not in self._cache:
            labels: Dict[str, str] = {}
            seen: Dict[Tuple[str, str], str] = {}
            for key, cls in self._classes.items():
                name = self._names()[key]
                label = self._label_overrides.get(name, cls.label)
                if (cls.kind, label) in seen:  # a second "mercury": keep it apart
                    label = f"{label} ({key})"
                seen[(cls.kind, label)] = key
                labels[key] = label
            self._cache["labels"] = labels
        return self._cache["labels"]

    def _by_label(self, kind: str) -> Dict[str, str]:
        cache_key = f"by_label:{kind}"
        if cache_key not in self._cache:
            self._cache[cache_key] = {label: key for key, label in self._labels().items()
                                      if self._classes[key].kind == kind}
        return self._cache[cache_key]

    @property
    def labels(self) -> Dict[str, str]:
        """The spaCy label mapping: class name -> label."""
        names = self._names()
        return {names[key]: label for key, label in self._labels().items()}

    @property
    def label_overrides(self) -> Dict[str, str]:
        """The labels set by ``set_labels`` (class name -> label), as ``to_dict`` saves them."""
        return dict(self._label_overrides)

    def set_labels(self, mapping: Mapping[str, str]) -> None:
        """Override spaCy labels by class name; an unknown class raises E200.

        mapping (Mapping[str, str]): class name -> spaCy label.
        """
        names = self._by_name()
        for class_name in mapping:
            if class_name not in names:
                known = ", ".join(sorted(names)[:5]) or "(none)"
                raise ValueError(Errors.E200.format(class_name=class_name, known=known))
        self._label_overrides.update(mapping)
        self._cache.clear()

    # -- taxonomy ------------------------------------------------------------

    def parents(self, key: str) -> List[str]:
        """Parent keys that are in the library (same kind, not the class itself)."""
        cls = self._classes[key]
        return [p for p in (self.resolve(p, cls.kind) for p in cls.parents)
                if p is not None and p != key and self._classes[p].kind == cls.kind]

    def children(self, key: str) -> List[str]:
        """Direct subclasses of a class."""
        if "children" not in self._cache:
            children: Dict[str, List[str]] = defaultdict(list)
            for k in self._classes:
                for parent in self.parents(k):
                    children[parent].append(k)
            self._cache["children"] = children
        return list(self._cache["children"].get(key, ()))

    def ancestors(self, key: str, max_depth: Optional[int] = None) -> List[str]:
        """All ancestors, nearest first (breadth-first; cycles cannot hang it)."""
        return walk(key, self.parents, max_depth)

    def descendants(self, key: str, max_depth: Optional[int] = None) -> List[str]:
        """All descendants, nearest first."""
        return walk(key, self.children, max_depth)

    def cycles(self) -> List[List[str]]:
        """Taxonomy cycles, each as a list of keys (at most one per cycle entry point)."""
        return find_cycles(self._classes, self.parents)

    # -- schemas -------------------------------------------------------------

    def schema_type(self, key: str) -> SchemaType:
        """The ``EntityType``/``RelationType``/``EventType`` of one class (cached)."""
        types = self._cache.setdefault("types", {})
        if key not in types:
            types[key] = self._build_type(key)
        return types[key]

    def _build_type(self, key: str) -> SchemaType:
        cls = self._classes[key]
        names = self._names()
        common = dict(label=self._labels()[key], class_name=names[key],
                      description=_one_line(cls.description),
                      parents=tuple(names[p] for p in self.parents(key)) or (_BASE_OF[cls.kind],),
                      wikidata_id=_wikidata_id(cls))
        if cls.kind == "entity":
            return EntityType(examples=tuple(cls.examples), **common)
        if cls.kind == "relation":
            return RelationType(examples=tuple(tuple(e) for e in cls.examples),
                                head=self._entity_names(cls.head),
                                tail=self._entity_names(cls.tail), **common)
        return EventType(examples=tuple(cls.examples), roles=cls.roles, **common)

    def _entity_names(self, ids: Sequence[str]) -> Tuple[str, ...]:
        keys = (self.resolve(i, "entity") for i in ids)
        return tuple(dict.fromkeys(self._names()[k] for k in keys if k is not None))

    def to_schema(self, keys: Optional[Iterable[str]] = None) -> Schema:
        """A ``Schema`` of the given classes (default: all), in the given order."""
        keys = list(self._classes) if keys is None else list(keys)
        by_kind: Dict[str, List[SchemaType]] = {kind: [] for kind in KINDS}
        for key in keys:
            by_kind[self._classes[key].kind].append(self.schema_type(key))
        return Schema(entities=tuple(by_kind["entity"]), relations=tuple(by_kind["relation"]),
                      events=tuple(by_kind["event"]))

    @classmethod
    def from_schema(cls, schema: Schema) -> "SchemaLibrary":
        """A library holding the classes of a schema (keys = class names)."""
        lib = cls()
        for t in schema:
            parents = tuple(p for p in t.parents if p not in BASE_CLASSES)
            lib.add(LibraryClass(
                kind=t.kind, key=t.class_name, label=t.label, description=t.description,
                examples=tuple(t.examples), parents=parents, head=getattr(t, "head", ()),
                tail=getattr(t, "tail", ()), roles=getattr(t, "roles", ()),
                same_as=(t.wikidata_id,) if t.wikidata_id else (), sources=("schema",),
                class_name=t.class_name))
        return lib

    # -- statistics ----------------------------------------------------------

    def stats(self) -> Dict[str, Dict[str, int]]:
        """Counts per kind: classes, with/without description, constraints, roles, ..."""
        out: Dict[str, Dict[str, int]] = {}
        for kind in KINDS:
            keys = self.keys(kind)
            classes = [self._classes[k] for k in keys]
            row = {"classes": len(classes),
                   "with_description": sum(bool(c.description) for c in classes),
                   "without_description": sum(not c.description for c in classes),
                   "with_parents": sum(bool(self.parents(k)) for k in keys),
                   "with_examples": sum(bool(c.examples) for c in classes),
                   "with_count": sum(c.count > 0 for c in classes)}
            if kind == "relation":
                row["with_head_or_tail"] = sum(bool(self._entity_names(c.head + c.tail))
                                               for c in classes)
                row["with_head_and_tail"] = sum(
                    bool(self._entity_names(c.head)) and bool(self._entity_names(c.tail))
                    for c in classes)
            if kind == "event":
                row["with_roles"] = sum(bool(c.roles) for c in classes)
            out[kind] = row
        return out

    # -- serialization -------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """JSON-serializable form; class names are stored so they stay stable."""
        names = self._names()
        classes = []
        for key, cls in self._classes.items():
            data = {k: v for k, v in asdict(cls).items() if v not in ((), None, "", 0)}
            data.update(kind=cls.kind, key=key, label=cls.label, class_name=names[key])
            classes.append(data)
        return {"format": FORMAT, "version": VERSION, "labels": dict(self._label_overrides),
                "classes": classes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "<dict>") -> "SchemaLibrary":
        """Inverse of ``to_dict``; malformed entries raise E202 naming the entry."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(Errors.E201.format(path=where, reason="not a schema library"))
        lib = cls()
        fields = set(LibraryClass.__dataclass_fields__)
        for i, entry in enumerate(data.get("classes", [])):
            if not isinstance(entry, Mapping) or set(entry) - fields:
                extra = sorted(set(entry) - fields) if isinstance(entry, Mapping) else entry
                raise ValueError(Errors.E202.format(where=f"#{i} of {where}",
                                                    reason=f"unexpected {extra!r}",
                                                    expected=f"keys from {sorted(fields)}"))
            try:
                lib.add(LibraryClass(**_tuples(entry)))
            except TypeError as err:
                raise ValueError(Errors.E202.format(where=f"#{i} of {where}", reason=err,
                                                    expected="kind, key and label")) from None
        if data.get("labels"):
            lib.set_labels(data["labels"])
        return lib

    def to_disk(self, path: Union[str, Path]) -> None:
        """Save as JSON (atomically)."""
        write_json(path, self.to_dict(), indent=0)

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "SchemaLibrary":
        """Load a library saved by ``to_disk``."""
        import srsly

        try:
            data = srsly.json_loads(read_text(path))
        except ValueError as err:
            raise ValueError(Errors.E201.format(path=path, reason=err)) from None
        return cls.from_dict(data, where=str(path))

    def render_files(self) -> Dict[str, str]:
        """The library as the released three files: Entities.py, Relations.py, Events.py."""
        files = {}
        for kind, filename, base, render in (
                ("entity", "Entities.py", ENTITY_BASE, render_entity),
                ("relation", "Relations.py", ENTITY_BASE + "\n" + RELATION_BASE, render_relation),
                ("event", "Events.py", ENTITY_BASE + "\n" + EVENT_BASE_EAE, render_event_eae)):
            blocks = [base] + [render(self.schema_type(k))  # type: ignore[operator]
                               for k in self.topological(kind)]
            files[filename] = "\n".join(blocks)
        return files

    def write_files(self, directory: Union[str, Path]) -> List[Path]:
        """Write ``render_files`` into a directory. RETURNS (List[Path]): The files."""
        paths = []
        for filename, text in self.render_files().items():
            path = Path(directory) / filename
            write_text(path, text)
            paths.append(path)
        return paths

    def topological(self, kind: str) -> List[str]:
        """Keys of one kind with every parent before its children (cycles broken)."""
        return parents_first(self.keys(kind), self.parents)

def _one_line(text: str) -> str:
    return " ".join(text.split())


def _wikidata_id(cls: LibraryClass) -> Optional[str]:
    for id_ in (cls.key,) + cls.same_as:
        if re.fullmatch(r"[QP]\d+", id_):
            return id_
    return None


def _tuples(entry: Mapping[str, Any]) -> Dict[str, Any]:
    out = {}
    for key, value in entry.items():
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        out[key] = value
    return out


def warn_unresolved(library: SchemaLibrary, what: str = "parents and constraints") -> int:
    """Warn (W201) about parents/head/tail that name classes missing from the library.

    RETURNS (int): The number of dropped references.
    """
    missing: List[str] = []
    for cls in library:
        for ref in cls.parents:
            if library.resolve(ref, cls.kind) is None:
                missing.append(ref)
        for ref in cls.head + cls.tail:
            if library.resolve(ref, "entity") is None:
                missing.append(ref)
    if missing:
        examples = ", ".join(sorted(set(missing))[:5])
        warn(Warnings.W201.format(count=len(missing), examples=examples, what=what))
    return len(missing)


def warn_cycles(library: SchemaLibrary) -> int:
    """Warn (W202) about taxonomy cycles. RETURNS (int): How many were found."""
    cycles = library.cycles()
    if cycles:
        warn(Warnings.W202.format(count=len(cycles), example=" -> ".join(cycles[0])))
    return len(cycles)
