"""Schema-following data: instruction samples for NER, RE, ED and EAE (DESIGN §3, §7).

Each sample is ``{"prompt", "response", "task", "dataset"}``; the prompt is
``wrap_query(render_query(...))`` (ends with ``"\\nOutput:\\n"``) and the
response the gold answer restricted to the prompt's candidate classes.

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
    >>> record = {"text": "Ann", "entities": [{"start": 0, "end": 3, "label": "person", "text": "Ann"}]}
    >>> sample = ner_sample(record, schema, ["person"], "toy", quoting="python")
    >>> sample["prompt"].endswith('sentence = "Ann"\\n\\nOutput:\\n'), sample["response"]
    (True, 'results = [\\n\\tPerson("Ann")\\n]')
"""
import random
from typing import Any, Dict, Iterator, List, Optional, Sequence

from spacy_knowcoder.prompting import Trigger, render_query, wrap_query
from spacy_knowcoder.schema import Schema

from .responses import render_results
from .sampling import candidates
from .settings import DataSettings

Sample = Dict[str, Any]


def subschema(schema: Schema, kind: str, labels: Sequence[str]) -> Schema:
    """The schema restricted to ``labels`` of one kind, in the given order."""
    lookup = [schema.by_label(kind, label) for label in labels]
    types = tuple(t for t in lookup if t is not None)
    if kind == "entity":
        return Schema(entities=types)  # type: ignore[arg-type]
    if kind == "relation":
        return Schema(relations=types)  # type: ignore[arg-type]
    return Schema(events=types)  # type: ignore[arg-type]


def _sample(task: str, record: Dict[str, Any], schema: Schema, dataset: str, quoting: str,
            triggers: Sequence[Trigger] = ()) -> Sample:
    query = render_query(task, schema, record["text"], triggers=triggers,  # type: ignore[arg-type]
                         quoting=quoting)  # type: ignore[arg-type]
    return {"prompt": wrap_query(query), "response": render_results(task, record, schema),
            "task": task, "dataset": dataset}


def ner_sample(record: Dict[str, Any], schema: Schema, labels: Sequence[str], dataset: str,
               quoting: str = "python") -> Sample:
    """One NER sample with the candidate entity ``labels``."""
    return _sample("ner", record, subschema(schema, "entity", labels), dataset, quoting)


def task_samples(task: str, records: Sequence[Dict[str, Any]], schema: Schema, dataset: str,
                 rng: random.Random, settings: DataSettings) -> Iterator[Sample]:
    """Samples of one task for the given records (EAE: one per record with events)."""
    for record in records:
        sample = _one(task, record, schema, dataset, rng, settings)
        if sample is not None:
            yield sample


def _one(task: str, record: Dict[str, Any], schema: Schema, dataset: str,
         rng: random.Random, settings: DataSettings) -> Optional[Sample]:
    quoting = settings.quoting
    if task == "ner":
        gold = [e["label"] for e in record["entities"]]
        labels = candidates(rng, gold, [t.label for t in schema.entities],
                            settings.ner_candidates, settings.negative_share)
        return ner_sample(record, schema, labels, dataset, quoting)
    if task == "re":
        gold = [r["label"] for r in record["relations"]]
        labels = candidates(rng, gold, [t.label for t in schema.relations],
                            settings.re_candidates, settings.negative_share)
        return _sample("re", record, subschema(schema, "relation", labels), dataset, quoting)
    if task == "ed":
        gold = [e["type"] for e in record["events"]]
        size = rng.randint(settings.ed_candidates_min, settings.ed_candidates_max)
        size = max(size, len(set(gold)))
        labels = candidates(rng, gold, [t.label for t in schema.events], size,
                            settings.negative_share)
        return _sample("ed", record, subschema(schema, "event", labels), dataset, quoting)
    return _eae(record, schema, dataset, quoting)


def _eae(record: Dict[str, Any], schema: Schema, dataset: str, quoting: str
         ) -> Optional[Sample]:
    if not record["events"]:
        return None
    gold: List[str] = list(dict.fromkeys(e["type"] for e in record["events"]))
    sub = subschema(schema, "event", gold)
    triggers = [Trigger(text=e["trigger"]["text"],
                        event_type=sub.by_label("event", e["type"]).class_name)  # type: ignore[union-attr]
                for e in sorted(record["events"], key=lambda e: e["trigger"]["start"])]
    return _sample("eae", record, sub, dataset, quoting, triggers)
