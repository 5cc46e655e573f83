"""``Doc._.relations``, ``Doc._.events`` and ``Doc._.knowcoder_diagnostics``.

Values are plain JSON-like data (DESIGN §4) kept in ``doc.user_data`` under the
keys spaCy uses for extension attributes, so ``DocBin(store_user_data=True)``
round-trips them. The getters always return fresh lists/dicts (DocBin gives
tuples back; they are normalized), so no default is shared between docs.

Relation: ``{"label", "head": {"start", "end", "label", "text"}, "tail": {...}, "score"}``
Event: ``{"type", "trigger": {"start", "end", "text"},
"arguments": [{"role", "start", "end", "text", "label"}], "score"}``
Offsets are character offsets into ``doc.text``, end exclusive.

Example:
    >>> import spacy
    >>> register_extensions()
    >>> doc = spacy.blank("en")("Ann met Bob.")
    >>> doc._.relations
    []
"""
from typing import Any, Callable, Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span

from .errors import Errors

RELATIONS = "relations"
EVENTS = "events"
DIAGNOSTICS = "knowcoder_diagnostics"


def _key(name: str) -> Tuple[str, str, None, None]:
    return ("._.", name, None, None)


def _plain(value: Any) -> Any:
    """Deep-copy into lists/dicts (DocBin returns tuples for lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _list_getter(name: str) -> Callable[[Doc], List[Dict[str, Any]]]:
    def getter(doc: Doc) -> List[Dict[str, Any]]:
        return _plain(doc.user_data.get(_key(name), []))

    getter.__qualname__ = f"knowcoder_get_{name}"
    return getter


def _list_setter(name: str) -> Callable[[Doc, Any], None]:
    def setter(doc: Doc, value: Any) -> None:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) for v in value):
            raise ValueError(Errors.E006.format(
                kind="value of", label=f"Doc._.{name}", reason=f"got {type(value).__name__}",
                expected="a list of dicts (see spacy_knowcoder.extensions)"))
        doc.user_data[_key(name)] = _plain(value)

    setter.__qualname__ = f"knowcoder_set_{name}"
    return setter


def _dict_getter(doc: Doc) -> Dict[str, Any]:
    return _plain(doc.user_data.get(_key(DIAGNOSTICS), {}))


def _dict_setter(doc: Doc, value: Dict[str, Any]) -> None:
    doc.user_data[_key(DIAGNOSTICS)] = _plain(dict(value))


_ACCESSORS = {
    RELATIONS: (_list_getter(RELATIONS), _list_setter(RELATIONS)),
    EVENTS: (_list_getter(EVENTS), _list_setter(EVENTS)),
    DIAGNOSTICS: (_dict_getter, _dict_setter),
}


def register_extensions() -> None:
    """Register the extensions; a clash with someone else's is a coded error (E013).

    Calling it again is a no-op.
    """
    for name, (getter, setter) in _ACCESSORS.items():
        if Doc.has_extension(name):
            _, _, existing_getter, _ = Doc.get_extension(name)
            if _same_function(existing_getter, getter):
                continue
            raise ValueError(Errors.E013.format(name=name))
        Doc.set_extension(name, getter=getter, setter=setter)


def _same_function(a: Any, b: Any) -> bool:
    # By name, not identity, so a reloaded module still recognises its own.
    return (getattr(a, "__module__", None) == b.__module__
            and getattr(a, "__qualname__", None) == b.__qualname__)


def relation_spans(doc: Doc) -> List[Tuple[Optional[Span], str, Optional[Span]]]:
    """The relations of ``doc`` as (head span, label, tail span) views (not stored).

    RETURNS (List[Tuple[Span, str, Span]]): One triple per relation.
    """
    return [(_span(doc, rel["head"]), rel["label"], _span(doc, rel["tail"]))
            for rel in doc._.get(RELATIONS)]


def event_spans(doc: Doc) -> List[Tuple[str, Optional[Span], List[Tuple[str, Optional[Span]]]]]:
    """The events of ``doc`` as (type, trigger span, [(role, argument span)]) views."""
    return [(evt["type"], _span(doc, evt["trigger"]),
             [(arg["role"], _span(doc, arg)) for arg in evt.get("arguments", [])])
            for evt in doc._.get(EVENTS)]


def _span(doc: Doc, mention: Dict[str, Any]) -> Optional[Span]:
    return doc.char_span(mention["start"], mention["end"], label=mention.get("label") or "",
                         alignment_mode="expand")
