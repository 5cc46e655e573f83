"""The ``labels`` setting per language: one ontology, spaCy labels in the user's language.

Class names are the identifiers of one ontology in every language (the model
writes ``Person("...")`` for German and Chinese text alike). What a user sees
in ``doc.ents`` is the spaCy label, which the component's ``labels`` setting
can set per class. That setting takes two forms:

- flat, for every language: ``{"Person": "PER", "Location": "LOC"}``;
- per language, keyed by spaCy language code, with ``"*"`` as an optional
  fallback: ``{"de": {"Person": "Person", "Location": "Ort"}, "zh": {"Person":
  "人物"}, "*": {"Person": "PER"}}``. The pipeline's language (``nlp.lang``)
  picks its map; a pipeline whose language has no entry and no ``"*"`` gets
  E025, which names the languages the setting has.

Example:
    >>> labels_for_language({"Person": "PER"}, "de")
    {'Person': 'PER'}
    >>> labels_for_language({"de": {"Location": "Ort"}, "*": {"Location": "LOC"}}, "de")
    {'Location': 'Ort'}
    >>> labels_for_language({"de": {"Location": "Ort"}, "*": {"Location": "LOC"}}, "fr")
    {'Location': 'LOC'}
"""
from typing import Any, Dict, Mapping

from ..errors import Errors

FALLBACK = "*"


def is_per_language(labels: Mapping[str, Any]) -> bool:
    """Whether a ``labels`` setting is keyed by language (every value a mapping)."""
    return bool(labels) and all(isinstance(value, Mapping) for value in labels.values())


def labels_for_language(labels: Mapping[str, Any], lang: str) -> Dict[str, str]:
    """The class name -> spaCy label map of the ``labels`` setting for ``lang``.

    labels (Mapping[str, Any]): The setting, flat or per language.
    lang (str): The pipeline's language code.
    RETURNS (Dict[str, str]): The map for that language ({} for an empty setting).
    """
    if not labels:
        return {}
    if not is_per_language(labels):
        bad = [key for key, value in labels.items() if not isinstance(value, str)]
        if bad:
            raise ValueError(Errors.E026.format(key=bad[0], value=labels[bad[0]]))
        return dict(labels)
    chosen = labels.get(lang, labels.get(FALLBACK))
    if chosen is None:
        raise ValueError(Errors.E025.format(lang=lang, languages=", ".join(sorted(labels))))
    bad = [key for key, value in chosen.items() if not isinstance(value, str)]
    if bad:
        raise ValueError(Errors.E026.format(key=bad[0], value=chosen[bad[0]]))
    return dict(chosen)
