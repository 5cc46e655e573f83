"""Static check: the modules that read untrusted text cannot execute it.

Looks at the syntax tree (not a grep, so comments and strings do not count and
aliases are caught): no ``eval``/``exec``/``compile``/``__import__``/``breakpoint``
calls, no ``importlib``/``runpy``/``pickle``/``marshal``/``ctypes``/``code``
imports, and no ``getattr`` on ``builtins``. ``ast.parse`` (which only builds a
tree) is the one way these modules read code.
"""
import ast
from pathlib import Path
from typing import List

import pytest

import spacy_knowcoder

PACKAGE = Path(spacy_knowcoder.__file__).resolve().parent
UNTRUSTED_TEXT_READERS = ["parsing.py", "pycode.py", "schema/source.py", "align.py",
                          "visualize.py", "extensions.py"]
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "import_module",
                   "literal_eval", "execfile", "run_path", "run_module", "loads", "load"}
FORBIDDEN_MODULES = {"importlib", "runpy", "pickle", "marshal", "ctypes", "code",
                     "codeop", "builtins", "subprocess", "dill", "shelve"}


def violations(source: str) -> List[str]:
    """The forbidden calls and imports in ``source``, as "line: what" strings.

    Example:
        >>> violations("import os\\nx = eval('1')")
        ['2: calls eval']
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name) else None
            if name in FORBIDDEN_CALLS and not (name in ("loads", "load") and owner in
                                                ("json", "srsly")):
                found.append(f"{node.lineno}: calls {name}")
            if name == "getattr" and node.args and isinstance(node.args[0], ast.Name) and \
                    node.args[0].id in ("builtins", "__builtins__"):
                found.append(f"{node.lineno}: getattr on builtins")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{node.lineno}: imports from {node.module}")
    return found


@pytest.mark.parametrize("module", UNTRUSTED_TEXT_READERS)
def test_module_cannot_execute_text(module: str) -> None:
    source = (PACKAGE / module).read_text(encoding="utf-8")
    assert violations(source) == [], f"{module}: {violations(source)}"


@pytest.mark.parametrize("snippet,expected", [
    ("eval(x)", ["1: calls eval"]),
    ("import importlib.util", ["1: imports importlib.util"]),
    ("from importlib import import_module as im\nim('os')", ["1: imports from importlib"]),
    ("builtins_ = 1\ngetattr(__builtins__, 'exec')", ["2: getattr on builtins"]),
    ("x.compile('a')", ["1: calls compile"]),
    ("ast.literal_eval(s)", ["1: calls literal_eval"]),
    ("# eval(x) in a comment\ns = 'exec(y)'", []),
    ("json.loads(s); ast.parse(s, mode='eval')", []),
])
def test_the_checker_catches_what_it_should(snippet: str, expected: List[str]) -> None:
    assert violations(snippet) == expected
