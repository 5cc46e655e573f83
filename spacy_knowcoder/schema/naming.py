"""Derive Python class names from spaCy labels.

Words are split on anything that is not a letter or digit and on camelCase
boundaries, then joined in CamelCase. Labels that start with a digit get a
``Type`` prefix; a result that is a Python keyword gets a ``Type`` suffix.

Example:
    >>> class_name_for_label("born in")
    'BornIn'
    >>> class_name_for_label("WORK_OF_ART")
    'WorkOfArt'
    >>> class_name_for_label("2nd place")
    'Type2ndPlace'
"""
import keyword
from typing import List

from ..errors import Errors


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
