"""Pile-NER type definitions (``pile_ner_types/top391_definitions.json``).

The passages themselves are BIO column files and go through
:func:`~spacy_knowcoder.corpora.readers.columns.read_columns`; this module
reads the other half of the set: one definition per entity type, written by
the SLIMER authors (CC BY-NC 4.0, like the passages). Each entry holds
``named_entity`` and ``gpt_answer``, a JSON *string* with ``Definition`` and
``Guidelines``. The definitions are training data, not package data: they are
read from the data folder when training samples are built, never copied into
the package.

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "defs.json"
    >>> answer = json.dumps({"Definition": "'city' is a town.", "Guidelines": "Skip villages."})
    >>> _ = path.write_text(json.dumps({"city": {"named_entity": "city", "gpt_answer": answer}}))
    >>> read_type_definitions(path)
    {'city': "'city' is a town."}
"""
import json
from pathlib import Path
from typing import Dict

from ...errors import Errors
from .jsonfiles import read_json


def read_type_definitions(path: Path) -> Dict[str, str]:
    """Entity type -> its definition (E256 when an entry is malformed).

    path (Path): The definitions file.
    RETURNS (Dict[str, str]): One definition per type, in file order.
    """
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(Errors.E256.format(path=path, line=1, reason="the top level is not "
                                            "an object", expected="{type: {named_entity, "
                                            "gpt_answer}}"))
    definitions: Dict[str, str] = {}
    for key, entry in data.items():
        definition = _definition(entry)
        if definition is None:
            raise ValueError(Errors.E256.format(
                path=path, line=1, reason=f"the entry {key!r} has no readable Definition",
                expected="'gpt_answer' holding a JSON object with a 'Definition' string"))
        definitions[str(entry.get("named_entity") or key)] = definition
    return definitions


def _definition(entry: object) -> "str | None":
    if not isinstance(entry, dict) or not isinstance(entry.get("gpt_answer"), str):
        return None
    try:
        answer = json.loads(entry["gpt_answer"])
    except json.JSONDecodeError:
        return None
    text = answer.get("Definition") if isinstance(answer, dict) else None
    return " ".join(text.split()) if isinstance(text, str) and text.strip() else None
