"""KnowCoder prompts for NER, RE, ED and EAE (DESIGN §3), byte-compatible with the
released weights.

A *query* is the code the model reads: base classes, the candidate classes, a
triple-quoted instruction and ``sentence = "..."``. ``wrap_query`` adds the
system text and the ``Input:``/``Output:`` frame; BOS/EOS are left to the
tokenizer, so one renderer serves every base model.

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human being."}})
    >>> query = render_query("ner", schema, "Ann met Bob.")
    >>> query.splitlines()[-1]
    'sentence = "Ann met Bob."'
"""
from dataclasses import dataclass
from typing import List, Literal, Optional, Sequence, Tuple

from .errors import Errors
from .pycode import quote_string
from .schema.render import ENTITY_BASE, EVENT_BASE_EAE, EVENT_BASE_ED, RELATION_BASE
from .schema.render import render_entity, render_event_eae, render_event_ed
from .schema.render import render_relation
from .schema.types import Schema
from .tasks import Task, check_task

Quoting = Literal["python", "reference"]
#: The ways a text can be quoted in the prompt (``quote_sentence``).
QUOTINGS = ("python", "reference")

SYSTEM = (
    "You are a highly skilled assistant at digesting and extracting information "
    "from textual content. Below is an input containing standard type definitions "
    "and textual content. Please complete it with the extracted information in the "
    "form of structured code."
)
_OOP = "This is an object-oriented programming task: some {what} are defined above. "
INSTRUCTIONS = {
    "ner": _OOP.format(what="Entity Classes") + "Please instantiate all the "
    "corresponding Entity Objects in the following sentence.",
    "re": _OOP.format(what="Relation Classes and related Entity Classes") + "Please "
    "instantiate all the corresponding Relation Objects in the following sentence.",
    "ed": _OOP.format(what="Event Classes") + "Please instantiate all the "
    "corresponding Event Objects in the following sentence.",
}
INSTRUCTIONS["eae"] = INSTRUCTIONS["ed"]
TRIGGER_NOTE = (" It is important to note that the triggers of the events are "
                "confirmed as follows: ")
TRIGGER_ITEM = '"{trigger}" is the trigger of event type "{event_type}"'
TRIGGER_SEPARATOR = "; "
SENTENCE_PREFIX = "sentence = "


@dataclass(frozen=True)
class Trigger:
    """A confirmed event trigger for an EAE prompt."""

    text: str
    event_type: str  # the event's class name


def render_query(task: Task, schema: Schema, text: str, *,
                 triggers: Sequence[Trigger] = (), quoting: Quoting = "python") -> str:
    """Render the KnowCoder query for one task, schema and text.

    task (str): "ner", "re", "ed" or "eae".
    schema (Schema): The candidate classes (all of them go into the prompt; for
        EAE only the event types of ``triggers`` are rendered).
    text (str): The sentence or document window.
    triggers (Sequence[Trigger]): Confirmed triggers, for EAE.
    quoting (str): "python" escapes the text as a Python string literal (safe
        with quotes and newlines); "reference" pastes it between quotes
        unescaped, exactly as the reference data does.
    RETURNS (str): The query, ending in a newline.
    """
    return render_schema_prefix(task, schema, triggers=triggers) + render_sentence(
        text, quoting=quoting)


def render_schema_prefix(task: Task, schema: Schema, *,
                         triggers: Sequence[Trigger] = ()) -> str:
    """Everything of the query before the sentence: classes and instruction.

    This part is the same for every text of a task and schema (for EAE, of a
    set of triggers), so a caller can cache it.
    """
    check_task(task)
    classes = _class_blocks(task, schema, triggers)
    instruction = INSTRUCTIONS[task]
    if task == "eae":
        instruction += TRIGGER_NOTE + TRIGGER_SEPARATOR.join(
            TRIGGER_ITEM.format(trigger=t.text, event_type=t.event_type) for t in triggers
        ) + "."
    return "".join(block + "\n" for block in classes) + f'"""\n{instruction}\n"""\n'


