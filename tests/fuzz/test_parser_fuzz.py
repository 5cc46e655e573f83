"""Fuzzing the completion parser (spacy_knowcoder.parsing) with hypothesis.

Complements tests/test_parsing.py: structured completions with nested calls,
every kind of string escape, unicode, huge nesting and code-injection payloads.
The parser must never raise, never run anything, and every string it returns
must be the value Python would give the literal (checked with
``ast.literal_eval`` in the test, never in the package).
"""
import ast
import time
import warnings
from typing import Callable, Dict, List, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacy_knowcoder.parsing import (
    EntityItem,
    EventItem,
    ParseResult,
    RelationItem,
    parse_completion,
)
from spacy_knowcoder.pycode import quote_string
from spacy_knowcoder.tasks import TASKS

from .guard import fuzz_settings, injections, no_code_runs

CLASSES: Dict[str, Dict[str, Sequence[str]]] = {
    "ner": {"Person": [], "City": []},
    "re": {"LocatedIn": [], "WorkFor": []},
    "ed": {"Marriage": ["spouse", "from"], "Attack": ["attacker", "target"]},
    "eae": {"Marriage": ["spouse", "from"], "Attack": ["attacker", "target"]},
}
NAMES = ["Person", "City", "LocatedIn", "Marriage", "Attack", "Entity", "Human", "os",
         "eval", "__import__", "results", "Person.name", "x"]

# String literals written the many ways a model (or an attacker) can write them.
ESCAPES = ["\\n", "\\t", "\\\\", '\\"', "\\'", "\\x41", "\\u00e9", "\\U0001F600",
           "\\N{GREEK SMALL LETTER ALPHA}", "\\101", "\\0", "\\d", "\\\n"]
unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
raw_body = st.lists(st.one_of(st.sampled_from(ESCAPES), unicode_text.filter(
    lambda s: not any(c in s for c in "\"'\\\n\r"))), max_size=6).map("".join)


@st.composite
def literals(draw: Callable) -> str:
    """A Python string literal in a random prefix and quote style."""
    body = draw(raw_body)
    quote = draw(st.sampled_from(['"', "'", '"""', "'''"]))
    prefix = draw(st.sampled_from(["", "", "u", "r", "b", "f", "R"]))
    return f"{prefix}{quote}{body}{quote}"


