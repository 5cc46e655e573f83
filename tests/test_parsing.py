"""Tests for spacy_knowcoder.parsing: safe parsing of untrusted model completions."""
import ast
import inspect
import json
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_knowcoder import parsing
from spacy_knowcoder.tasks import TASKS
from spacy_knowcoder.parsing import (
    MAX_ITEMS,
    ArgumentItem,
    EntityItem,
    EventItem,
    Item,
    ParseResult,
    RelationItem,
    parse_completion,
)

REFS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "knowcoder_format_refs"
EXAMPLES = REFS_DIR / "example_data.jsonl"

NER_CLASSES = {"Person": [], "City": [], "Organization": [], "Location": [], "Event": []}
RE_CLASSES = {"LocatedIn": [], "Creator": [], "Occupation": []}
EDUCATION_ROLES = ["start_date", "degree", "end_date", "institution", "student",
                   "specialization", "major_field_of_study"]
MARRIAGE_ROLES = ["spouse", "location_of_ceremony", "type_of_union", "to", "from"]
EVENT_CLASSES = {"Education": EDUCATION_ROLES, "Marriage": MARRIAGE_ROLES,
                 "OrganizationBoardMembership": ["organization", "member"]}
ALL_CLASSES = {**NER_CLASSES, **RE_CLASSES, **EVENT_CLASSES}
TASK_CLASSES = {"ner": NER_CLASSES, "re": RE_CLASSES, "ed": EVENT_CLASSES, "eae": EVENT_CLASSES}


def ner(text: str) -> ParseResult:
    return parse_completion(text, "ner", NER_CLASSES)


def eae(text: str) -> ParseResult:
    return parse_completion(text, "eae", EVENT_CLASSES)


def E(role: str, text: str, class_name: str = "Entity") -> ArgumentItem:
    return ArgumentItem(role, text, class_name)


# ---------------------------------------------------------------------------
# Real KnowCoder outputs


def _load_examples() -> List[dict]:
    if not EXAMPLES.exists():
        pytest.skip(f"KnowCoder format references not found at {EXAMPLES}")
    with EXAMPLES.open(encoding="utf8") as file_:
        return [json.loads(line) for line in file_ if line.strip()]


def _row_task(row: dict) -> str:
    if "entities" in row:
        return "ner"
    if "relations" in row:
        return "re"
    prompt = row["one-stage"]["zero-shot"]["prompt"]
    return "eae" if "triggers of the events are confirmed" in prompt else "ed"


EXPECTED_OUTPUTS: Dict[int, List[Item]] = {
    0: [EventItem("OrganizationBoardMembership", "member")],
    1: [],
    2: [EventItem("Education", "student", (
        E("institution", "American University of Beirut"), E("student", "George Habash")))],
    3: [],
    4: [EventItem("Education", "school")],
    5: [RelationItem("Creator", "No. 1 Croydon", "Richard Seifert & Partners"),
        RelationItem("LocatedIn", "East Croydon station", "Croydon"),
        RelationItem("LocatedIn", "No. 1 Croydon", "Croydon"),
        RelationItem("LocatedIn", "Croydon", "Greater London")],
    6: [EntityItem("Organization", "Port Phillip Housing Association"),
        EntityItem("Organization", "Victorian State Government"),
        EntityItem("Organization", "Teska Carson"),
        EntityItem("Event", "Expressions of Interest"),
        EntityItem("Location", "St Kilda"),
        EntityItem("Location", "Tennyson Street"),
        EntityItem("Person", "Larry Takis")],
    7: [],
    8: [EventItem("Marriage", "wife", (
        E("spouse", "Lucien Bonaparte"), E("spouse", "Christine Boyer")))],
}


@pytest.mark.parametrize("row_index", sorted(EXPECTED_OUTPUTS))
def test_real_outputs_parse(row_index: int) -> None:
    rows = _load_examples()
    row = rows[row_index]
    task = _row_task(row)
    result = parse_completion(row["one-stage"]["output"], task, TASK_CLASSES[task])
    assert result.problems == []
    assert result.ok
    assert result.items == EXPECTED_OUTPUTS[row_index]


