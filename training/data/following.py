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
import math
import random
from dataclasses import replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from spacy_knowcoder.prompting import Trigger, render_query, wrap_query
from spacy_knowcoder.schema import Schema
from spacy_knowcoder.schema.types import BASE_ENTITY

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


#: Where each task's gold labels are, and the schema kind of its candidates.
_GOLD = {"ner": ("entities", "label", "entity"), "re": ("relations", "label", "relation"),
         "ed": ("events", "type", "event")}


def task_samples(task: str, records: Sequence[Dict[str, Any]], schema: Schema, dataset: str,
                 rng: random.Random, settings: DataSettings) -> Iterator[Sample]:
    """Samples of one task for the given records (EAE: one per record with events).

    With ``settings.schema_group_size`` > 1, consecutive records form groups of
    up to that many whose NER/RE/ED prompts share one candidate list (the union
    of the group's gold classes plus negatives), so their prompts share the
    class-definition prefix and train with one prefix pass (``[sft]
    share_prefix``). A group closes early when its gold classes would not fit
    the candidate count. Where a group's longest sample would exceed
    ``settings.max_sample_chars``, absent classes leave its list, the last
    listed first, until it fits or one is left (long definitions, as in
    Pile-NER, then get shorter lists instead of no sample).
    """
    if task == "eae":
        for record in records:
            sample = _eae(record, schema, dataset, settings.quoting)
            if sample is not None:
                yield sample
        return
    weights = negative_weights(task, records) if settings.negatives == "frequency" else None
    for group in _groups(task, records, settings):
        labels = _candidates(task, group, schema, rng, settings, weights)
        if task == "ner" and settings.per_class and rng.random() < settings.per_class:
            yield from per_class_samples(group, labels, schema, dataset, rng, settings.quoting)
            continue
        rename = None
        if task == "ner" and settings.name_swap and rng.random() < settings.name_swap:
            rename = (swap_names, rng.random())  # the seed of this group's name permutation
        elif task == "ner" and settings.name_mask and rng.random() < settings.name_mask:
            rename = (mask_names, rng.random())
        yield from _fitted(task, group, labels, schema, dataset, settings, rename)


def _fitted(task: str, group: Sequence[Dict[str, Any]], labels: List[str], schema: Schema,
            dataset: str, settings: DataSettings,
            rename: Optional[Tuple[Callable[[Schema, random.Random], Schema], float]] = None
            ) -> List[Sample]:
    """The group's samples, with absent classes dropped while the longest is too long
    (and the listed classes renamed when ``rename`` gives a renamer and its seed:
    ``swap_names`` or ``mask_names``)."""
    gold = {label for record in group for label in _gold(task, record)}
    kind = _GOLD[task][2]
    while True:
        listed = subschema(schema, kind, labels)
        if rename is not None:
            listed = rename[0](listed, random.Random(rename[1]))
        samples = [_sample(task, record, listed, dataset, settings.quoting) for record in group]
        longest = max(len(s["prompt"]) + len(s["response"]) for s in samples)
        absent = [i for i, label in enumerate(labels) if label not in gold]
        if not settings.max_sample_chars or longest <= settings.max_sample_chars \
                or len(absent) <= 1 or len(labels) <= 1:
            return samples
        labels = labels[:absent[-1]] + labels[absent[-1] + 1:]


