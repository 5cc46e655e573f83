"""The coded messages of spacy_knowcoder.errors are well formed and used.

Checks on the source (with ``ast``, since a duplicated name in a class body
silently replaces the first) and on the formatted messages.
"""
import ast
import re
import string
import warnings
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from spacy_knowcoder import errors
from spacy_knowcoder.errors import PREFIX, Errors, Warnings, warn

PACKAGE = Path(errors.__file__).resolve().parent
REPO = PACKAGE.parent
ERRORS_SOURCE = Path(errors.__file__).read_text(encoding="utf-8")
CODE_NAME = re.compile(r"^[EW]\d{3}$")


def _assignments(class_name: str) -> List[Tuple[str, int]]:
    tree = ast.parse(ERRORS_SOURCE)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    names = []
    for node in cls.body:
        if isinstance(node, ast.Assign):
            names.extend((t.id, node.lineno) for t in node.targets if isinstance(t, ast.Name))
    return names


def _codes(cls: type) -> Dict[str, str]:
    return {name: getattr(cls, name) for name in vars(cls) if CODE_NAME.match(name)}


ALL_CODES = sorted([("Errors", c) for c in _codes(Errors)] +
                   [("Warnings", c) for c in _codes(Warnings)])


@pytest.mark.parametrize("class_name,letter", [("Errors", "E"), ("Warnings", "W")])
def test_codes_are_unique_and_named_by_class(class_name: str, letter: str) -> None:
    names = _assignments(class_name)
    assert names, f"{class_name} defines no codes"
    seen: Dict[str, int] = {}
    for name, line in names:
        assert CODE_NAME.match(name), f"{class_name}.{name} (line {line}) is not a code"
        assert name.startswith(letter), f"{name} belongs in {'Errors' if letter == 'W' else 'Warnings'}"
        assert name not in seen, f"{name} is defined twice (lines {seen[name]} and {line})"
        seen[name] = line


def test_errors_and_warnings_share_no_number() -> None:
    numbers_e = {name[1:] for name in _codes(Errors)}
    numbers_w = {name[1:] for name in _codes(Warnings)}
    assert numbers_e and numbers_w
    # Sharing a number is allowed (E100 and W100 are different codes), but a code
    # never appears under the wrong letter in a message.
    for cls in (Errors, Warnings):
        for name, message in _codes(cls).items():
            assert message.startswith(f"{PREFIX} [{name}] "), message


@pytest.mark.parametrize("class_name,code", ALL_CODES)
def test_message_formats_with_its_named_fields(class_name: str, code: str) -> None:
    template = getattr(Errors if class_name == "Errors" else Warnings, code)
    fields = set()
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        assert field, f"{code} has a positional '{{}}' field; name every field"
        assert not field[0].isdigit(), f"{code} has a numbered field {{{field}}}"
        assert re.match(r"^[A-Za-z_]\w*$", field), f"{code}: odd field {{{field}}}"
        assert conversion in (None, "r", "s"), f"{code}: conversion !{conversion}"
        fields.add(field)
    values = {name: _Placeholder(name) for name in fields}
    message = template.format(**values)
    for name in fields:
        assert f"<{name}>" in message
    literal_braces = template.count("{{") + template.count("}}")
    assert message.count("{") + message.count("}") == literal_braces, message


class _Placeholder:
    """A value for any field and format spec ({x!r}, {x:.2f}, {x:>5})."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return f"<{self.name}>"

    def __repr__(self) -> str:
        return f"<{self.name}>"

    __str__ = __repr__


@pytest.mark.parametrize("class_name,code", ALL_CODES)
def test_message_says_enough(class_name: str, code: str) -> None:
    body = getattr(Errors if class_name == "Errors" else Warnings, code)
    body = body[len(f"{PREFIX} [{code}] "):]
    assert len(body) >= 40, f"{code} is too short to say what was expected and found"
    assert body == body.strip() and "  " not in body, f"{code}: stray spaces in {body!r}"


@pytest.mark.parametrize("class_name,code", ALL_CODES)
def test_every_code_is_used(class_name: str, code: str) -> None:
    """A code that nothing raises is dead text; each one is referenced in code."""
    pattern = re.compile(rf"\b{class_name}\.{code}\b")
    for path in list(PACKAGE.rglob("*.py")) + list((REPO / "training").rglob("*.py")):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            return
    pytest.fail(f"{class_name}.{code} is defined but never used in the package")


def test_warn_points_at_the_caller() -> None:
    def library_function() -> None:
        warn(Warnings.W001.format(count=1, kind="entities", n_docs=1, n_total=1, doc="d",
                                  reason="r"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        library_function()
    assert len(caught) == 1
    assert "[W001]" in str(caught[0].message)
    assert caught[0].filename == __file__
