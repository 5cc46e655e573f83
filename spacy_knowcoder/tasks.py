"""The four KnowCoder subtasks: their names, the schema section each reads, which run.

NER reads the entity types, RE the relation types, ED and EAE the event types
(EAE runs on the triggers ED found). The component and the spacy-llm task both
decide here which subtasks run for a schema, with the same error codes.

Example:
    >>> from spacy_knowcoder.schema import schema_from_dict
    >>> schema = schema_from_dict({"entities": {"person": "A human."},
    ...                            "relations": {"knows": "Knows someone."}})
    >>> resolve_tasks(["re", "ner"], schema), resolve_tasks(None, schema)
    (['ner', 're'], ['ner', 're'])
"""
from typing import TYPE_CHECKING, Any, List, Literal, Optional, Sequence, Tuple

from .errors import Errors

if TYPE_CHECKING:
    from .schema.types import Schema

Task = Literal["ner", "re", "ed", "eae"]
#: Every subtask, in the order they run (EAE needs ED's triggers).
TASKS: Tuple[str, ...] = ("ner", "re", "ed", "eae")
#: The kind of class each subtask extracts.
TASK_KINDS = {"ner": "entity", "re": "relation", "ed": "event", "eae": "event"}
#: The schema section (``Schema`` attribute) each subtask reads.
TASK_SECTIONS = {"ner": "entities", "re": "relations", "ed": "events", "eae": "events"}


def check_task(task: Any) -> str:
    """``task`` if it is a known subtask, else E001.

    Example:
        >>> check_task("ner")
        'ner'
    """
    if task not in TASKS:
        raise ValueError(Errors.E001.format(task=task, options=", ".join(TASKS)))
    return task


def schema_section(schema: "Schema", task: str) -> Sequence[Any]:
    """The types of ``schema`` that ``task`` extracts (e.g. the entities for "ner")."""
    return getattr(schema, TASK_SECTIONS[check_task(task)])


def resolve_tasks(tasks: Optional[Sequence[str]], schema: Optional["Schema"],
                  default: Sequence[str] = TASKS) -> List[str]:
    """The subtasks to run, in ``TASKS`` order.

    tasks (Optional[Sequence[str]]): The setting; None runs every task of
        ``default`` whose schema section has types.
    schema (Optional[Schema]): The schema; None (not loaded yet) checks names only.
    default (Sequence[str]): The tasks None stands for.
    RETURNS (List[str]): The subtasks.
    RAISES: ValueError: E001 for an unknown task, a string or an empty list;
        E005 for a task whose schema section is empty.
    """
    if tasks is None:
        chosen = [t for t in TASKS if t in default]
        return chosen if schema is None else [t for t in chosen if schema_section(schema, t)]
    if isinstance(tasks, str) or not tasks:
        raise ValueError(Errors.E001.format(task=tasks, options=", ".join(TASKS)))
    for task in tasks:
        check_task(task)
        if schema is not None and not schema_section(schema, task):
            raise ValueError(Errors.E005.format(task=task, kind=TASK_KINDS[task],
                                                section=TASK_SECTIONS[task]))
    return [t for t in TASKS if t in tasks]
