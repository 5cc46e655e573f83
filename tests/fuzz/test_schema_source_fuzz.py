"""Fuzzing the schema source parser (spacy_knowcoder.schema.source).

Class definitions are user input (schema files) and come from data dumps: any
text must give a Schema or a coded error (E008/E009), never another exception,
never a crash on deep nesting, never quadratic time, and nothing in it runs.
"""
import re
import time
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacy_knowcoder.schema.source import schema_from_source
from spacy_knowcoder.schema.types import Schema

from .guard import fuzz_settings, injections, no_code_runs

CLASS_NAMES = ["Person", "City", "LocatedIn", "Marriage", "Entity", "Relation", "Event",
               "Human", "Location", "X", "from", "class", "None"]
CODED = re.compile(r"^\(spacy-knowcoder\) \[E0\d\d\] ")
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@st.composite
def annotations(draw: Callable) -> str:
    names = draw(st.lists(st.sampled_from(CLASS_NAMES), min_size=1, max_size=4))
    style = draw(st.sampled_from(["|", "union", "list", "one"]))
    if style == "|":
        return " | ".join(names)
    if style == "union":
        return f"Union[{', '.join(names)}]"
    if style == "list":
        return f"List[ {names[0]} ]"
    return names[0]


@st.composite
def class_defs(draw: Callable) -> str:
    name = draw(st.sampled_from(CLASS_NAMES + ["A", "B", "Ω", "_x"]))
    bases = draw(st.lists(st.sampled_from(CLASS_NAMES + [draw(st.sampled_from(injections()))]),
                          max_size=2))
    lines = [f"class {name}({', '.join(bases)}):"]
    if draw(st.booleans()):
        quote = draw(st.sampled_from(['"""', "'''"]))
        doc = draw(words).replace("\\", "").replace(quote[0], "")
        lines.append(f"    {quote}\n    Description: {doc}\n    Examples: {draw(words)}, b\n    {quote}")
    kind = draw(st.sampled_from(["pass", "relation", "event_ed", "event_eae", "attack"]))
    if kind == "pass":
        lines.append("    pass")
    elif kind == "relation":
        lines.append(f"    def __init__(self, head_entity: {draw(annotations())}, "
                     f"tail_entity: {draw(annotations())}):")
        lines.append("        super().__init__(head_entity=head_entity, tail_entity=tail_entity)")
    elif kind == "event_ed":
        roles = draw(st.lists(words.map(repr), max_size=3))
        lines.append("    def __init__(self, trigger: str):  # Examples: a, b,")
        lines.append(f"        self.arg_names = [{', '.join(roles)}]")
    elif kind == "event_eae":
        roles = draw(st.lists(st.sampled_from(["spouse", "from", "place", "x1"]), max_size=3))
        params = "".join(f", {r}: List[ {draw(annotations())} ] = []" for r in roles)
        lines.append(f"    def __init__(self, trigger: str{params}):")
        lines.append("        pass")
    else:
        payload = draw(st.sampled_from(injections()))
        lines.append(draw(st.sampled_from([
            f"    x = {payload}", f"    @{payload.split('(')[0]}\n    def f(self): pass",
            f"    def __init__(self, a={payload}): {payload}",
            f"    __slots__ = {payload}", "    import os; os.system('x')"])))
    return "\n".join(lines)


@st.composite
def sources(draw: Callable) -> str:
    parts = draw(st.lists(st.one_of(class_defs(), words, st.sampled_from(injections())),
                          max_size=5))
    source = "\n\n".join(parts)
    if draw(st.booleans()):  # a truncated file
        source = source[:draw(st.integers(0, len(source)))]
    return source


def _parse_or_coded_error(source: str) -> None:
    with no_code_runs():
        try:
            schema = schema_from_source(source)
        except ValueError as err:
            # E008 syntax, E009 no classes; the schema's own checks (E003 base-class
            # names, E004 duplicates, E006/E018 bad roles) are coded as well.
            assert CODED.match(str(err)), str(err)
            return
    assert isinstance(schema, Schema)
    for kind in (schema.entities, schema.relations, schema.events):
        for schema_type in kind:
            assert isinstance(schema_type.class_name, str) and schema_type.class_name


@fuzz_settings(1500)
@given(source=sources())
def test_generated_class_sources(source: str) -> None:
    _parse_or_coded_error(source)


@fuzz_settings(1000)
@given(source=st.text(max_size=400))
def test_arbitrary_text(source: str) -> None:
    _parse_or_coded_error(source)


DEEP = 100_000


@pytest.mark.parametrize("source", [
    "class A(Entity):\n    x = " + "[" * DEEP,
    "class A(Entity):\n    x = " + "[" * DEEP + "]" * DEEP,
    "class A(" + "(" * DEEP,
    "class A(Entity):\n    x = " + "-" * DEEP + "1",
    "class A(Entity):\n    x = " + "not " * DEEP + "1",
    "class A(" + ".".join(["b"] * DEEP) + "): pass",
    "class R(Relation):\n    def __init__(self, head_entity: " + " | ".join(["A"] * DEEP)
    + ", tail_entity: B): pass",
    "class R(Relation):\n    def __init__(self, head_entity: " + "List[" * 190 + "A"
    + "]" * 190 + "): pass",
    "class A(Entity):\n" + "".join(" " * i + "if 1:\n" for i in range(1, 200)) + " " * 200 + "pass",
    'class A(Entity):\n    """' + "\\" * DEEP + '"""',
    'class A(Entity):\n    """Description: ' + "é😀\u202e\x00" * DEEP + '"""',
    "class A(Entity):\n    '''" + "'" * DEEP,
    "\n".join(f"class C{i}(C{i + 1}): pass" for i in range(5000)),
    "\n".join(f"class C{i}(C{(i + 1) % 3000}): pass" for i in range(3000)),
])
def test_huge_deep_and_cyclic_sources(source: str) -> None:
    started = time.perf_counter()
    _parse_or_coded_error(source)
    assert time.perf_counter() - started < 30


def test_long_inheritance_chain_takes_linear_time() -> None:
    """A chain of n classes was O(n^2) (each class walked to the root): 20k took minutes."""
    def seconds(n: int) -> float:
        source = "\n".join(f"class C{i}(C{i + 1}): pass" for i in range(n))
        started = time.perf_counter()
        schema = schema_from_source(source)
        assert len(schema.entities) == n
        return time.perf_counter() - started

    small, large = seconds(1000), seconds(8000)
    assert large < 30 * max(small, 0.01)  # 8x the classes, far from 64x the time


@pytest.mark.parametrize("payload", injections())
def test_injected_code_in_every_position_runs_nothing(payload: str) -> None:
    templates = [
        "class A(Entity):\n    x = {p}\n",
        "class A({p}):\n    pass\n",
        "@{p}\nclass A(Entity):\n    pass\n",
        "class A(Entity, metaclass={p}):\n    pass\n",
        "class R(Relation):\n    def __init__(self, head_entity: {p}, tail_entity: B = {p}):\n"
        "        {p}\n",
        "class E(Event):\n    def __init__(self, trigger: str = {p}):\n        self.arg_names = [{p}]\n",
        "{p}\nclass A(Entity):\n    pass\n",
    ]
    for template in templates:
        _parse_or_coded_error(template.format(p=payload))