def _gold_items(row: dict) -> List[Item]:
    if "relations" in row:
        return [RelationItem(r["type"], r["head"]["name"], r["tail"]["name"])
                for r in row["relations"]]
    return [EventItem(e["type"], e["trigger"], tuple(
        E(a["role"], a["name"]) for a in e.get("arguments", [])))
        for e in row["events"]]


def test_real_gold_code_keyword_form_parses() -> None:
    """The gold 'code' fields use the multi-line keyword form of the same classes."""
    checked = 0
    for row in _load_examples():
        if "entities" in row:
            continue
        task = _row_task(row)
        annotations = row.get("relations") or row.get("events")
        codes = [ann["code"].split(" = ", 1)[1] for ann in annotations]
        completion = "results = [\n" + ",\n".join(codes) + "\n]"
        result = parse_completion(completion, task, TASK_CLASSES[task])
        assert result.ok, result.problems
        assert result.items == _gold_items(row)
        checked += len(codes)
    assert checked >= 5


def test_real_outputs_survive_every_truncation() -> None:
    rows = _load_examples()
    for index in (5, 6, 8):
        output = rows[index]["one-stage"]["output"]
        task = _row_task(rows[index])
        full = parse_completion(output, task, TASK_CLASSES[task]).items
        for cut in range(len(output)):
            result = parse_completion(output[:cut], task, TASK_CLASSES[task])
            assert result.items == full[: len(result.items)]
            assert not result.complete
            assert result.problems


# ---------------------------------------------------------------------------
# Forms of each task


def test_ner_positional_and_keyword() -> None:
    result = ner('results = [\n\tPerson("Barack Obama"),\n\tCity(name="Chicago")\n]')
    assert result.ok
    assert result.items == [EntityItem("Person", "Barack Obama"), EntityItem("City", "Chicago")]


def test_empty_list() -> None:
    for text in ("results = []", "results = [\n]", "results=[ ]\n"):
        result = ner(text)
        assert result.items == [] and result.complete and result.problems == []
        assert result.ok


def test_trailing_comma_is_fine() -> None:
    assert ner('results = [\n\tPerson("A"),\n]').ok


def test_empty_item_between_commas_is_a_problem() -> None:
    result = ner('results = [Person("A"),, Person("B")]')
    assert result.items == [EntityItem("Person", "A"), EntityItem("Person", "B")]
    assert len(result.problems) == 1 and result.complete


def test_re_forms() -> None:
    completion = """results = [
\tLocatedIn(Entity("Kurush"), Entity("Dokuzparinsky District")),
\tLocatedIn(head_entity=Entity("a"), tail_entity=Entity("b")),
\tLocatedIn(Human("c"), City("d")),
\tLocatedIn("e", "f"),
\tLocatedIn(Entity("g"), tail_entity=Entity(name="h"))
]"""
    result = parse_completion(completion, "re", RE_CLASSES, ["Human", "City"])
    assert result.ok, result.problems
    assert result.items == [
        RelationItem("LocatedIn", "Kurush", "Dokuzparinsky District"),
        RelationItem("LocatedIn", "a", "b"),
        RelationItem("LocatedIn", "c", "d", "Human", "City"),
        RelationItem("LocatedIn", "e", "f"),
        RelationItem("LocatedIn", "g", "h"),
    ]


def test_re_wrapper_class_must_be_allowed() -> None:
    result = parse_completion('results = [LocatedIn(Human("a"), City("b"))]', "re", RE_CLASSES)
    assert result.items == []
    assert result.dropped_items == 1 and result.dropped_classes == 0
    assert "Human" in result.problems[0]


@pytest.mark.parametrize("item", [
    'LocatedIn(Entity("a"))',
    'LocatedIn(Entity("a"), Entity("b"), Entity("c"))',
    'LocatedIn(Entity("a"), Entity("b"), head_entity=Entity("c"))',
    'LocatedIn(Entity("a"), other=Entity("b"))',
    'LocatedIn(Entity("a"), Entity(1))',
    'LocatedIn(Entity("a"), Entity("b", "c"))',
    'LocatedIn(Entity("a"), [Entity("b")])',
])
def test_re_bad_shapes(item: str) -> None:
    result = parse_completion(f"results = [{item}]", "re", RE_CLASSES)
    assert result.items == [] and result.dropped_items == 1 and len(result.problems) == 1


