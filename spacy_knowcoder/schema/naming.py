"""Derive Python class names from spaCy labels.

Words are split on anything that is not a letter or digit and on camelCase
boundaries, then joined in CamelCase. Labels that start with a digit get a
``Type`` prefix; a result that is a Python keyword gets a ``Type`` suffix.

A library's classes get unique names in one namespace (``assign_class_names``):
the name each asks for (``base_class_name``), with clashes resolved by kind and
key, the same whatever order the classes come in.

Example:
    >>> class_name_for_label("born in")
    'BornIn'
    >>> class_name_for_label("WORK_OF_ART")
    'WorkOfArt'
    >>> class_name_for_label("2nd place")
    'Type2ndPlace'
"""
import keyword
import re
from collections import defaultdict
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Protocol, Tuple

from ..errors import Errors
from .types import BASE_CLASSES

#: Among classes that ask for one name, the order of kinds that keep it.
_KIND_RANK = {"entity": 0, "event": 1, "relation": 2}


class NamedClass(Protocol):
    """What naming needs of a library class (``library.LibraryClass``)."""

    kind: str
    key: str
    label: str
    class_name: Optional[str]


def class_name_for_label(label: str) -> str:
    """Turn a spaCy label into a valid Python class name.

    label (str): The label, e.g. "person", "born in", "ORG".
    RETURNS (str): A CamelCase identifier, e.g. "Person", "BornIn", "Org".
    """
    if not isinstance(label, str) or not label.strip():
        raise ValueError(Errors.E003.format(label=label, reason="the label is empty"))
    words = _split_words(label)
    if not any(char.isalpha() for word in words for char in word):
        raise ValueError(Errors.E003.format(label=label, reason="it has no letters"))
    name = "".join(_capitalize(word) for word in words)
    if name[0].isdigit():
        name = "Type" + name
    if keyword.iskeyword(name):
        name += "Type"
    if not name.isidentifier():
        reason = f"'{name}' is not a Python identifier"
        raise ValueError(Errors.E003.format(label=label, reason=reason))
    return name


def _split_words(label: str) -> List[str]:
    words: List[str] = []
    current: List[str] = []
    for i, char in enumerate(label):
        if not char.isalnum():
            _flush(current, words)
            continue
        previous = label[i - 1] if i else ""
        if current and char.isupper() and previous.islower():
            _flush(current, words)
        current.append(char)
    _flush(current, words)
    return words


def _flush(current: List[str], words: List[str]) -> None:
    if current:
        words.append("".join(current))
        current.clear()


def _capitalize(word: str) -> str:
    if word.isupper() or word.islower():
        return word[:1].upper() + word[1:].lower()
    return word[:1].upper() + word[1:]


def is_valid_class_name(name: str) -> bool:
    """Whether ``name`` can be used as a class name in a prompt."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def _natural(key: str) -> Tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


def base_class_name(cls: "NamedClass") -> str:
    """The class name a class asks for before clashes are resolved.

    Example:
        >>> from spacy_knowcoder.schema.library import LibraryClass
        >>> base_class_name(LibraryClass("entity", "Q5", "human")), base_class_name(
        ...     LibraryClass("entity", "x:1", "entity"))
        ('Human', 'EntityType')
    """
    return _requested_name(cls.label, cls.key, cls.class_name)


@lru_cache(maxsize=200_000)
def _requested_name(label: str, key: str, class_name: Optional[str]) -> str:
    if class_name:
        name = class_name
    else:
        try:
            name = class_name_for_label(label)
        except ValueError:
            name = class_name_for_label(key)
    if name in BASE_CLASSES:  # never shadow Entity / Relation / Event
        name += "Type"
    return name


def _suffix(cls: "NamedClass") -> str:
    namespace, sep, rest = cls.key.partition(":")
    raw = namespace if sep else cls.key
    return re.sub(r"\W", "", raw[:1].upper() + raw[1:]) or "X"


def assign_class_names(classes: Iterable["NamedClass"]) -> Dict[str, str]:
    """Unique, valid, deterministic Python class names for all classes (one namespace).

    Classes that ask for the same name are ordered by kind (entity, event,
    relation), a fixed ``class_name`` first, then the key in natural order; the
    first keeps the name, a later one of another kind gets its kind appended
    (``CountryRelation``), one of the same kind its key (``MercuryQ308``). The
    result depends only on the set of classes, not on the order they came in.

    RETURNS (Dict[str, str]): key -> class name.
    """
    groups: Dict[str, List["NamedClass"]] = defaultdict(list)
    for cls in classes:
        groups[base_class_name(cls)].append(cls)
    taken = set(groups)
    names: Dict[str, str] = {}
    for base in sorted(groups):
        members = sorted(groups[base], key=lambda c: (
            _KIND_RANK[c.kind], c.class_name != base, _natural(c.key)))
        winner = members[0]
        names[winner.key] = base
        for cls in members[1:]:
            options = ([base + cls.kind.title()] if cls.kind != winner.kind else []) + \
                      [base + _suffix(cls), base + _suffix(cls) + re.sub(r"\W", "", cls.key)]
            name = next((o for o in options if o not in taken), None)
            n = 2
            while name is None or name in taken:
                name = f"{options[-1]}{n}"
                n += 1
            taken.add(name)
            names[cls.key] = name
    assert all(n.isidentifier() and not keyword.iskeyword(n) for n in names.values())
    return names
