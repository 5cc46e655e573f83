"""Code-style schemas: types, naming, building from dicts and Python source, rendering."""
from .build import schema_from_dict, schema_to_dict
from .io import load_schema, save_schema
from .naming import class_name_for_label
from .source import schema_from_class_defs, schema_from_source
from .types import EntityType, EventType, RelationType, Schema, SchemaType

__all__ = [
    "EntityType", "EventType", "RelationType", "Schema", "SchemaType",
    "class_name_for_label", "load_schema", "save_schema", "schema_from_class_defs",
    "schema_from_dict", "schema_from_source", "schema_to_dict",
]
