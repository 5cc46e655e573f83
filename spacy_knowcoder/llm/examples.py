"""Few-shot examples for the KnowCoder spacy-llm task.

An example is one annotated text in the benchmark format of the project
(DESIGN §5; offsets are optional here, the mention text is what counts)::

    {"text": "Ann married Bob in Rome.",
     "entities": [{"label": "person", "text": "Ann"}, {"label": "city", "text": "Rome"}],
     "relations": [{"label": "lives in", "head": {"text": "Ann"}, "tail": {"text": "Rome"}}],
     "events": [{"type": "marriage", "trigger": {"text": "married"},
                 "arguments": [{"role": "spouse", "text": "Bob"}]}]}

Files are read with spacy-llm's own ``spacy.FewShotReader.v1`` (.json, .jsonl,
.yml). Each example becomes a *completed* KnowCoder exchange for a task
(``Input:`` + the query for the example text + ``Output:`` + the gold
``results = [...]``), placed after the system text and before the real query,
so the model sees solved instances of exactly the format it must write.

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human being."}})
    >>> examples = examples_from_records([{"text": "Ann met Bob.",
    ...     "entities": [{"label": "person", "text": "Ann"}]}], schema)
    >>> render_results(example_items(examples[0], "ner", schema))
    'results = [\\n\\tPerson("Ann")\\n]'
"""
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..errors import Errors
from ..answer import entity_item, event_item, relation_item, render_results, trigger_item
from ..prompting import Trigger, render_query, wrap_query
from ..schema.types import Schema


@dataclass(frozen=True)
class ExampleEvent:
    """A gold event of an example: class name, trigger text, (role, mention) pairs."""

    class_name: str
    trigger: str
    arguments: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FewShotExample:
    """One annotated text, with schema class names instead of labels.

    text (str): The example text.
    entities (Tuple[Tuple[str, str], ...]): (class name, mention) pairs.
    relations (Tuple[Tuple[str, str, str], ...]): (class name, head, tail) triples.
    events (Tuple[ExampleEvent, ...]): The gold events.
    """

    text: str
    entities: Tuple[Tuple[str, str], ...] = ()
    relations: Tuple[Tuple[str, str, str], ...] = ()
    events: Tuple[ExampleEvent, ...] = ()


def examples_from_records(records: Iterable[Mapping[str, Any]],
                          schema: Schema) -> List[FewShotExample]:
    """Check benchmark-format records against the schema and convert them.

    records (Iterable[Mapping[str, Any]]): E.g. what ``spacy.FewShotReader.v1`` reads.
    schema (Schema): Labels are mapped to the schema's class names.
    RETURNS (List[FewShotExample]): The examples, in file order.
    RAISES: ValueError (E351) for a record without text or with an unknown label.
    """
    return [_example(i, record, schema) for i, record in enumerate(records)]


def _example(index: int, record: Mapping[str, Any], schema: Schema) -> FewShotExample:
    if not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
        raise ValueError(Errors.E351.format(index=index, problem="has no 'text' string"))

    def class_of(kind: str, label: Any) -> str:
        found = schema.by_label(kind, label)
        if found is None:
            raise ValueError(Errors.E351.format(
                index=index, problem=f"uses the {kind} label {label!r}, which is not in "
                f"the schema"))
        return found.class_name

    text = record["text"]
    entities = tuple((class_of("entity", e.get("label")), _mention(text, e))
                     for e in record.get("entities") or ())
    relations = tuple((class_of("relation", r.get("label")), _mention(text, r["head"]),
                       _mention(text, r["tail"])) for r in record.get("relations") or ())
    events = tuple(ExampleEvent(
        class_of("event", e.get("type")), _mention(text, e["trigger"]),
        tuple((a["role"], _mention(text, a)) for a in e.get("arguments") or ()))
        for e in record.get("events") or ())
    return FewShotExample(text, entities, relations, events)


def _mention(text: str, mention: Any) -> str:
    """The mention text: a plain string, a dict's 'text', or text[start:end]."""
    if isinstance(mention, str):
        return mention
    if mention.get("text") is not None:
        return str(mention["text"])
    return text[mention["start"]:mention["end"]]


def example_items(example: FewShotExample, task: str, schema: Schema) -> List[str]:
    """The gold items of an example for a task, as KnowCoder code lines.

    Only classes of ``schema`` (the prompt's candidates) are kept.

    example (FewShotExample): The example.
    task (str): "ner", "re", "ed" or "eae".
    schema (Schema): The classes the prompt shows.
    RETURNS (List[str]): E.g. ``['Person("Ann")']``.
    """
    if task == "ner":
        return [entity_item(c, m) for c, m in example.entities if schema.entity_by_class(c)]
    if task == "re":
        return [relation_item(c, h, t) for c, h, t in example.relations
                if schema.relation_by_class(c)]
    events = [e for e in example.events if schema.event_by_class(e.class_name)]
    if task == "ed":
        return [trigger_item(e.class_name, e.trigger) for e in events]
    return [_eae_item(e) for e in events if schema.event_by_class(e.class_name).roles]


def _eae_item(event: ExampleEvent) -> str:
    # Roles in the order of their first argument, mentions in file order.
    roles: Dict[str, List[str]] = {}
    for role, mention in event.arguments:
        roles.setdefault(role, []).append(mention)
    return event_item(event.class_name, event.trigger, roles.items())


def render_exchange(example: FewShotExample, task: str, schema: Schema,
                    quoting: str = "python") -> Optional[str]:
    """A completed ``Input:``/``Output:`` exchange for an example, or None.

    EAE examples need gold events with roles (their triggers are confirmed in
    the query); an example without any gives None for EAE.

    example (FewShotExample): The example.
    task (str): "ner", "re", "ed" or "eae".
    schema (Schema): The candidate classes of the prompt it goes into.
    quoting (str): How the text is quoted ("python" or "reference").
    RETURNS (Optional[str]): The exchange, ending in a newline.
    """
    triggers: List[Trigger] = []
    if task == "eae":
        triggers = list(dict.fromkeys(
            Trigger(e.trigger, e.class_name) for e in example.events
            if schema.event_by_class(e.class_name) and schema.event_by_class(e.class_name).roles))
        if not triggers:
            return None
    query = render_query(task, schema, example.text, triggers=triggers, quoting=quoting)
    answer = render_results(example_items(example, task, schema))
    return wrap_query(query, system=None) + answer + "\n"


def insert_exchanges(prompt: str, exchanges: Sequence[str]) -> str:
    """Put completed exchanges between a prompt's system text and its ``Input:``.

    Example:
        >>> insert_exchanges("SYS\\nInput:\\nq\\nOutput:\\n", ["Input:\\na\\nOutput:\\nr\\n"])
        'SYS\\nInput:\\na\\nOutput:\\nr\\nInput:\\nq\\nOutput:\\n'
    """
    if not exchanges:
        return prompt
    head, marker, rest = prompt.partition("Input:\n")
    return head + "".join(exchanges) + marker + rest