def test_ed_forms() -> None:
    completion = 'results = [Marriage("married"), Marriage(trigger="wed"), Education("school")]'
    result = parse_completion(completion, "ed", EVENT_CLASSES)
    assert result.ok
    assert result.items == [EventItem("Marriage", "married"), EventItem("Marriage", "wed"),
                            EventItem("Education", "school")]


def test_eae_keyword_form_and_keyword_roles() -> None:
    completion = ('results = [\n\tMarriage(trigger = "wife", from = [Entity("x")], '
                  'to = [Entity("y"), "z"], spouse = Entity("w"), type_of_union = [])\n]')
    result = eae(completion)
    assert result.ok, result.problems
    assert result.items == [EventItem("Marriage", "wife", (
        E("from", "x"), E("to", "y"), E("to", "z"), E("spouse", "w")))]


def test_eae_positional_trigger_and_multiline() -> None:
    completion = ('results = [\n\tEducation(\n\t\t"student",\n\t\tinstitution = [\n'
                  '\t\t\tEntity("AUB")\n\t\t]\n\t)\n]')
    assert eae(completion).items == [EventItem("Education", "student", (E("institution", "AUB"),))]


def test_eae_unknown_role_skips_only_that_argument() -> None:
    result = eae('results = [Marriage(trigger="wife", spouse=[Entity("a")], '
                 'weapon=[Entity("b")], to=[Entity(3), Entity("c")])]')
    assert result.items == [EventItem("Marriage", "wife", (E("spouse", "a"), E("to", "c")))]
    assert result.dropped_items == 2 and len(result.problems) == 2
    assert any("weapon" in problem for problem in result.problems)
    assert result.complete and not result.ok


def test_eae_argument_classes() -> None:
    completion = 'results = [Marriage(trigger="wife", spouse=[Human("a"), Entity("b")])]'
    result = parse_completion(completion, "eae", EVENT_CLASSES, ["Human"])
    assert result.items[0].arguments == (E("spouse", "a", "Human"), E("spouse", "b"))


def test_event_needs_a_string_trigger() -> None:
    for item in ('Marriage(spouse=[Entity("a")])', "Marriage(trigger=wife)", "Marriage()"):
        result = eae(f"results = [{item}]")
        assert result.items == [] and result.dropped_items == 1


def test_keyword_roles_next_to_unusual_line_breaks() -> None:
    for char in "\x85\u2028\x0c\x1c":
        result = eae(f'results = [Marriage(trigger = "a{char}b", from = [Entity("c{char}")])]')
        assert result.ok, result.problems
        assert result.items == [EventItem("Marriage", f"a{char}b", (E("from", f"c{char}"),))]


def test_surrogates_do_not_crash() -> None:
    result = ner('results = [Person("\ud800"), Person("ok")]')
    assert result.items == [EntityItem("Person", "ok")] and len(result.problems) == 1


def test_string_forms() -> None:
    completion = ('results = [Person(\'single\'), Person("He said \\"hi\\""), '
                  'Person("""tri"ple"""), Person("con" \'cat\'), Person("tab\\there"), '
                  'Person(u"uni"), Person(r"C:\\d")]')
    result = ner(completion)
    assert result.ok, result.problems
    assert [item.text for item in result.items] == [
        "single", 'He said "hi"', 'tri"ple', "concat", "tab\there", "uni", "C:\\d"]


@pytest.mark.parametrize("arg", ['f"x{y}"', 'b"x"', "3", "x", 'str("x")', '"a" + "b"', "None", '""'])
def test_non_string_mentions_are_skipped(arg: str) -> None:
    result = ner(f'results = [Person({arg}), Person("ok")]')
    assert result.items == [EntityItem("Person", "ok")]
    assert result.dropped_items == 1 and len(result.problems) == 1 and result.complete


def test_duplicates_are_kept() -> None:
    assert ner('results = [Person("A"), Person("A")]').items == [EntityItem("Person", "A")] * 2


def test_whitelist() -> None:
    result = ner('results = [Person("A"), Foo("B"), Entity("C")]')
    assert result.items == [EntityItem("Person", "A")]
    assert result.dropped_classes == 2 and result.dropped_items == 0
    assert "class 'Foo' is not in the schema" in result.problems[0]


