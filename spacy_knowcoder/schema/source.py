"""Read a ``Schema`` out of Python class source, with ``ast`` (nothing is executed).

Both styles of the reference KnowCoder data are understood:

- the SFT style (docstrings with ``Description:``/``Examples:``; ED events list
  ``arg_names = [...]``; EAE events take one ``List[ Entity ]`` parameter per
  role and keep trigger examples in a ``# Examples:`` comment), and
- the evaluation class-definition style (no docstrings; relation constraints
  as ``head_entity: Human | Organization``).

A class is an entity, relation or event type according to its ancestry
(``Entity``/``Relation``/``Event``), or, when its parent is not defined in the
source (``class CoordinateSystem(PhysicalEntity)``), its shape: ``head_entity``
makes a relation, ``trigger`` an event, anything else an entity. Event roles
that are Python keywords (``from``) are accepted, as in the released data.

Example:
    >>> schema = schema_from_source("class City(Location):\\n\\tpass\\n")
    >>> schema.entities[0].parents
    ('Location',)
"""
import ast
import io
import tokenize
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from ..errors import Errors
from ..pycode import escape_keyword_identifiers, unescape_identifier
from .types import BASE_CLASSES, BASE_ENTITY, BASE_EVENT, BASE_RELATION, EntityType
from .types import EventType, RelationType, Schema, SchemaType

_KIND_OF_BASE = {BASE_ENTITY: "entity", BASE_RELATION: "relation", BASE_EVENT: "event"}
DESCRIPTION = "Description:"
EXAMPLES = "Examples:"


def schema_from_source(source: str, *, where: str = "<string>") -> Schema:
    """Parse KnowCoder class definitions into a schema.

    source (str): Python source with ``class X(Entity|Relation|Event|...)`` definitions.
    where (str): Where the source came from, for error messages.
    RETURNS (Schema): The types, in source order, labelled with their class names.
    """
    escaped, _ = escape_keyword_identifiers(source)
    try:
        module = ast.parse(escaped)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ValueError(Errors.E008.format(where=where, reason=_reason(err))) from None
    comments = _comments_by_line(escaped)
    classes = [node for node in module.body if isinstance(node, ast.ClassDef)]
    kinds = _resolve_kinds(classes)
    types: Dict[str, List[SchemaType]] = {"entity": [], "relation": [], "event": []}
    for node in classes:
        if _is_base_class(node):
            continue
        kind = kinds[node.name]
        types[kind].append(_BUILDERS[kind](node, comments))
    if not any(types.values()):
        raise ValueError(Errors.E009.format(where=where))
    return Schema(entities=tuple(types["entity"]), relations=tuple(types["relation"]),
                  events=tuple(types["event"]))


def schema_from_class_defs(defs: Union[Mapping[str, str], Sequence[str]], *,
                           where: str = "<class defs>") -> Schema:
    """Parse a collection of class-definition strings (the evaluation JSON format).

    defs (Mapping[str, str] | Sequence[str]): Class name -> source, or sources.
    RETURNS (Schema): The parsed schema.
    """
    sources = list(defs.values()) if isinstance(defs, Mapping) else list(defs)
    return schema_from_source("\n\n".join(sources), where=where)


def _reason(err: BaseException) -> str:
    if isinstance(err, SyntaxError):
        return f"{err.msg} (line {err.lineno})"
    return type(err).__name__


def _is_base_class(node: ast.ClassDef) -> bool:
    return node.name in BASE_CLASSES and not node.bases


def _base_names(node: ast.ClassDef) -> List[str]:
    return [unescape_identifier(b.id) for b in node.bases if isinstance(b, ast.Name)]


def _resolve_kinds(classes: Sequence[ast.ClassDef]) -> Dict[str, str]:
    by_name = {node.name: node for node in classes}
    kinds: Dict[str, str] = {}

    def kind_of(node: ast.ClassDef) -> str:
        # Iterative walk up the ancestry, so long chains cannot exhaust the stack;
        # the ancestors met on the way are memoized, so a chain costs linear time.
        seen, current = set(), node
        while current.name not in kinds:
            if current.name in seen:
                return _kind_from_shape(node)  # an inheritance cycle
            seen.add(current.name)
            parents = _base_names(current)
            if any(p in _KIND_OF_BASE for p in parents):
                return _memo(seen, next(_KIND_OF_BASE[p] for p in parents
                                        if p in _KIND_OF_BASE))
            defined = [by_name[p] for p in parents if p in by_name and p != current.name]
            if not defined:
                return _memo(seen, _kind_from_shape(current))
            current = defined[0]
        return _memo(seen, kinds[current.name])

    def _memo(names: Set[str], kind: str) -> str:
        for name in names:
            kinds.setdefault(name, kind)
        return kind

    for node in classes:
        if not _is_base_class(node):
            kinds[node.name] = kind_of(node)
    return kinds


def _kind_from_shape(node: ast.ClassDef) -> str:
    init = _init_of(node)
    if init is None:
        return "entity"
    params = {unescape_identifier(a.arg) for a in init.args.args}
    if "head_entity" in params or "tail_entity" in params:
        return "relation"
    if "trigger" in params:
        return "event"
    return "entity"


