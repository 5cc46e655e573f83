"""The answer format, in one place: how a KnowCoder answer opens, renders its
items and closes, and how code is scanned for it (DESIGN §3).

Everything that writes or reads ``results = [...]`` uses this module: the
training data and the typing stage render items with it; the completion parser
finds the list and splits it into items with :func:`find_results_open` and
:func:`scan_items`; the generation stopper asks :func:`find_list_end` whether
a list is finished; the constrained grammar forces :data:`RESULTS_START` first.
An assignment counts where ``results`` starts a statement (a line, after
blanks, or after ``;``), so a ``results = [`` quoted inside the prompt's
sentence line is not taken for one.

Example:
    >>> answer = render_results([entity_item("Person", "Ann")])
    >>> answer
    'results = [\\n\\tPerson("Ann")\\n]'
    >>> find_list_end(answer + "\\nmore") == len(answer)
    True
"""
from typing import Iterable, Iterator, Optional, Sequence, Tuple

from .pycode import quote_string
from .schema.types import BASE_ENTITY

RESULTS_NAME = "results"
#: What every answer starts with (the constrained grammar forces it).
RESULTS_START = "results = ["

EMPTY_RESULTS = RESULTS_START + "]"
#: How a non-empty answer opens, and what precedes each of its items.
RESULTS_OPEN = RESULTS_START + "\n"
ITEM_INDENT = "\t"
#: Between two items, and what closes a non-empty answer.
ITEM_SEPARATOR = ",\n" + ITEM_INDENT
LIST_CLOSE = "\n]"


def render_results(items: Sequence[str]) -> str:
    """The ``results = [...]`` answer of KnowCoder's data for some item lines.

    Example:
        >>> render_results(['Person("Ann")'])
        'results = [\\n\\tPerson("Ann")\\n]'
        >>> render_results([])
        'results = []'
    """
    if not items:
        return EMPTY_RESULTS
    return RESULTS_OPEN + ITEM_INDENT + ITEM_SEPARATOR.join(items) + LIST_CLOSE


def entity_item(class_name: str, mention: str) -> str:
    """One gold NER item, ``Person("Ann")``; ED items have the same shape.

    Example:
        >>> entity_item("Person", "Ann")
        'Person("Ann")'
    """
    return f"{class_name}({quote_string(mention)})"


def trigger_item(class_name: str, trigger: str) -> str:
    """One gold ED item: the event class called with its trigger, ``Marriage("wed")``."""
    return entity_item(class_name, trigger)


def relation_item(class_name: str, head: str, tail: str) -> str:
    """One gold RE item, ``BornIn(Entity("Ann"), Entity("Rome"))``."""
    return f"{class_name}({_base_entity(head)}, {_base_entity(tail)})"


def event_item(class_name: str, trigger: str,
               roles: Iterable[Tuple[str, Sequence[str]]]) -> str:
    """One gold EAE item: trigger, then each role with its mentions, in the given order.

    Role names are written as the class definitions write them (DESIGN §3, the
    reference data: ``from: List[ Entity ]``), Python keywords included; the
    completion parser reads them back with ``pycode.escape_keyword_identifiers``.
    Roles without mentions are left out.

    Example:
        >>> event_item("Marriage", "wed", [("spouse", ["Bob"]), ("from", ["Rome"]), ("to", [])])
        'Marriage(trigger = "wed", spouse = [Entity("Bob")], from = [Entity("Rome")])'
    """
    parts = [f"trigger = {quote_string(trigger)}"]
    parts += [f"{role} = [{', '.join(_base_entity(m) for m in mentions)}]"
              for role, mentions in roles if mentions]
    return f"{class_name}({', '.join(parts)})"


def _base_entity(mention: str) -> str:
    return f"{BASE_ENTITY}({quote_string(mention)})"


# ---------------------------------------------------------------------------
# Scanning code for the list

_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_QUOTES = frozenset("\"'")
#: How an item ended in the scanner: at a top-level comma, at the list's closing
#: bracket, or at the end of the text (the list was cut off).
BY_COMMA, BY_CLOSE, BY_END = "comma", "close", "end"


def find_list_end(text: str, start: int = 0) -> Optional[int]:
    """Offset just after the ``]`` that closes the first ``results = [`` list.

    text (str): The code to scan.
    start (int): Where to start looking for the assignment.
    RETURNS (Optional[int]): The end offset (exclusive), or None when there is no
        ``results = [`` assignment at a line start or its list is still open.

    Example:
        >>> find_list_end('results = []\\nmore')
        12
    """
    open_index = find_results_open(text, start)
    if open_index is None:
        return None
    return find_list_close(text, open_index + 1)