def test_task_decides_the_shape() -> None:
    result = parse_completion('results = [Person("A")]', "re", {"Person": []})
    assert result.items == [] and result.dropped_items == 1


def test_unknown_task_raises() -> None:
    with pytest.raises(ValueError, match="E001"):
        parse_completion("results = []", "nerr", NER_CLASSES)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Framing: text around the list


@pytest.mark.parametrize("completion", [
    'results = [Person("A")]\nresults = [Person("B")]',
    'results = [Person("A")]"""</s>',
    'results = [Person("A")] trailing junk ( [ " \'',
    'sentence = "x"\nresults = [Person("A")]',
    'Here are the results:\n```python\nresults = [\n\tPerson("A")\n]\n```\nHope this helps!',
    '[Person("A")]',
    '  \n[\n\tPerson("A")\n]',
    '\tPerson("A")\n]',
    '```python\n[Person("A")]\n```',
    'my_results = [Person("X")]\nresults = [Person("A")]',
    'results == [Person("X")]; results = [Person("A")]',
])
def test_framing(completion: str) -> None:
    result = ner(completion)
    assert result.items == [EntityItem("Person", "A")]
    assert result.ok, result.problems


def test_brackets_and_comments_inside_items() -> None:
    completion = ('results = [\n\tPerson("a], b"),  # a comment with ] and "\n'
                  "\tPerson('[x'),\n\tCity(\"\"\"multi\nline ]\"\"\")\n]")
    result = ner(completion)
    assert result.ok, result.problems
    assert [item.text for item in result.items] == ["a], b", "[x", "multi\nline ]"]


# ---------------------------------------------------------------------------
# Truncation and garbage


def test_truncated_list_keeps_finished_items() -> None:
    result = ner('results = [\n\tPerson("A"),\n\tCity("Chi')
    assert result.items == [EntityItem("Person", "A")]
    assert not result.complete and not result.ok
    assert len(result.problems) == 1 and "cut off" in result.problems[0]


def test_truncated_after_a_whole_item_keeps_it() -> None:
    result = ner('results = [\n\tPerson("A"),\n\tCity("Chicago")')
    assert result.items == [EntityItem("Person", "A"), EntityItem("City", "Chicago")]
    assert not result.complete


@pytest.mark.parametrize("completion", [
    "", " ", "\n\n", "hello world", "results", "results =", "Person", "]", ")",
    '"unbalanced', "'''", "\x00\x01\xff\ufffd", "[[[[", "results = [(", "{}", "#",
    "\\", '"\\', "results = [\"\\",
])
def test_garbage(completion: str) -> None:
    result = ner(completion)
    assert result.items == []
    assert not result.complete
    assert result.problems


def test_too_many_items_are_cut() -> None:
    completion = "results = [" + 'Person("a"),' * (MAX_ITEMS + 5) + "]"
    result = ner(completion)
    assert len(result.items) == MAX_ITEMS
    assert not result.complete and "more than" in result.problems[-1]


# ---------------------------------------------------------------------------
# Safety: nothing is executed


PWN_PAYLOADS = [
    'results = [__import__("os").system("touch {path}")]',
    'results = [Person(__import__("os").system("touch {path}"))]',
    'results = [Person(open("{path}", "w").write("x"))]',
    'results = [(lambda: __import__("os").system("touch {path}"))()]',
    'results = [eval(\'__import__("os").system("touch {path}")\')]',
    'results = [exec(\'open("{path}", "w")\')]',
    'results = [Person(*[open("{path}", "w")])]',
    'results = [Person(**{{"name": open("{path}", "w")}})]',
    'results = [[open("{path}", "w") for _ in "x"]]',
    'results = [Person("x").__class__.__init__.__globals__["os"].system("touch {path}")]',
    'results = [Marriage(trigger="x", spouse=[__import__("os").system("touch {path}")])]',
    'results = [Person("A")]; __import__("os").system("touch {path}")',
]


@pytest.mark.parametrize("payload", PWN_PAYLOADS)
@pytest.mark.parametrize("task", ["ner", "eae"])
def test_code_injection_runs_nothing(payload: str, task: str, tmp_path: Path) -> None:
    target = tmp_path / "pwned_knowcoder"
    result = parse_completion(payload.format(path=target), task, ALL_CLASSES)  # type: ignore[arg-type]
    assert not target.exists()
    assert all(isinstance(item, (EntityItem, EventItem)) for item in result.items)