@st.composite
def expressions(draw: Callable, depth: int = 0) -> str:
    """Nested calls, lists, keyword arguments, attribute access and injections."""
    options = [literals(), st.sampled_from(injections()), st.sampled_from(NAMES),
               st.integers(-5, 10**20).map(str), st.sampled_from(["None", "...", "lambda: 0"])]
    if depth < 4:
        child = expressions(depth=depth + 1)
        options += [
            st.tuples(st.sampled_from(NAMES), st.lists(child, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(st.sampled_from(NAMES), st.sampled_from(["trigger", "spouse", "from",
                                                              "name", "head_entity"]),
                      child).map(lambda t: f"{t[0]}({t[1]} = {t[2]})"),
            st.lists(child, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
            child.map(lambda x: f"{x}.__class__"),
        ]
    return draw(st.one_of(options))


@st.composite
def completions(draw: Callable) -> str:
    items = draw(st.lists(expressions(), max_size=6))
    separator = draw(st.sampled_from([", ", ",\n\t", ",", " ,\n# comment\n"]))
    body = separator.join(items)
    head = draw(st.sampled_from(["results = [", "results=[\n\t", "[", "```python\nresults = [",
                                 "Sure! results = [", ""]))
    tail = draw(st.sampled_from(["]", "\n]", "", "]\n```", "] ; os.system('x')"]))
    text = head + body + tail
    if draw(st.booleans()):  # cut off like a generation that hit its token limit
        text = text[:draw(st.integers(0, len(text)))]
    return text


def _texts(item: object) -> List[str]:
    if isinstance(item, EntityItem):
        return [item.text]
    if isinstance(item, RelationItem):
        return [item.head, item.tail]
    assert isinstance(item, EventItem), item
    return [item.trigger] + [a.text for a in item.arguments]


def _check(result: ParseResult, task: str) -> None:
    assert isinstance(result, ParseResult)
    for item in result.items:
        assert item.class_name in CLASSES[task]
        assert all(isinstance(t, str) and t for t in _texts(item))
        if isinstance(item, EventItem):
            assert all(a.role in CLASSES[task][item.class_name] for a in item.arguments)


@fuzz_settings(1500)
@given(completion=completions(), task=st.sampled_from(TASKS))
def test_structured_completions_never_crash_or_run_code(completion: str, task: str) -> None:
    with no_code_runs():
        result = parse_completion(completion, task, CLASSES[task])  # type: ignore[arg-type]
    _check(result, task)


@fuzz_settings(1500)
@given(literal=literals(), task=st.sampled_from(["ner", "ed"]))
def test_string_literals_mean_what_python_says(literal: str, task: str) -> None:
    class_name = "Person" if task == "ner" else "Marriage"
    with no_code_runs():
        result = parse_completion(f"results = [{class_name}({literal})]", task,
                                  CLASSES[task])  # type: ignore[arg-type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "\\d" is only a DeprecationWarning
            expected = ast.literal_eval(literal)  # the test's oracle, not the package's
    except (ValueError, SyntaxError):
        expected = None  # f-strings are not literals
    if isinstance(expected, str) and expected:
        assert result.ok, result.problems
        value = result.items[0].text if task == "ner" else result.items[0].trigger
        assert value == expected
    else:  # empty strings, bytes, f-strings and invalid literals are skipped, with a reason
        assert result.items == [] and result.problems


@fuzz_settings(1000)
@given(text=st.text(min_size=1, max_size=300), task=st.sampled_from(["ner", "eae"]))
def test_any_mention_round_trips_through_quote_string(text: str, task: str) -> None:
    """What the prompt renderer quotes, the parser reads back unchanged (unicode too)."""
    if task == "ner":
        completion = f"results = [\n\tPerson({quote_string(text)})\n]"
    else:
        completion = (f"results = [\n\tMarriage(trigger = {quote_string(text)}, "
                      f"from = [Entity({quote_string(text[::-1])})])\n]")
    result = parse_completion(completion, task, CLASSES[task])  # type: ignore[arg-type]
    assert result.ok, result.problems
    if task == "ner":
        assert result.items == [EntityItem("Person", text)]
    else:
        (event,) = result.items
        assert event.trigger == text and [a.text for a in event.arguments] == [text[::-1]]


@pytest.mark.parametrize("payload", injections())
@pytest.mark.parametrize("task", TASKS)
def test_each_injection_runs_nothing_in_every_position(payload: str, task: str) -> None:
    wrappers = ["results = [{p}]", "results = [Person({p})]", "results = [Person(name={p})]",
                "results = [LocatedIn({p}, Entity(\"x\"))]",
                "results = [Marriage(trigger={p}, spouse=[{p}])]",
                "results = [Marriage(\"x\", from=[Entity({p})])]", "{p}", "results = [{p}"]
    for wrapper in wrappers:
        with no_code_runs():
            result = parse_completion(wrapper.format(p=payload), task,
                                      CLASSES[task])  # type: ignore[arg-type]
        # Only the plain literal "x" of the wrappers may come out; the payload never does.
        assert {t for item in result.items for t in _texts(item)} <= {"x"}, result.items
        assert all(not getattr(item, "arguments", ()) for item in result.items)


@pytest.mark.parametrize("completion", [
    "results = [" + "[" * 100_000,
    "results = [" + "[" * 100_000 + "]" * 100_000 + "]",
    "results = [" + "(" * 100_000 + ")" * 100_000 + "]",
    "results = [" + "{" * 100_000,
    "results = [" + "Person(" * 50_000 + '"x"' + ")" * 50_000 + "]",
    "results = [Person(" + "not " * 50_000 + "1)]",
    "results = [Person(" + "x." * 50_000 + "y)]",
    "results = [Person(" + "-" * 100_000 + "1)]",
    "results = [Person(" + "1+" * 50_000 + "1)]",
    "results = [Person(\"" + "\\" * 100_001 + "\")]",
    "results = [Person(\"" + "\\x" * 50_000 + "\")]",
    "results = [Person(\"\"\"" + "'" * 100_000,
    "results = [Person(\"" + "é😀\u202e" * 100_000 + "\")]",
    "results = [" + ", ".join(['Person("a")'] * 20_000) + "]",
    "results = [" + "\n" * 200_000 + "]",
])
@pytest.mark.parametrize("task", ["ner", "eae"])
def test_huge_and_deeply_nested_inputs(completion: str, task: str) -> None:
    started = time.perf_counter()
    with no_code_runs():
        result = parse_completion(completion, task, CLASSES[task])  # type: ignore[arg-type]
    assert isinstance(result, ParseResult)
    assert time.perf_counter() - started < 20
