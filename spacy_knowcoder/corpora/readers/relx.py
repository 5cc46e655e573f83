"""RELX-Distant (``RELX_distant_<lang>.json``): multilingual relations with Wikidata P-ids.

A file is a JSON array of ``{"sentence", "entity1_indices": [start, end],
"entity2_indices": [start, end], "relation": P-id, "relation_name", ...}``
with exclusive character ends. ``entity1`` is the head and ``entity2`` the
tail (``Maggi`` *owned by* ``Nestlé``). The P-id maps to its English
Wikidata label through the label map, so every language shares one
relation ontology. Like FewRel, RELX has no entity types: head and tail
carry the label ``entity``.

Example:
    >>> import tempfile, pathlib, json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "RELX_distant_de.json"
    >>> row = {"sentence": "Maggi gehört zu Nestlé.", "entity1_indices": [0, 5],
    ...        "entity2_indices": [16, 22], "relation": "P127"}
    >>> _ = path.write_text(json.dumps([row]), encoding="utf-8")
    >>> rel = next(read_relx(path, {"P127": "owned by"}))["relations"][0]
    >>> rel["head"]["text"], rel["label"], rel["tail"]["text"]
    ('Maggi', 'owned by', 'Nestlé')
"""
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping

from ...errors import Errors
from ..records import Record, make_record, mention
from .jsonfiles import read_json, require

ENTITY = "entity"
EXPECTED = ('a JSON array of {"sentence", "entity1_indices": [start, end], '
            '"entity2_indices": [start, end], "relation": P-id}')


def read_relx(path: Path, label_map: Mapping[str, str], *,
              dataset: str = "relx_distant") -> Iterator[Record]:
    """Yield one record per RELX sentence, in file order."""
    data = read_json(path, expected=EXPECTED)
    if not isinstance(data, list):
        raise ValueError(Errors.E250.format(path=path, line=1, reason="the top level is a "
                                            f"{type(data).__name__}", expected=EXPECTED))
    for index, row in enumerate(data):
        where = f"item {index}"
        if not isinstance(row, dict):
            raise ValueError(Errors.E250.format(path=path, line=where, reason="an item is "
                                                "not an object", expected=EXPECTED))
        require(row, ("sentence", "entity1_indices", "entity2_indices", "relation"), path,
                index, "RELX item")
        if row["relation"] not in label_map:
            raise ValueError(Errors.E251.format(label=row["relation"], path=path, line=where,
                                                dataset=dataset,
                                                known=", ".join(sorted(label_map))))
        text = row["sentence"]
        relation = {"head": _argument(path, where, text, row["entity1_indices"]),
                    "tail": _argument(path, where, text, row["entity2_indices"]),
                    "label": label_map[row["relation"]]}
        yield make_record(f"{Path(path).stem}-{index}", text, relations=[relation])


def _argument(path: Path, where: str, text: str, span: Any) -> Dict[str, Any]:
    valid = (isinstance(span, (list, tuple)) and len(span) == 2
             and all(isinstance(v, int) for v in span) and 0 <= span[0] < span[1] <= len(text))
    if not valid or text[span[0]:span[1]].strip() != text[span[0]:span[1]]:
        raise ValueError(Errors.E250.format(
            path=path, line=where, reason=f"the entity span {span!r} is not a mention of "
            "the sentence", expected="[start, end) character offsets inside the sentence"))
    return mention(text, span[0], span[1], ENTITY)