def test_injected_items_are_reported() -> None:
    result = ner('results = [__import__("os").system("x"), os.system("x"), Person("A")[0], '
                 "lambda: 1, Person(*a), Person(**a), [x for x in y]]")
    assert result.items == [] and result.complete
    assert len(result.problems) == 7 and result.dropped_items == 7


def test_module_never_evaluates_code() -> None:
    tree = ast.parse(inspect.getsource(parsing))
    forbidden = {"eval", "exec", "compile", "__import__", "getattr", "import_module"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            assert name not in forbidden, f"parsing.py calls {name}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + [getattr(node, "module", "") or ""]
            assert not any("importlib" in name for name in names)


# ---------------------------------------------------------------------------
# Size and nesting


@pytest.mark.parametrize("completion", [
    "[" * 50000,
    "(" * 50000,
    "results = [" + "Person(" * 20000,
    "results = [" + "[" * 100000 + "]" * 100000 + "]",
    "results = [Person(" + "-" * 100000 + "1)]",
    "results = [Person(" + "(" * 10000 + '"x"' + ")" * 10000 + ")]",
    'results = [Marriage(trigger="x", from=' + "[" * 5000 + "]" * 5000 + ")]",
    "results = [" + "a" * 1_000_000 + "]",
    '"' * 100001,
    "results = [" + "#" * 100000,
])
def test_pathological_inputs_do_not_crash(completion: str) -> None:
    started = time.perf_counter()
    result = parse_completion(completion, "eae", ALL_CLASSES)
    assert isinstance(result, ParseResult)
    assert result.problems
    assert time.perf_counter() - started < 10


def test_long_strings_and_large_completions() -> None:
    long_text = "x\\\"" * 300_000
    result = ner(f'results = [Person("{long_text}")]')
    assert result.ok and result.items[0].text == 'x"' * 300_000
    many = "results = [\n" + ",\n".join(f'\tPerson("p{i}")' for i in range(5000)) + "\n]"
    started = time.perf_counter()
    result = ner(many)
    assert result.ok and len(result.items) == 5000
    assert time.perf_counter() - started < 10


# ---------------------------------------------------------------------------
# Property-based tests


FRAGMENTS = ["results = [", "results", " = ", "[", "]", "(", ")", "{", "}", ",", "Person(",
             "City(", "Entity(\"", "LocatedIn(", "Marriage(", "trigger = ", "from = ", "spouse=",
             "name=", '"', "'", '"""', "'''", "\\", "\\\"", "\n", "\t", " ", "#", "f\"", "b'",
             "Person(\"A\")", "__import__(\"os\")", "*", "**", "lambda: ", "```python\n", "</s>",
             "\x00", "\r", "\u2028", "😀"]
fuzz_text = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map("".join),
)


def _check_invariants(result: ParseResult, classes: Dict[str, Sequence[str]]) -> None:
    assert isinstance(result, ParseResult)
    assert isinstance(result.items, list) and isinstance(result.complete, bool)
    assert all(isinstance(problem, str) and problem for problem in result.problems)
    assert result.complete or result.problems
    assert result.ok == (result.complete and not result.problems)
    assert result.dropped_classes >= 0 and result.dropped_items >= 0
    for item in result.items:
        assert isinstance(item, (EntityItem, RelationItem, EventItem))
        assert item.class_name in classes


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(completion=fuzz_text, task=st.sampled_from(TASKS))
def test_fuzz_never_raises(completion: str, task: str) -> None:
    classes = TASK_CLASSES[task]
    result = parse_completion(completion, task, classes, ["Human"])  # type: ignore[arg-type]
    _check_invariants(result, classes)


# A test-local renderer: the inverse of the parser for well-formed items.

mention_text = st.text(
    # Lone surrogates cannot come out of a tokenizer's decoder, so they are left out.
    alphabet=st.one_of(st.characters(blacklist_categories=("Cs",)),
                       st.sampled_from('"\'\\\n\t\r[](),#{}😀\u2028\x85\x0c')),
    min_size=1, max_size=20,
)
quote_style = st.sampled_from(["json", "repr"])
NAME_WRAPPERS = ["Entity", "Human"]