def per_class_samples(group: Sequence[Dict[str, Any]], labels: Sequence[str], schema: Schema,
                      dataset: str, rng: random.Random, quoting: str = "python"
                      ) -> Iterator[Sample]:
    """NER samples of ``group`` with one candidate class per prompt.

    Each listed class that occurs in the group asks about every record that
    holds it and as many records that do not (their answer is
    ``results = []``); about half as many listed classes that occur nowhere
    in the group ask about one record each. So the model learns to answer
    one class at a time, and that a listed class is no promise that it
    occurs (UniversalNER, Zhou et al. 2023, arXiv 2308.03279: one type per
    query, absent types answered empty). Samples of one class come one after
    another, so they share the class-definition prefix in SFT.

    Example:
        >>> from spacy_knowcoder.schema import schema_from_dict
        >>> schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
        >>> group = [{"text": "Ann", "entities": [{"start": 0, "end": 3, "label": "person", "text": "Ann"}]},
        ...          {"text": "Rome", "entities": [{"start": 0, "end": 4, "label": "city", "text": "Rome"}]}]
        >>> [s["response"].split() for s in per_class_samples(
        ...     group, ["person"], schema, "toy", random.Random(0))]
        [['results', '=', '[', 'Person("Ann")', ']'], ['results', '=', '[]']]
    """
    gold = [set(_gold("ner", record)) for record in group]
    present = [label for label in labels if any(label in g for g in gold)]
    absent = [label for label in labels if label not in present]
    asked = present + absent[:max(1, len(present) // 2)]
    for label in asked:
        holding = [i for i, g in enumerate(gold) if label in g]
        others = [i for i, g in enumerate(gold) if label not in g]
        chosen = sorted(holding + rng.sample(others, min(len(others), max(1, len(holding)))))
        one = subschema(schema, "entity", [label])
        for index in chosen:
            yield _sample("ner", group[index], one, dataset, quoting)


def swap_names(schema: Schema, rng: random.Random) -> Schema:
    """The entity types of ``schema`` with their class names moved among them.

    Every type gets another type's class name (a random cyclic shift over a
    random order, so no name stays); labels, definitions and examples stay
    where they were. A sample rendered with the result shows ``class City``
    with the person definition, and its answer calls a person ``City(...)``:
    only the docstring says which class fits (the swap test of
    ``benchmarks/class_following.py`` asks the model exactly that). A schema
    with fewer than two types, or with entity inheritance, comes back as is.

    Example:
        >>> from spacy_knowcoder.schema import schema_from_dict
        >>> schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
        >>> [(t.label, t.class_name) for t in swap_names(schema, random.Random(0)).entities]
        [('person', 'City'), ('city', 'Person')]
    """
    types = list(schema.entities)
    if len(types) < 2 or any(tuple(t.parents) != (BASE_ENTITY,) for t in types):
        return schema
    order = list(range(len(types)))
    rng.shuffle(order)
    shift = rng.randint(1, len(types) - 1)
    names = [t.class_name for t in types]
    moved = list(names)
    for position, index in enumerate(order):
        moved[index] = names[order[(position + shift) % len(order)]]
    return Schema(entities=tuple(replace(t, class_name=name) for t, name in zip(types, moved)))


#: Letters of the neutral class names ``mask_names`` gives (``EntityA`` ...).
MASK_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mask_names(schema: Schema, rng: random.Random) -> Schema:
    """The entity types of ``schema`` with neutral class names (``EntityA``, ``EntityB``...).

    The letters are drawn in random order, so neither a name nor its place in
    the list says which class a mention belongs to: only the docstring does.
    GoLLIE (Sainz et al. 2024, arXiv 2310.03668) masks class names in training
    so that the model learns to follow the guidelines. Labels, definitions and
    examples stay; the answer calls each mention by its class's new name. A
    schema with fewer than two types, more types than letters, or entity
    inheritance comes back as is.

    Example:
        >>> from spacy_knowcoder.schema import schema_from_dict
        >>> schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
        >>> [(t.label, t.class_name) for t in mask_names(schema, random.Random(0)).entities]
        [('person', 'EntityM'), ('city', 'EntityY')]
    """
    types = list(schema.entities)
    if not 2 <= len(types) <= len(MASK_LETTERS) \
            or any(tuple(t.parents) != (BASE_ENTITY,) for t in types):
        return schema
    letters = rng.sample(MASK_LETTERS, len(types))
    return Schema(entities=tuple(replace(t, class_name=f"Entity{letter}")
                                 for t, letter in zip(types, letters)))


def negative_weights(task: str, records: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """Sampling weight of each class as a negative: the square root of how often
    it occurs in ``records`` (classes that never occur weigh 1). The square root
    keeps frequent classes often listed-but-absent without crowding out the
    rare ones of a many-type set.

    Example:
        >>> negative_weights("ner", [{"entities": [{"label": "a"}] * 4}])
        {'a': 2.0}
    """
    counts: Dict[str, float] = {}
    for record in records:
        for label in _gold(task, record):
            counts[label] = counts.get(label, 0.0) + 1.0
    return {label: math.sqrt(count) for label, count in counts.items()}


def _gold(task: str, record: Dict[str, Any]) -> List[str]:
    field, key, _ = _GOLD[task]
    return [item[key] for item in record[field]]


def _size(task: str, settings: DataSettings, rng: random.Random) -> int:
    if task == "ner":
        return settings.ner_candidates
    if task == "re":
        return settings.re_candidates
    return rng.randint(settings.ed_candidates_min, settings.ed_candidates_max)


def _groups(task: str, records: Sequence[Dict[str, Any]], settings: DataSettings
            ) -> Iterator[List[Dict[str, Any]]]:
    """Consecutive records in groups of up to ``schema_group_size`` whose gold
    classes together fit the task's candidate count (ED: its minimum)."""
    limit = {"ner": settings.ner_candidates, "re": settings.re_candidates,
             "ed": settings.ed_candidates_min}[task]
    group: List[Dict[str, Any]] = []
    labels: set = set()
    for record in records:
        gold = set(_gold(task, record))
        if group and (len(group) >= settings.schema_group_size or len(labels | gold) > limit):
            yield group
            group, labels = [], set()
        group.append(record)
        labels |= gold
    if group:
        yield group


def _candidates(task: str, group: Sequence[Dict[str, Any]], schema: Schema,
                rng: random.Random, settings: DataSettings,
                weights: Optional[Dict[str, float]] = None) -> List[str]:
    gold = [label for record in group for label in _gold(task, record)]
    size = max(_size(task, settings, rng), len(set(gold))) if task == "ed" else _size(task, settings, rng)
    pool = [t.label for t in getattr(schema, _GOLD[task][0])]
    return candidates(rng, gold, pool, size, settings.negative_share, settings.gold_dropout,
                      weights)


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
