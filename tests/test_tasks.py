"""Which subtasks run, and one error code per bad setting for the component and the
spacy-llm task alike (both validate through ``tasks``, ``schema.io`` and ``extractor``)."""
import pytest
import spacy

from spacy_knowcoder.llm.task import make_knowcoder_task
from spacy_knowcoder.schema import schema_from_dict
from spacy_knowcoder.tasks import TASKS, check_task, resolve_tasks

SCHEMA = {"entities": {"person": "A human being."}, "relations": {"knows": "Knows someone."}}


def test_resolve_tasks_keeps_the_knowcoder_order_and_the_schema_sections() -> None:
    schema = schema_from_dict(SCHEMA)
    assert resolve_tasks(["re", "ner"], schema) == ["ner", "re"]
    assert resolve_tasks(None, schema) == ["ner", "re"]
    assert resolve_tasks(None, None) == list(TASKS)
    assert resolve_tasks(None, schema, default=["ner"]) == ["ner"]
    assert check_task("eae") == "eae"


@pytest.mark.parametrize("config,code", [
    ({"tasks": ["nerr"]}, "E001"),
    ({"tasks": []}, "E001"),
    ({"tasks": ["ed"]}, "E005"),
    ({"schema": None}, "E014"),
    ({"schema_file": "schema.json"}, "E015"),
    ({"quoting": "json"}, "E017"),
    ({"alignment_mode": "fuzzy"}, "E017"),
])
def test_the_component_and_the_llm_task_give_one_code_per_condition(config, code) -> None:
    settings = {k: v for k, v in config.items() if k in ("quoting", "alignment_mode")}
    base = {k: v for k, v in config.items() if k not in settings}
    with pytest.raises(ValueError, match=code):
        spacy.blank("en").add_pipe("knowcoder", config={"schema": SCHEMA, **config})
    with pytest.raises(ValueError, match=code):
        make_knowcoder_task(**{"schema": SCHEMA, **base}, **settings)
