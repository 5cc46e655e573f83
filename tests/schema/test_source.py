import json
from pathlib import Path

import pytest

from spacy_knowcoder.prompting import render_query
from spacy_knowcoder.schema import schema_from_class_defs, schema_from_dict
from spacy_knowcoder.schema import schema_from_source
from spacy_knowcoder.prompting import Trigger, split_query

CLASS_DEFS = (Path(__file__).resolve().parents[2].parent / "shared" / "data"
              / "knowcoder_format_refs" / "eval_class_defs")


def _defs(name):
    path = CLASS_DEFS / f"{name}_class_defs.json"
    if not path.exists():
        pytest.skip(f"reference class definitions not found at {path}")
    return json.loads(path.read_text(encoding="utf8"))


def test_eval_entity_class_defs():
    defs = _defs("entity")
    schema = schema_from_class_defs(defs)
    assert len(schema.entities) == len(defs) - 1  # the base class Entity is not a type
    dna = schema.entity_by_class("Dna")
    assert dna.parents == ("ChemicalCompound",)


def test_eval_relation_class_defs_keep_type_constraints():
    schema = schema_from_class_defs(_defs("relation"))
    artifact = schema.relation_by_class("AgentArtifact")
    assert artifact.head == ("Human", "GeographicalSocialPolitical", "Organization")
    assert "Vehicle" in artifact.tail
    assert len(schema.relations) == 63


def test_eval_event_class_defs_ed_and_eae_styles():
    ed = schema_from_class_defs(_defs("ed"))
    assert ed.event_by_class("Life").roles == ("place", "person", "instrument", "agent", "victim")
    eae = schema_from_class_defs(_defs("eae"))
    acquit = eae.event_by_class("Acquit")
    assert acquit.roles == ("adjudicator", "defendant") and acquit.parents == ("Justice",)


def test_kind_from_shape_when_parent_is_not_defined():
    schema = schema_from_source(
        "class CoordinateSystem(PhysicalEntity):\n\tpass\n\n"
        "class Owns(Link):\n\tdef __init__(self, head_entity: Human, tail_entity: Entity):\n"
        "\t\tpass\n\n"
        "class Wed(Happening):\n\tdef __init__(self, trigger: str, spouse: List[Entity]):\n"
        "\t\tpass\n")
    assert [t.class_name for t in schema.entities] == ["CoordinateSystem"]
    assert schema.relations[0].head == ("Human",) and schema.relations[0].tail == ()
    assert schema.events[0].roles == ("spouse",)


def test_keyword_roles_are_read():
    src = ("class Marriage(Event):\n\tdef __init__(\n\t\tself,\n\t\ttrigger: str,\n"
           "\t\tto: List[ Entity ],\n\t\tfrom: List[ Entity ]\n\t):\n"
           "\t\tsuper().__init__(trigger = trigger)\n\t\tself.to = to\n\t\tself.from = from\n")
    assert schema_from_source(src).events[0].roles == ("to", "from")


@pytest.mark.parametrize("source,code", [
    ("class (:", "E008"),
    ("x = 1\n", "E009"),
    ("class Entity:\n\tpass\n", "E009"),
])
def test_bad_source_is_a_coded_error(source, code):
    with pytest.raises(ValueError, match=rf"\[{code}\]"):
        schema_from_source(source)


def test_nothing_in_the_source_is_executed(tmp_path):
    marker = tmp_path / "ran"
    src = (f"import os\nos.system('touch {marker}')\n"
           f"class Person(Entity):\n\tdef __init__(self):\n\t\topen('{marker}', 'w')\n")
    assert schema_from_source(src).entities[0].class_name == "Person"
    assert not marker.exists()


@pytest.mark.parametrize("task", ["ner", "re", "ed", "eae"])
def test_render_then_parse_round_trips_dict_schemas(task):
    schema = schema_from_dict({
        "entities": {"person": {"description": "A human.", "examples": ["Ann", "Bob"]}},
        "relations": {"born in": {"description": "Birth place.", "head": ["person"],
                                  "examples": [["Ann", "Paris"], ["Bob", "Rome"]]}},
        "events": {"marriage": {"description": "Wedding.", "roles": ["spouse", "from"],
                                "examples": ["wed", "married"]}},
    })
    query = render_query(task, schema, "x", triggers=[Trigger("wed", "Marriage")])
    source, _, _ = split_query(query)
    parsed = schema_from_source(source)
    kind = {"ner": "entities", "re": "relations", "ed": "events", "eae": "events"}[task]
    expected = [(t.class_name, t.description, t.examples) for t in getattr(schema, kind)]
    assert [(t.class_name, t.description, t.examples) for t in getattr(parsed, kind)] == expected
