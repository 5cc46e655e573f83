"""Build event classes with roles from event ontologies.

- GENEVA ``event_ontology.json`` (FrameNet-derived, CC BY 3.0):
  ``{type: {frames: {frame: {description}}, arguments: {role: {...}}}}``; the
  description is the first frame's definition, the roles are the arguments.
- KAIROS ``event_role_KAIROS.json`` (WikiEvents; LDC KAIROS ontology):
  ``{"Conflict.Attack.Unspecified": {template, keywords, roles}}``; the dotted
  name gives the taxonomy (``Conflict`` > ``Conflict.Attack`` > the type), the
  keywords are trigger examples, the template (with ``<argN>`` replaced by the
  role names) is the description.

Example:
    >>> events = kairos_events({"Life.Die.Unspecified": {"template": "<arg1> died",
    ...     "keywords": ["die"], "roles": ["Victim"]}})
    >>> [(e.key, e.class_name, e.roles) for e in events]
    [('kairos:Life', 'Life', ()), ('kairos:Life.Die', 'Die', ()), ('kairos:Life.Die.Unspecified', 'DieUnspecified', ('Victim',))]
"""
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from ..library import LibraryClass, SchemaLibrary
from ..naming import class_name_for_label
from ._common import read_json_source, role_name, source_error

GENEVA_EXPECTED = '{"EventType": {"frames": {...}, "arguments": {"Role": {...}}}}'
KAIROS_EXPECTED = '{"A.B.C": {"template": "...", "keywords": [...], "roles": [...]}}'


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def geneva_events(data: Any, path: Union[str, Path] = "<data>") -> List[LibraryClass]:
    """Event classes from the GENEVA ontology (one per event type)."""
    if not isinstance(data, Mapping):
        raise source_error("GENEVA ontology", path, f"got {type(data).__name__}",
                           GENEVA_EXPECTED)
    out = []
    for name, entry in data.items():
        if not isinstance(entry, Mapping):
            raise source_error("GENEVA ontology", path, f"type {name!r} is not an object",
                               GENEVA_EXPECTED)
        frames = entry.get("frames") or {}
        descriptions = [f.get("description", "") for f in frames.values()
                        if isinstance(f, Mapping)]
        description = _first_sentence(descriptions[0]) if descriptions else ""
        roles = tuple(dict.fromkeys(role_name(r) for r in entry.get("arguments") or {}))
        out.append(LibraryClass("event", f"geneva:{name}", name, description, roles=roles,
                                aliases=tuple(frames), sources=("geneva",)))
    return out


def _kairos_description(template: str, roles: List[str]) -> str:
    def fill(match: "re.Match[str]") -> str:
        i = int(match.group(1)) - 1
        return roles[i] if 0 <= i < len(roles) else "someone"
    return re.sub(r"<arg(\d+)>", fill, template).strip()


def _kairos_class_name(parts: List[str]) -> str:
    # Many leaves are "Unspecified": name them after their parent ("AttackUnspecified").
    if len(parts) > 1 and parts[-1].lower() == "unspecified":
        return class_name_for_label(parts[-2]) + "Unspecified"
    return class_name_for_label(parts[-1])


def kairos_events(data: Any, path: Union[str, Path] = "<data>") -> List[LibraryClass]:
    """Event classes (with their dotted parents) from the KAIROS role file."""
    if not isinstance(data, Mapping):
        raise source_error("KAIROS ontology", path, f"got {type(data).__name__}",
                           KAIROS_EXPECTED)
    out: Dict[str, LibraryClass] = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping):
            raise source_error("KAIROS ontology", path, f"type {name!r} is not an object",
                               KAIROS_EXPECTED)
        parts = name.split(".")
        for depth in range(1, len(parts)):  # the intermediate classes of the taxonomy
            key = "kairos:" + ".".join(parts[:depth])
            if key not in out:
                parent = ("kairos:" + ".".join(parts[:depth - 1]),) if depth > 1 else ()
                out[key] = LibraryClass("event", key, ".".join(parts[:depth]), parents=parent,
                                        class_name=_kairos_class_name(parts[:depth]),
                                        sources=("kairos",))
        raw_roles = [r for r in entry.get("roles") or [] if isinstance(r, str)]
        roles = tuple(dict.fromkeys(role_name(r) for r in raw_roles))
        parent = ("kairos:" + ".".join(parts[:-1]),) if len(parts) > 1 else ()
        out["kairos:" + name] = LibraryClass(
            "event", "kairos:" + name, name,
            _kairos_description(entry.get("template") or "", raw_roles),
            examples=tuple(k for k in entry.get("keywords") or [] if isinstance(k, str)),
            parents=parent, roles=roles, class_name=_kairos_class_name(parts),
            sources=("kairos",))
    return list(out.values())


def build_events(library: Optional[SchemaLibrary] = None, *,
                 geneva: Optional[Union[str, Path]] = None,
                 kairos: Optional[Union[str, Path]] = None) -> SchemaLibrary:
    """Add the event types of the given ontology files to a library."""
    library = library if library is not None else SchemaLibrary()
    if geneva is not None:
        for cls in geneva_events(read_json_source(geneva, "GENEVA ontology", GENEVA_EXPECTED),
                                 geneva):
            library.add(cls)
    if kairos is not None:
        for cls in kairos_events(read_json_source(kairos, "KAIROS ontology", KAIROS_EXPECTED),
                                 kairos):
            library.add(cls)
    return library
