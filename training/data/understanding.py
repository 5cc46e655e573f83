"""Schema-understanding data: definition code and instance code (DESIGN §7).

Definition documents render groups of library classes (``render_schema``);
instance documents follow the reference's pretraining format::

    # Extract the entities from the following sentence.
    sentence = "Ann lives in Rome."
    from Entities import Person, Location
    results = [
    	Person("Ann"),
    	Location("Rome")
    ]

and the same for relations (``from Relations import ...``) and events.

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human."}})
    >>> record = {"text": "Ann", "entities": [{"start": 0, "end": 3, "label": "person", "text": "Ann"}],
    ...           "relations": [], "events": []}
    >>> instance_document("ner", record, schema).splitlines()[1:4]
    ['sentence = "Ann"', 'from Entities import Person', 'results = [']
"""
import random
from typing import Any, Dict, List, Optional, Sequence

from spacy_knowcoder.pycode import quote_string
from spacy_knowcoder.schema import Schema
from spacy_knowcoder.schema.render import render_schema

from .responses import EMPTY, render_results

HEADERS = {"ner": ("entities", "Entities"), "re": ("relations", "Relations"),
           "eae": ("events", "Events")}


def instance_document(task: str, record: Dict[str, Any], schema: Schema) -> Optional[str]:
    """Instance code for one record and task ("ner", "re" or "eae"), or None if empty."""
    results = render_results(task, record, schema)
    if results == EMPTY:
        return None
    what, module = HEADERS[task]
    lines = [f"# Extract the {what} from the following sentence.",
             f"sentence = {quote_string(record['text'])}"]
    used = _used_classes(task, record, schema)
    for name, classes in used.items():
        if classes:
            lines.append(f"from {name} import {', '.join(classes)}")
    return "\n".join(lines + [results])


def _used_classes(task: str, record: Dict[str, Any], schema: Schema) -> Dict[str, List[str]]:
    def names(kind: str, labels: Sequence[str]) -> List[str]:
        found = (schema.by_label(kind, label) for label in labels)
        return list(dict.fromkeys(t.class_name for t in found if t is not None))

    if task == "ner":
        return {"Entities": names("entity", [e["label"] for e in record["entities"]])}
    if task == "re":
        return {"Relations": names("relation", [r["label"] for r in record["relations"]])}
    return {"Events": names("event", [e["type"] for e in record["events"]])}


def definition_documents(schema: Schema, rng: random.Random, per_document: int,
                         cap: int) -> List[str]:
    """Class-definition documents: shuffled groups of ``per_document`` classes."""
    groups: List[Schema] = []
    for kind in ("entities", "relations", "events"):
        types = list(getattr(schema, kind))
        rng.shuffle(types)
        for i in range(0, len(types), per_document):
            groups.append(Schema(**{kind: tuple(types[i:i + per_document])}))
    rng.shuffle(groups)
    return [render_schema(group) for group in (groups[:cap] if cap else groups)]