def find_results_open(text: str, start: int = 0, last: bool = False) -> Optional[int]:
    """Offset of the ``[`` of a ``results = [`` assignment that starts a statement.

    text (str): The code to scan.
    start (int): Where to start looking.
    last (bool): Return the last assignment instead of the first.
    RETURNS (Optional[int]): Offset of the opening bracket, or None.

    Example:
        >>> find_results_open('x\\n  results = [')
        14
    """
    found = None
    pos = text.find(RESULTS_NAME, start)
    while pos != -1:
        bracket = _assignment_bracket(text, pos)
        if bracket is not None:
            if not last:
                return bracket
            found = bracket
        pos = text.find(RESULTS_NAME, pos + 1)
    return found


def open_results_prefix(prompt: str) -> str:
    """The tail of a prompt that opens a ``results = [`` list it does not close.

    Used when a prompt is primed with the start of the answer: the stopping check
    then scans this tail plus the completion.

    prompt (str): The prompt text.
    RETURNS (str): The prompt from its last open ``results = [`` on, or "".

    Example:
        >>> open_results_prefix('Output:\\nresults = [\\n\\tPerson("A")\\n')
        'results = [\\n\\tPerson("A")\\n'
    """
    bracket = find_results_open(prompt, last=True)
    if bracket is None or find_list_close(prompt, bracket + 1) is not None:
        return ""
    line_start = prompt.rfind("\n", 0, bracket) + 1
    return prompt[line_start:]


def scan_items(text: str, start: int) -> Iterator[Tuple[int, int, str]]:
    """Split a list body into top-level items without recursion.

    Tracks string literals (both quote styles, triple quotes, backslash
    escapes), comments and bracket depth, so commas and brackets inside them do
    not count.

    text (str): The completion.
    start (int): Index of the first character after the opening bracket.
    YIELDS (Tuple[int, int, str]): ``(start, end, how)`` per item, where ``how``
        is ``"comma"``, ``"close"`` (the list's ``]``) or ``"end"`` (cut off).
    """
    depth = 0
    item_start = pos = start
    has_code = False  # whether the current item has more than space and comments
    while pos < len(text):
        char = text[pos]
        if char == "#":
            pos = _skip_comment(text, pos)
            # A comment line before an item would leave it indented for ``ast``.
            item_start = item_start if has_code else pos
            continue
        has_code = has_code or not char.isspace()
        if char in _QUOTES:
            pos = _skip_string(text, pos)
            continue
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS and depth > 0:
            depth -= 1
        elif char == "]":
            yield item_start, pos, BY_CLOSE
            return
        elif char == "," and depth == 0:
            yield item_start, pos, BY_COMMA
            item_start = pos + 1
            has_code = False
        pos += 1
    yield item_start, len(text), BY_END


def find_list_close(text: str, start: int) -> Optional[int]:
    """Offset just after the ``]`` closing a list whose items start at ``start``.

    Uses the same scan as the parser (strings, comments, nested brackets), so
    whoever decides that a list is finished agrees with what gets parsed.

    text (str): The code.
    start (int): Index just after the list's opening bracket.
    RETURNS (Optional[int]): The end offset (exclusive), or None while open.

    Example:
        >>> find_list_close('results = [Person("]"), X((1))] rest', 11)
        31
    """
    for _, end, how in scan_items(text, start):
        if how == BY_CLOSE:
            return end + 1
    return None


def _skip_string(text: str, pos: int) -> int:
    """Skip a string literal that starts with the quote at ``pos``.

    A single-quoted string that reaches a newline ends there (Python would
    reject it; the item then fails to parse but the scan recovers).
    RETURNS (int): The index after the literal, or the end of the text.
    """
    quote = text[pos]
    triple = quote * 3
    is_triple = text.startswith(triple, pos)
    pos += 3 if is_triple else 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
        elif is_triple and text.startswith(triple, pos):
            return pos + 3
        elif not is_triple and char == quote:
            return pos + 1
        elif not is_triple and char == "\n":
            return pos
        else:
            pos += 1
    return len(text)


def _skip_comment(text: str, pos: int) -> int:
    """RETURNS (int): The index of the newline that ends the comment at ``pos``."""
    newline = text.find("\n", pos)
    return len(text) if newline == -1 else newline


def _assignment_bracket(text: str, pos: int) -> Optional[int]:
    """If ``results`` at pos starts a statement (a line, or after ``;``) and is
    assigned a list, the [ offset."""
    line_start = text.rfind("\n", 0, pos) + 1
    before = text[line_start:pos].rstrip(" \t")
    if before and not before.endswith(";"):
        return None
    i = pos + len(RESULTS_NAME)
    i = _skip_blanks(text, i)
    if i >= len(text) or text[i] != "=":
        return None
    i = _skip_blanks(text, i + 1)
    if i >= len(text) or text[i] != "[":
        return None
    return i


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i