def render_sentence(text: str, *, quoting: Quoting = "python") -> str:
    """The ``sentence = "..."`` line of a query."""
    if quoting == "python":
        literal = quote_string(text)
    elif quoting == "reference":
        literal = f'"{text}"'
    else:
        raise ValueError(Errors.E017.format(value=quoting, name="quoting",
                                            options="python, reference"))
    return f"{SENTENCE_PREFIX}{literal}\n"


def wrap_query(query: str, system: Optional[str] = SYSTEM) -> str:
    """Add KnowCoder's system text and ``Input:``/``Output:`` frame.

    RETURNS (str): The prompt the model completes (without BOS; the tokenizer adds it).
    """
    framed = f"Input:\n{query}\nOutput:\n"
    return f"{system}\n{framed}" if system else framed


def _class_blocks(task: str, schema: Schema, triggers: Sequence[Trigger]) -> List[str]:
    if task == "ner":
        _require(schema.entities, task, "entity", "entities")
        return [ENTITY_BASE] + [render_entity(e) for e in schema.entities]
    if task == "re":
        _require(schema.relations, task, "relation", "relations")
        blocks = [ENTITY_BASE, RELATION_BASE] + [render_relation(r) for r in schema.relations]
        imported = _constraint_classes(schema)
        if imported:
            blocks[0] = f"from Entities import {', '.join(imported)}\n" + blocks[0]
        return blocks
    _require(schema.events, task, "event", "events")
    if task == "ed":
        return [EVENT_BASE_ED] + [render_event_ed(e) for e in schema.events]
    wanted = {t.event_type for t in triggers}
    events = [e for e in schema.events if e.class_name in wanted]
    return [ENTITY_BASE, EVENT_BASE_EAE] + [render_event_eae(e) for e in events]


def _constraint_classes(schema: Schema) -> List[str]:
    names = (name for r in schema.relations for name in r.head + r.tail)
    return list(dict.fromkeys(names))


def _require(types: Sequence[object], task: str, kind: str, section: str) -> None:
    if not types:
        raise ValueError(Errors.E005.format(task=task, kind=kind, section=section))


def split_query(query: str) -> Tuple[str, str, str]:
    """Split a stored query into (class source, instruction, sentence text).

    Works on reference prompts whose sentence is not escaped: the sentence is
    everything between ``sentence = "`` and the final quote.

    RETURNS (Tuple[str, str, str]): The class definitions, the instruction and the text.
    """
    marker = '"""\nThis is an object-oriented programming task'
    cut = query.rfind(marker)
    sentence_at = query.rfind("\n" + SENTENCE_PREFIX + '"')
    if cut < 0 or sentence_at < cut:
        raise ValueError(Errors.E008.format(where="the query", reason="no KnowCoder "
                                            "instruction followed by 'sentence = \"'"))
    instruction = query[cut + 4:query.index('\n"""', cut + 4)]
    body = query[sentence_at + len(SENTENCE_PREFIX) + 2:].rstrip("\n")
    return query[:cut], instruction, body[:-1] if body.endswith('"') else body


def task_of_instruction(instruction: str) -> str:
    """Which task a KnowCoder instruction belongs to."""
    if TRIGGER_NOTE.strip() in instruction:
        return "eae"
    for task in ("ner", "re", "ed"):
        if instruction == INSTRUCTIONS[task]:
            return task
    raise ValueError(Errors.E008.format(where="the instruction",
                                        reason="it is not a known KnowCoder instruction"))


def triggers_of_instruction(instruction: str) -> List[Trigger]:
    """The confirmed triggers named in an EAE instruction."""
    _, _, listed = instruction.partition(TRIGGER_NOTE)
    triggers = []
    for item in listed.rstrip(".").split(TRIGGER_SEPARATOR) if listed else []:
        trigger, _, event_type = item.partition('" is the trigger of event type "')
        triggers.append(Trigger(text=trigger[1:], event_type=event_type[:-1]))
    return triggers