def _quote(text: str, style: str) -> str:
    return json.dumps(text, ensure_ascii=False) if style == "json" else repr(text)


def _render_mention(text: str, wrapper: str, style: str) -> str:
    if wrapper == "":
        return _quote(text, style)
    return f"{wrapper}({_quote(text, style)})"


@st.composite
def entity_items(draw: Callable) -> tuple:
    item = EntityItem(draw(st.sampled_from(sorted(NER_CLASSES))), draw(mention_text))
    quoted = _quote(item.text, draw(quote_style))
    keyword = draw(st.booleans())
    return item, f"{item.class_name}({'name=' if keyword else ''}{quoted})"


@st.composite
def relation_items(draw: Callable) -> tuple:
    head_wrapper, tail_wrapper = draw(st.sampled_from(["Entity", "Human", ""])), draw(
        st.sampled_from(["Entity", "Human", ""]))
    item = RelationItem(draw(st.sampled_from(sorted(RE_CLASSES))), draw(mention_text),
                        draw(mention_text), head_wrapper or "Entity", tail_wrapper or "Entity")
    head = _render_mention(item.head, head_wrapper, draw(quote_style))
    tail = _render_mention(item.tail, tail_wrapper, draw(quote_style))
    if draw(st.booleans()):
        return item, f"{item.class_name}(head_entity = {head}, tail_entity = {tail})"
    return item, f"{item.class_name}({head}, {tail})"


@st.composite
def event_items(draw: Callable) -> tuple:
    class_name = draw(st.sampled_from(sorted(EVENT_CLASSES)))
    trigger = draw(mention_text)
    roles = draw(st.lists(st.sampled_from(EVENT_CLASSES[class_name]), unique=True, max_size=3))
    arguments: List[ArgumentItem] = []
    parts = [f"trigger = {_quote(trigger, draw(quote_style))}"]
    for role in roles:
        wrapper = draw(st.sampled_from(NAME_WRAPPERS))
        texts = draw(st.lists(mention_text, max_size=3))
        arguments.extend(ArgumentItem(role, text, wrapper) for text in texts)
        rendered = [_render_mention(text, wrapper, draw(quote_style)) for text in texts]
        parts.append(f"{role} = [{', '.join(rendered)}]")
    return EventItem(class_name, trigger, tuple(arguments)), f"{class_name}({', '.join(parts)})"


TASK_ITEMS = {"ner": entity_items(), "re": relation_items(), "eae": event_items()}


@st.composite
def rendered_completions(draw: Callable) -> tuple:
    task = draw(st.sampled_from(sorted(TASK_ITEMS)))
    pairs = draw(st.lists(TASK_ITEMS[task], max_size=6))
    body = ",\n".join(f"\t{source}" for _, source in pairs)
    completion = f"results = [\n{body}\n]" if pairs else "results = []"
    return task, [item for item, _ in pairs], completion


def _parse_rendered(task: str, completion: str) -> ParseResult:
    return parse_completion(completion, task, TASK_CLASSES[task], ["Human"])  # type: ignore[arg-type]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=rendered_completions())
def test_round_trip(case: tuple) -> None:
    task, items, completion = case
    result = _parse_rendered(task, completion)
    assert result.problems == []
    assert result.ok
    assert result.items == items


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=rendered_completions(), data=st.data())
def test_truncation_gives_a_prefix(case: tuple, data: st.DataObject) -> None:
    task, items, completion = case
    cut = data.draw(st.integers(0, len(completion)))
    result = _parse_rendered(task, completion[:cut])
    assert result.items == items[: len(result.items)]
    _check_invariants(result, TASK_CLASSES[task])
    if cut < len(completion):
        assert not result.complete
    else:
        assert result.ok


@settings(max_examples=200, deadline=None)
@given(case=rendered_completions(), before=st.text(max_size=30).filter(lambda s: "results" not in s),
       after=fuzz_text)
def test_text_around_the_list_is_ignored(case: tuple, before: str, after: str) -> None:
    task, items, completion = case
    framed = before + "\n" + completion + after
    result = _parse_rendered(task, framed)
    assert result.items == items and result.ok
