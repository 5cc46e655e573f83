"""Safe parsing of KnowCoder model completions into plain extraction items.

A completion is *untrusted* text that should look like Python code::

    results = [
        Person("Barack Obama"),
        LocatedIn(Entity("Kurush"), Entity("Dokuzparinsky District")),
        Marriage(trigger = "wife", spouse = [Entity("Lucien Bonaparte")])
    ]

Nothing in it is ever executed. A small iterative character scanner finds the
first ``results = [`` list and splits its body into top-level items (it knows
string literals, comments and bracket depth, so a truncated completion still
yields its finished items). Each item is then parsed on its own with
``ast.parse(..., mode="eval")`` and accepted only if it has one of the known
shapes and its class is in the schema whitelist. Everything that is skipped is
explained in ``ParseResult.problems``; the parser never raises for any
completion string.

Example:
    >>> result = parse_completion('results = [\\n\\tPerson("Ada")\\n]', "ner", {"Person": []})
    >>> result.items
    [EntityItem(class_name='Person', text='Ada')]
"""
import ast
import warnings
from dataclasses import dataclass, field
from typing import (
    Collection,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .answer import BY_COMMA, BY_END, find_results_open, scan_items
from .pycode import escape_keyword_identifiers, unescape_identifier
from .schema.types import BASE_ENTITY
from .tasks import Task, check_task

# A 640-token completion holds a few hundred items at most; this bounds the work
# spent on hostile input such as megabytes of "a,a,a,...".
MAX_ITEMS = 10_000
# Keyword roles (``from = [...]``) are rescued only in items up to this size: a
# real item is a few hundred characters and the tokenizer is slow on megabytes.
MAX_ESCAPE_CHARS = 50_000
BASE_ENTITY_CLASS = BASE_ENTITY
ENTITY_PARAMS: Tuple[str, ...] = ("name",)
RELATION_PARAMS: Tuple[str, ...] = ("head_entity", "tail_entity")
TRIGGER_PARAM = "trigger"
_SNIPPET_CHARS = 60
_FENCE = "```"


@dataclass(frozen=True)
class EntityItem:
    """An entity mention, e.g. ``Person("Barack Obama")``."""

    class_name: str
    text: str
    score: Optional[float] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RelationItem:
    """A relation, e.g. ``LocatedIn(Entity("Kurush"), City("Dokuzparinsky"))``."""

    class_name: str
    head: str
    tail: str
    head_class: str = BASE_ENTITY_CLASS
    tail_class: str = BASE_ENTITY_CLASS
    score: Optional[float] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ArgumentItem:
    """One event argument: a role filled by a mention, e.g. ``student = [Entity("x")]``."""

    role: str
    text: str
    class_name: str = BASE_ENTITY_CLASS


@dataclass(frozen=True)
class EventItem:
    """An event with its trigger and arguments in output order."""

    class_name: str
    trigger: str
    arguments: Tuple[ArgumentItem, ...] = ()
    score: Optional[float] = field(default=None, compare=False, repr=False)


Item = Union[EntityItem, RelationItem, EventItem]


@dataclass
class ParseResult:
    """What ``parse_completion`` found in a completion.

    items (List[Item]): The valid items, in output order (duplicates kept).
    complete (bool): True when the ``results = [...]`` list was closed.
    problems (List[str]): A human-readable reason for everything skipped.
    dropped_classes (int): Items whose class is not in the whitelist.
    dropped_items (int): Items or event arguments skipped for other reasons.
    """

    items: List[Item] = field(default_factory=list)
    complete: bool = False
    problems: List[str] = field(default_factory=list)
    dropped_classes: int = 0
    dropped_items: int = 0

    @property
    def ok(self) -> bool:
        """RETURNS (bool): True when the list was closed and nothing was skipped."""
        return self.complete and not self.problems


class _Skip(Exception):
    """An item (or argument) does not have an accepted shape."""

    def __init__(self, message: str, unknown_class: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unknown_class = unknown_class


@dataclass(frozen=True)
class _Whitelist:
    """The names a completion may use, prepared once per call."""

    task: str
    classes: Mapping[str, Sequence[str]]
    argument_classes: FrozenSet[str]


def parse_completion(
    completion: str,
    task: Task,
    classes: Mapping[str, Sequence[str]],
    argument_classes: Collection[str] = (BASE_ENTITY_CLASS,),
) -> ParseResult:
    """Parse a KnowCoder completion into items without executing anything.

    The first ``results = [`` assignment is used wherever it occurs (text before
    it and after its closing bracket is ignored); a completion that starts
    directly with ``[`` or with the first item is accepted too. A list that is
    cut off keeps its finished items and gets ``complete=False``.

    completion (str): The model output (untrusted).
    task (Task): "ner", "re", "ed" or "eae": which item shape to expect.
    classes (Mapping[str, Sequence[str]]): Allowed class names mapped to their
        allowed role names (roles are used for events; empty otherwise).
    argument_classes (Collection[str]): Class names allowed to wrap a mention in
        relation and event arguments (``Human("x")``). "Entity" is always allowed.
    RETURNS (ParseResult): The valid items and the reasons for everything skipped.

    Example:
        >>> out = 'results = [\\n\\tMarriage(trigger = "wife", from = [Entity("Ann")])\\n]'
        >>> parse_completion(out, "eae", {"Marriage": ["spouse", "from"]}).items[0].arguments
        (ArgumentItem(role='from', text='Ann', class_name='Entity'),)
    """
    check_task(task)
    whitelist = _Whitelist(
        task, classes, frozenset(argument_classes) | {BASE_ENTITY_CLASS}
    )
    result = ParseResult()
    text = completion if isinstance(completion, str) else ""
    start = _locate_list_body(text)
    if start is None:
        result.problems.append(
            f"no 'results = [' list found in the completion {_snippet(text)}"
        )
        return result
    _parse_list_body(text, start, whitelist, result)
    return result


# ---------------------------------------------------------------------------
# Finding the list


def _locate_list_body(text: str) -> Optional[int]:
    """Find where the items of the results list start.

    text (str): The completion.
    RETURNS (Optional[int]): The index just after ``results = [`` (or after a
        leading ``[``, or of a leading first item), None when there is no list.
    """
    bracket = find_results_open(text)
    return bracket + 1 if bracket is not None else _find_bare_list(text)


def _find_bare_list(text: str) -> Optional[int]:
    """Accept a completion that starts with ``[`` or directly with an item.

    A leading Markdown code fence line (```` ```python ````) is skipped.
    RETURNS (Optional[int]): Where the items start, or None.
    """
    pos = _skip_whitespace(text, 0)
    if text.startswith(_FENCE, pos):
        newline = text.find("\n", pos)
        pos = _skip_whitespace(text, newline) if newline != -1 else len(text)
    if text[pos : pos + 1] == "[":
        return pos + 1
    end = pos
    while end < len(text) and _is_name_char(text[end]):
        end += 1
    if end > pos and text[pos:end].isidentifier() and text[end : end + 1] == "(":
        return pos
    return None


def _skip_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# ---------------------------------------------------------------------------
# Splitting the list into items (iterative, linear)


# ---------------------------------------------------------------------------
# Parsing the items


def _parse_list_body(
    text: str, start: int, whitelist: _Whitelist, result: ParseResult
) -> None:
    """Parse every top-level item of the list body into ``result``."""
    for index, (item_start, item_end, how) in enumerate(scan_items(text, start)):
        source = text[item_start:item_end].strip()
        if index >= MAX_ITEMS:
            result.problems.append(
                f"the results list has more than {MAX_ITEMS} items; the rest was ignored"
            )
            return
        if how == BY_END:
            _parse_unfinished_item(source, index, whitelist, result)
            return
        if source:
            _parse_item(source, index, whitelist, result)
        elif how == BY_COMMA:
            result.problems.append(f"item {index + 1} is empty (two commas in a row)")
    result.complete = True


def _parse_item(
    source: str, index: int, whitelist: _Whitelist, result: ParseResult
) -> None:
    """Parse one finished item and record it or the reason it was skipped."""
    try:
        item, argument_problems = _convert(_parse_expression(source), whitelist)
    except _Skip as skip:
        result.problems.append(f"item {index + 1} {_snippet(source)}: {skip.message}")
        if skip.unknown_class:
            result.dropped_classes += 1
        else:
            result.dropped_items += 1
        return
    result.items.append(item)
    for problem in argument_problems:
        result.problems.append(f"item {index + 1} {_snippet(source)}: {problem}")
        result.dropped_items += 1


def _parse_unfinished_item(
    source: str, index: int, whitelist: _Whitelist, result: ParseResult
) -> None:
    """Handle the last item of a list that was cut off before its ``]``.

    The item is kept when it happens to be complete and valid; otherwise it is
    dropped and mentioned in the single cut-off problem.
    """
    message = "the results list was cut off before its closing ']' (the generation "
    message += "probably reached its token limit)"
    if source:
        try:
            item, argument_problems = _convert(_parse_expression(source), whitelist)
        except _Skip:
            message += f"; the unfinished last item {_snippet(source)} was dropped"
            result.dropped_items += 1
        else:
            result.items.append(item)
            for problem in argument_problems:
                result.problems.append(f"item {index + 1} {_snippet(source)}: {problem}")
            result.dropped_items += len(argument_problems)
    result.problems.append(message)


def _parse_expression(source: str) -> ast.expr:
    """Parse one item with ``ast`` (never executed), escaping keyword roles if needed.

    source (str): The text of one item.
    RETURNS (ast.expr): The item's expression node.
    """
    node, error = _try_ast_parse(source)
    if node is not None:
        return node
    escaped, keywords = _escape_keywords(source)
    if keywords:  # e.g. "from = [...]": a keyword used as a role name
        node, _ = _try_ast_parse(escaped)
        if node is not None:
            return node
    raise _Skip(f"not valid Python code ({error})")


def _try_ast_parse(source: str) -> Tuple[Optional[ast.expr], str]:
    """RETURNS (Tuple[Optional[ast.expr], str]): The node, or None and the reason."""
    try:
        with warnings.catch_warnings():
            # Invalid escapes such as "\d" only warn; they must not become errors.
            warnings.simplefilter("ignore")
            return ast.parse(source, mode="eval").body, ""
    except SyntaxError as err:
        return None, str(err.msg)
    except (RecursionError, MemoryError):
        return None, "nested too deeply"
    except (ValueError, OverflowError) as err:
        return None, str(err)


def _escape_keywords(source: str) -> Tuple[str, FrozenSet[str]]:
    """Escape Python keywords used as role names, e.g. ``from = [...]``.

    The tokenizer is slow on huge input, so only item-sized text is tried.
    """
    if len(source) > MAX_ESCAPE_CHARS:
        return source, frozenset()
    try:
        escaped, keywords = escape_keyword_identifiers(source)
    except (ValueError, RecursionError, MemoryError):
        return source, frozenset()
    return escaped, frozenset(keywords)


# ---------------------------------------------------------------------------
# Checking the shape of an item against the whitelist


def _convert(node: ast.expr, whitelist: _Whitelist) -> Tuple[Item, List[str]]:
    """Turn an item's expression into an Item if it has an accepted shape.

    RETURNS (Tuple[Item, List[str]]): The item and problems with single event
        arguments that were skipped.
    """
    if not isinstance(node, ast.Call):
        raise _Skip(f"expected a class instantiation such as Person(\"...\"), "
                    f"got {_describe(node)}")
    if not isinstance(node.func, ast.Name):
        raise _Skip(f"expected a plain class name to be called, got {_describe(node.func)}")
    class_name = node.func.id
    if class_name not in whitelist.classes:
        raise _Skip(f"class '{class_name}' is not in the schema", unknown_class=True)
    if whitelist.task == "ner":
        return _to_entity(node, class_name), []
    if whitelist.task == "re":
        return _to_relation(node, class_name, whitelist.argument_classes), []
    return _to_event(node, class_name, whitelist)


def _to_entity(call: ast.Call, class_name: str) -> EntityItem:
    """Accept ``Person("x")`` and ``Person(name="x")``."""
    bound = _bind_strictly(call, ENTITY_PARAMS)
    return EntityItem(class_name, _string(bound, ENTITY_PARAMS[0]))


def _to_relation(
    call: ast.Call, class_name: str, argument_classes: FrozenSet[str]
) -> RelationItem:
    """Accept ``LocatedIn(Entity("a"), City("b"))``, keyword and bare-string forms."""
    bound = _bind_strictly(call, RELATION_PARAMS)
    for param in RELATION_PARAMS:
        if param not in bound:
            raise _Skip(f"missing the argument '{param}'")
    head, head_class = _mention(bound[RELATION_PARAMS[0]], argument_classes)
    tail, tail_class = _mention(bound[RELATION_PARAMS[1]], argument_classes)
    return RelationItem(class_name, head, tail, head_class, tail_class)


def _to_event(
    call: ast.Call, class_name: str, whitelist: _Whitelist
) -> Tuple[EventItem, List[str]]:
    """Accept ``Marriage("wife")`` and ``Marriage(trigger = "wife", spouse = [...])``.

    Arguments bind like Python would to ``(trigger, *roles)``; an unknown role or
    a bad mention skips only that argument.
    """
    roles = tuple(whitelist.classes[class_name])
    bound, problems = _bind(call, (TRIGGER_PARAM, *roles))
    trigger = _string(bound, TRIGGER_PARAM)
    arguments: List[ArgumentItem] = []
    for role, value in bound.items():
        if role == TRIGGER_PARAM:
            continue
        if role not in roles:
            known = ", ".join(roles) or "none"
            problems.append(f"'{role}' is not a role of {class_name} (roles: {known})")
            continue
        found, bad = _role_arguments(role, value, whitelist.argument_classes)
        arguments.extend(found)
        problems.extend(bad)
    return EventItem(class_name, trigger, tuple(arguments)), problems


def _role_arguments(
    role: str, value: ast.expr, argument_classes: FrozenSet[str]
) -> Tuple[List[ArgumentItem], List[str]]:
    """Read ``role = [Entity("a"), "b"]``, a single mention or ``None``."""
    if isinstance(value, (ast.List, ast.Tuple)):
        elements = list(value.elts)
    elif isinstance(value, ast.Constant) and value.value is None:
        elements = []
    else:
        elements = [value]
    arguments: List[ArgumentItem] = []
    problems: List[str] = []
    for element in elements:
        try:
            text, class_name = _mention(element, argument_classes)
        except _Skip as skip:
            problems.append(f"argument '{role}' skipped: {skip.message}")
        else:
            arguments.append(ArgumentItem(role, text, class_name))
    return arguments, problems


def _mention(node: ast.expr, argument_classes: FrozenSet[str]) -> Tuple[str, str]:
    """Read a mention: ``Entity("x")``, ``Human("x")`` (if allowed) or ``"x"``.

    RETURNS (Tuple[str, str]): The mention text and its wrapper class.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _nonempty(node.value, "the mention"), BASE_ENTITY_CLASS
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise _Skip(f"expected a mention such as Entity(\"...\"), got {_describe(node)}")
    class_name = node.func.id
    if class_name not in argument_classes:
        raise _Skip(f"class '{class_name}' may not wrap a mention "
                    f"(allowed: {', '.join(sorted(argument_classes))})")
    return _string(_bind_strictly(node, ENTITY_PARAMS), ENTITY_PARAMS[0]), class_name


def _bind(
    call: ast.Call, params: Sequence[str]
) -> Tuple[Dict[str, ast.expr], List[str]]:
    """Bind a call's arguments to parameter names the way Python would.

    Keyword names are unescaped (``__kw_from__`` -> ``from``) and may be
    unknown; the caller decides what to do with them.
    RETURNS (Tuple[Dict[str, ast.expr], List[str]]): Arguments by name in call
        order, and problems for surplus positional arguments.
    """
    bound: Dict[str, ast.expr] = {}
    problems: List[str] = []
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            raise _Skip("starred arguments (*x) are not allowed")
        if index < len(params):
            bound[params[index]] = arg
        else:
            problems.append(f"unexpected positional argument {index + 1} skipped")
    for keyword in call.keywords:
        if keyword.arg is None:
            raise _Skip("'**' arguments are not allowed")
        name = unescape_identifier(keyword.arg)
        if name in bound:
            raise _Skip(f"the argument '{name}' is given twice")
        bound[name] = keyword.value
    return bound, problems


def _bind_strictly(call: ast.Call, params: Sequence[str]) -> Dict[str, ast.expr]:
    """Bind like ``_bind`` but refuse surplus or unknown arguments."""
    bound, problems = _bind(call, params)
    if problems:
        raise _Skip(f"too many arguments (expected {', '.join(params)})")
    for name in bound:
        if name not in params:
            raise _Skip(f"unexpected argument '{name}' (expected {', '.join(params)})")
    return bound


def _string(bound: Mapping[str, ast.expr], param: str) -> str:
    """RETURNS (str): The string literal bound to ``param``."""
    node = bound.get(param)
    if node is None:
        raise _Skip(f"missing the argument '{param}'")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _nonempty(node.value, f"'{param}'")
    raise _Skip(f"'{param}' must be a string literal, got {_describe(node)}")


def _nonempty(text: str, what: str) -> str:
    if not text:
        raise _Skip(f"{what} is an empty string")
    return text


_NODE_NAMES = {
    ast.JoinedStr: "an f-string",
    ast.Attribute: "an attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.Starred: "a starred expression",
    ast.Call: "a call",
    ast.List: "a list",
    ast.Tuple: "a tuple",
}


def _describe(node: ast.AST) -> str:
    """RETURNS (str): A short description of a node for problem messages."""
    if isinstance(node, ast.Constant):
        type_name = type(node.value).__name__
        article = "an" if type_name[:1] in "aeiou" else "a"
        return f"{article} {type_name} constant"
    if isinstance(node, ast.Name):
        return f"the name '{node.id}'"
    return _NODE_NAMES.get(type(node), f"a {type(node).__name__} expression")


def _snippet(text: str) -> str:
    """RETURNS (str): ``repr`` of the text, shortened for messages."""
    if len(text) > _SNIPPET_CHARS:
        return repr(text[:_SNIPPET_CHARS]) + "..."
    return repr(text)
