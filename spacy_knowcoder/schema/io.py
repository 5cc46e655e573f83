"""Load and save schema files: JSON (dict form or class-definition map) and Python source.

Example:
    >>> schema = load_schema("schema.json")  # doctest: +SKIP
"""
import json
from pathlib import Path
from typing import Any, Optional, Union

import srsly

from ..errors import Errors
from .build import SECTION_ALIASES, schema_from_dict, schema_to_dict
from .render import render_schema
from .source import schema_from_class_defs, schema_from_source
from .types import Schema


def check_schema_source(schema: Optional[Any], schema_file: Optional[Any]) -> None:
    """A schema comes from exactly one of ``schema`` (a dict) and ``schema_file``:
    E015 for both, E014 for neither (the component and the spacy-llm task alike).

    Example:
        >>> check_schema_source({"entities": {"person": "A human."}}, None)
    """
    if schema and schema_file:
        raise ValueError(Errors.E015)
    if not schema and not schema_file:
        raise ValueError(Errors.E014)


def load_schema(path: Union[str, Path]) -> Schema:
    """Read a schema from a ``.json`` or ``.py`` file.

    A JSON file holds the dict form (``{"entities": {...}, ...}``), a benchmark
    label file (``{"entity_labels": {...}, "relation_labels": ..., "event_types": ...}``)
    or a map
    of class name to class-definition source (the KnowCoder evaluation format).

    path (str | Path): The file.
    RETURNS (Schema): The schema.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(Errors.E010.format(path=path))
    suffix = path.suffix.lower()
    if suffix not in (".json", ".py"):
        raise ValueError(Errors.E012.format(path=path, suffix=suffix))
    try:
        text = path.read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(Errors.E011.format(path=path, reason=err)) from None
    if suffix == ".py":
        return schema_from_source(text, where=str(path))
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ValueError(Errors.E011.format(path=path, reason=f"invalid JSON: {err}")) from None
    return _schema_from_json(data, path)


# The benchmark label file of DESIGN §5: a schema in other words.
LABEL_FILE_SECTIONS = {"entity_labels": "entities", "relation_labels": "relations",
                       "event_types": "events"}


def _schema_from_json(data: Any, path: Path) -> Schema:
    if isinstance(data, dict) and data and set(data) <= set(LABEL_FILE_SECTIONS):
        data = {LABEL_FILE_SECTIONS[key]: value for key, value in data.items()}
    if isinstance(data, dict) and data and all(isinstance(v, str) for v in data.values()) \
            and not set(data) & set(SECTION_ALIASES):
        return schema_from_class_defs(data, where=str(path))
    return schema_from_dict(data)


def save_schema(schema: Schema, path: Union[str, Path]) -> None:
    """Write a schema as dict-form JSON (loads back to an equal schema) or, for a
    ``.py`` path, as Python class source (labels become the class names).
    """
    path = Path(path)
    if path.suffix.lower() == ".py":
        path.write_text(render_schema(schema), encoding="utf8")
    else:
        srsly.write_json(path, schema_to_dict(schema))