def _init_of(node: ast.ClassDef) -> Optional[ast.FunctionDef]:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return item
    return None


def _comments_by_line(source: str) -> Dict[int, str]:
    comments: Dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments


def _docstring_fields(node: ast.ClassDef) -> Tuple[str, Optional[str]]:
    """The (description, raw examples line) of a class docstring."""
    doc = ast.get_docstring(node, clean=False) or ""
    description, examples = "", None
    for line in doc.split("\n"):
        text = line.lstrip("\t ")
        if text.startswith(DESCRIPTION):
            description = _after_prefix(text, DESCRIPTION)
        elif text.startswith(EXAMPLES):
            examples = _after_prefix(text, EXAMPLES)
    return description, examples


def _after_prefix(text: str, prefix: str) -> str:
    rest = text[len(prefix):]
    return rest[1:] if rest.startswith(" ") else rest


def split_examples(raw: Optional[str]) -> Tuple[str, ...]:
    """Split an ``Examples:`` line: ``a, b, c`` or the events' ``a, b, `` form."""
    if not raw:
        return ()
    parts = raw.split(", ")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    return tuple(parts)


def split_example_pairs(raw: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    """Split a relation ``Examples:`` line: ``(a, b), (c, d)``."""
    pairs = []
    for group in _paren_groups(raw or ""):
        head, sep, tail = group.partition(", ")
        pairs.append((head, tail) if sep else (group, ""))
    return tuple(pairs)


def _paren_groups(raw: str) -> List[str]:
    groups, depth, start = [], 0, -1
    for i, char in enumerate(raw):
        if char == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif char == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                groups.append(raw[start:i])
    return groups


def _entity(node: ast.ClassDef, comments: Mapping[int, str]) -> EntityType:
    description, examples = _docstring_fields(node)
    return EntityType(label=node.name, class_name=node.name, description=description,
                      examples=split_examples(examples),
                      parents=tuple(_base_names(node)) or (BASE_ENTITY,))


def _relation(node: ast.ClassDef, comments: Mapping[int, str]) -> RelationType:
    description, examples = _docstring_fields(node)
    head: Tuple[str, ...] = ()
    tail: Tuple[str, ...] = ()
    init = _init_of(node)
    if init is not None:
        for arg in init.args.args:
            if arg.arg == "head_entity":
                head = _annotation_names(arg.annotation)
            elif arg.arg == "tail_entity":
                tail = _annotation_names(arg.annotation)
    return RelationType(label=node.name, class_name=node.name, description=description,
                        examples=split_example_pairs(examples),
                        parents=tuple(_base_names(node)) or (BASE_RELATION,),
                        head=head, tail=tail)


def _annotation_names(annotation: Optional[ast.expr]) -> Tuple[str, ...]:
    """Class names in ``A | B``, ``Union[A, B]`` or ``A``; ``Entity`` means any."""
    names: List[str] = []
    stack = [annotation] if annotation is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            stack.extend([node.right, node.left])
        elif isinstance(node, ast.Subscript):
            inner = node.slice
            stack.extend(reversed(inner.elts) if isinstance(inner, ast.Tuple) else [inner])
        elif isinstance(node, ast.Name) and node.id != BASE_ENTITY:
            names.append(node.id)
    return tuple(dict.fromkeys(names))


def _event(node: ast.ClassDef, comments: Mapping[int, str]) -> EventType:
    description, examples = _docstring_fields(node)
    init = _init_of(node)
    roles: Tuple[str, ...] = ()
    if init is not None:
        roles = _arg_names_list(init) or _role_params(init)
        if examples is None:
            examples = _trigger_comment_examples(init, comments)
    return EventType(label=node.name, class_name=node.name, description=description,
                     examples=split_examples(examples),
                     parents=tuple(_base_names(node)) or (BASE_EVENT,), roles=roles)


def _arg_names_list(init: ast.FunctionDef) -> Tuple[str, ...]:
    """ED style: ``arg_names = ["spouse", "place"]`` in the body."""
    for stmt in init.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "arg_names"
                and isinstance(stmt.value, (ast.List, ast.Tuple))):
            return tuple(elt.value for elt in stmt.value.elts
                         if isinstance(elt, ast.Constant) and isinstance(elt.value, str))
    return ()


def _role_params(init: ast.FunctionDef) -> Tuple[str, ...]:
    """EAE style: one parameter per role after ``self`` and ``trigger``."""
    skip = {"self", "trigger", "arg_names"}
    return tuple(unescape_identifier(a.arg) for a in init.args.args if a.arg not in skip)


def _trigger_comment_examples(init: ast.FunctionDef, comments: Mapping[int, str]) -> Optional[str]:
    for arg in init.args.args:
        if arg.arg == "trigger":
            comment = comments.get(arg.lineno, "")
            text = comment.lstrip("#").lstrip(" ")
            if text.startswith(EXAMPLES):
                return _after_prefix(text, EXAMPLES)
    return None


_BUILDERS = {"entity": _entity, "relation": _relation, "event": _event}
