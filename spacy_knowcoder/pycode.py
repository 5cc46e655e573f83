"""Token-level helpers for the Python-like code that KnowCoder reads and writes.

KnowCoder's released data is almost Python: event roles are sometimes Python
keywords (``from: List[ Entity ]``, ``Marriage(trigger = "wife", from = [...])``),
which ``ast`` refuses. These helpers work on Python *tokens* (never on regexes
and never by executing anything) so the rest of the package can use ``ast``.

Example:
    >>> src, names = escape_keyword_identifiers("f(x, from = [1])")
    >>> src
    'f(x, __kw_from__ = [1])'
    >>> unescape_identifier("__kw_from__")
    'from'
"""
import io
import keyword
import tokenize
from typing import List, Set, Tuple

KEYWORD_PREFIX = "__kw_"
KEYWORD_SUFFIX = "__"
_END = "<end of line>"
# Tokens after which a keyword is used as a *name* in KnowCoder code: a parameter
# or attribute (``self.from``), and before which it is a name: ``from:``/``from =``.
_NAME_BEFORE = {":", "=", ",", ")", "]", _END}
_NAME_AFTER = {".", "(", ",", "=", "["}


def _is_reserved_name(name: str) -> bool:
    # None/True/False are values, never role names worth rescuing.
    return keyword.iskeyword(name) and name not in ("None", "True", "False")


def escape_identifier(name: str) -> str:
    """Return a valid identifier standing for ``name`` (a keyword gets a wrapper)."""
    if _is_reserved_name(name):
        return f"{KEYWORD_PREFIX}{name}{KEYWORD_SUFFIX}"
    return name


def unescape_identifier(name: str) -> str:
    """Undo ``escape_identifier``."""
    if name.startswith(KEYWORD_PREFIX) and name.endswith(KEYWORD_SUFFIX):
        inner = name[len(KEYWORD_PREFIX) : -len(KEYWORD_SUFFIX)]
        if _is_reserved_name(inner):
            return inner
    return name


def escape_keyword_identifiers(source: str) -> Tuple[str, Set[str]]:
    """Rewrite Python keywords that are used as names so that ``ast`` accepts the code.

    A keyword counts as a name when it follows ``.``/``(``/``,``/``=``/``[`` and
    precedes ``:``/``=``/``,``/``)``/``]`` or the end of a line (a parameter,
    keyword argument, attribute or value). Only
    those tokens change; every other byte of the source is kept.

    source (str): Python-like source text.
    RETURNS (Tuple[str, Set[str]]): The rewritten source and the keywords replaced.
        When the source cannot be tokenized it is returned unchanged.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source, set()
    significant = [
        tok for tok in tokens
        if tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    ]
    replacements: List[Tuple[Tuple[int, int], Tuple[int, int], str]] = []
    found: Set[str] = set()
    for i, tok in enumerate(significant):
        if tok.type != tokenize.NAME or not _is_reserved_name(tok.string):
            continue
        before = significant[i - 1].string if i > 0 else ""
        after = _token_text(significant[i + 1]) if i + 1 < len(significant) else _END
        if before in _NAME_AFTER and after in _NAME_BEFORE:
            replacements.append((tok.start, tok.end, escape_identifier(tok.string)))
            found.add(tok.string)
    if not replacements:
        return source, found
    return _apply_replacements(source, replacements), found


def _token_text(tok: tokenize.TokenInfo) -> str:
    if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
        return _END
    return tok.string


def _apply_replacements(
    source: str, replacements: List[Tuple[Tuple[int, int], Tuple[int, int], str]]
) -> str:
    # Split lines the way the tokenizer reads them (not str.splitlines, which also
    # breaks on characters such as \x85 or \u2028 that Python strings may hold).
    lines = io.StringIO(source).readlines()
    # Work from the last replacement backwards so earlier positions stay valid.
    for (row, col), (end_row, end_col), new in reversed(replacements):
        assert row == end_row, "a NAME token never spans lines"
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[end_col:]
    return "".join(lines)


def quote_string(text: str) -> str:
    """Quote ``text`` as a double-quoted Python string literal.

    Unlike ``repr`` this always uses double quotes (as KnowCoder's code does) and
    keeps non-ASCII characters as they are.

    >>> quote_string('He said "hi"\\n')
    '"He said \\\\"hi\\\\"\\\\n"'
    """
    out = ['"']
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif not char.isprintable() and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
