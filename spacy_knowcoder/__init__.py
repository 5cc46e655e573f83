"""KnowCoder-style universal information extraction for spaCy.

Importing the package registers the ``knowcoder`` factory, the
``Doc._.relations``/``Doc._.events`` extensions and the scorer; spaCy also finds
the factory through the ``spacy_factories`` entry point, so ``spacy.load`` works
without importing this package first.

Example:
    >>> import spacy, spacy_knowcoder
    >>> nlp = spacy.blank("en")
    >>> "knowcoder" in nlp.factory_names
    True
"""
from .about import __version__
from .component import KnowCoder, make_knowcoder
from .extensions import event_spans, register_extensions, relation_spans
from .schema import Schema, load_schema, schema_from_dict, schema_from_source

__all__ = [
    "KnowCoder", "Schema", "__version__", "event_spans", "load_schema", "make_knowcoder",
    "register_extensions", "relation_spans", "schema_from_dict", "schema_from_source",
]
