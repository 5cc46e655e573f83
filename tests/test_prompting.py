"""The prompt renderer reproduces KnowCoder's released SFT prompts byte for byte."""
import json
from pathlib import Path

import pytest

from spacy_knowcoder.prompting import SYSTEM, Trigger, render_query, render_sentence
from spacy_knowcoder.prompting import split_query, task_of_instruction
from spacy_knowcoder.prompting import triggers_of_instruction, wrap_query
from spacy_knowcoder.schema import schema_from_dict, schema_from_source

REFS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "knowcoder_format_refs"
EXAMPLES = REFS / "example_data.jsonl"


def _reference_rows():
    if not EXAMPLES.exists():
        pytest.skip(f"reference data not found at {EXAMPLES}")
    with EXAMPLES.open(encoding="utf8") as file:
        return [json.loads(line) for line in file]


@pytest.mark.parametrize("row_index", range(9))
def test_reference_prompt_round_trips_byte_for_byte(row_index):
    row = _reference_rows()[row_index]
    stored = row["one-stage"]["zero-shot"]["prompt"]
    source, instruction, sentence = split_query(stored)
    assert sentence == row["sentence"]
    schema = schema_from_source(source)
    task = task_of_instruction(instruction)
    triggers = triggers_of_instruction(instruction)
    rendered = render_query(task, schema, sentence, triggers=triggers, quoting="reference")
    assert rendered == stored


def test_reference_rows_cover_every_task():
    tasks = set()
    for row in _reference_rows():
        _, instruction, _ = split_query(row["one-stage"]["zero-shot"]["prompt"])
        tasks.add(task_of_instruction(instruction))
    assert tasks == {"ner", "re", "ed", "eae"}


def test_wrap_query_matches_reference_frame():
    prompt = wrap_query("QUERY\n")
    assert prompt == SYSTEM + "\nInput:\nQUERY\n\nOutput:\n"
    assert SYSTEM.startswith("You are a highly skilled assistant")
    assert SYSTEM.endswith("in the form of structured code.")


def test_python_quoting_escapes_quotes_and_newlines():
    line = render_sentence('He said "hi"\nand left\\')
    assert line == 'sentence = "He said \\"hi\\"\\nand left\\\\"\n'


def test_reference_quoting_is_verbatim():
    assert render_sentence('a "b"', quoting="reference") == 'sentence = "a "b""\n'


def test_unknown_quoting_is_a_coded_error():
    with pytest.raises(ValueError, match="E017"):
        render_sentence("x", quoting="json")


SCHEMA = {
    "entities": {"person": {"description": "A human being.", "examples": ["Ann", "Bob"]},
                 "city": "A large town."},
    "relations": {"born in": {"description": "Where someone was born.",
                              "head": ["person"], "tail": ["city"],
                              "examples": [["Ann", "Paris"]]}},
    "events": {"marriage": {"description": "Two people marry.", "roles": ["spouse", "place"],
                            "examples": ["married", "wedding"]}},
}


def test_ner_prompt_layout():
    query = render_query("ner", schema_from_dict(SCHEMA), "Ann met Bob.")
    assert query.startswith('class Entity:\n\t"""\n\tThe base class for all entities.')
    assert ('class Person(Entity):\n\t"""\n\tDescription: A human being.\n'
            '\tExamples: Ann, Bob\n\t"""\n\tpass\n\n') in query
    assert query.endswith('Entity Objects in the following sentence.\n"""\n'
                          'sentence = "Ann met Bob."\n')


def test_re_prompt_renders_constraints_and_imports_them():
    query = render_query("re", schema_from_dict(SCHEMA), "Ann was born in Paris.")
    assert query.startswith("from Entities import Person, City\nclass Entity:")
    assert "def __init__(self, head_entity: Person, tail_entity: City):" in query
    assert "Examples: (Ann, Paris)" in query


def test_ed_and_eae_prompts():
    schema = schema_from_dict(SCHEMA)
    ed = render_query("ed", schema, "Ann married Bob.")
    assert 'arg_names = ["spouse", "place"]' in ed
    assert "Examples: married, wedding, \n" in ed
    eae = render_query("eae", schema, "Ann married Bob.",
                       triggers=[Trigger("married", "Marriage")])
    assert "\t\ttrigger: str, # Examples: married, wedding, \n" in eae
    assert "\t\tspouse: List[ Entity ],\n\t\tplace: List[ Entity ]\n\t):" in eae
    assert eae.rstrip().endswith(
        '"married" is the trigger of event type "Marriage".\n"""\n'
        'sentence = "Ann married Bob."')


def test_prompt_for_task_without_types_is_a_coded_error():
    schema = schema_from_dict({"entities": {"person": "A human."}})
    with pytest.raises(ValueError, match="E005"):
        render_query("re", schema, "x")


def test_unknown_task_is_a_coded_error():
    with pytest.raises(ValueError, match=r"E001.*'nerr'.*ner, re, ed, eae"):
        render_query("nerr", schema_from_dict(SCHEMA), "x")
