import pytest

from spacy_knowcoder.schema import EntityType, load_schema, save_schema
from spacy_knowcoder.schema import schema_from_dict, schema_to_dict

SCHEMA = {
    "entities": {"person": "A human being.",
                 "city": {"description": "A large town.", "examples": ["Paris"],
                          "parents": ["location"], "wikidata_id": "Q515"}},
    "relations": {"born in": {"description": "...", "head": ["person"], "tail": ["City"]}},
    "events": {"marriage": {"description": "...", "roles": ["spouse", "place"]}},
}


def test_dict_form_builds_every_kind():
    schema = schema_from_dict(SCHEMA)
    person, city = schema.entities
    assert person == EntityType(label="person", class_name="Person",
                                description="A human being.")
    assert city.parents == ("Location",) and city.wikidata_id == "Q515"
    (born_in,) = schema.relations
    assert (born_in.class_name, born_in.head, born_in.tail) == ("BornIn", ("Person",), ("City",))
    (marriage,) = schema.events
    assert marriage.roles == ("spouse", "place")
    assert schema.by_label("relation", "born in") is born_in


def test_dict_round_trip(tmp_path):
    schema = schema_from_dict(SCHEMA)
    assert schema_from_dict(schema_to_dict(schema)) == schema
    save_schema(schema, tmp_path / "schema.json")
    assert load_schema(tmp_path / "schema.json") == schema


def test_benchmark_label_file_form_is_accepted():
    schema = schema_from_dict({"entity_labels": {"person": "A human."},
                               "event_types": {"attack": {"description": "x",
                                                          "roles": ["attacker"]}}})
    assert [t.label for t in schema] == ["person", "attack"]


@pytest.mark.parametrize("data,code", [
    ({}, "E002"),
    ({"entities": {}}, "E002"),
    ({"entitys": {"person": "x"}}, "E006"),
    ({"entities": ["person"]}, "E006"),
    ({"entities": {"person": 3}}, "E006"),
    ({"entities": {"person": {"descr": "x"}}}, "E006"),
    ({"entities": {"!!!": "x"}}, "E003"),
    ({"entities": {"person": "x", "Person": "y"}}, "E004"),
    ({"entities": {"entity": "x"}}, "E003"),
    ({"relations": {"born in": {"head": ["person"]}}}, "E007"),
    ({"events": {"marriage": {"roles": ["place of ceremony"]}}}, "E018"),
    ({"relations": {"r": {"examples": [["a"]]}}}, "E006"),
])
def test_malformed_schema_gets_a_coded_error(data, code):
    with pytest.raises(ValueError, match=rf"\[{code}\]"):
        schema_from_dict(data)


def test_relabel_by_class_name():
    schema = schema_from_dict(SCHEMA).relabel({"Person": "PER"})
    assert schema.entities[0].label == "PER"
    with pytest.raises(ValueError, match="E016"):
        schema.relabel({"Human": "PER"})


def test_load_schema_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="E010"):
        load_schema(tmp_path / "missing.json")
    bad = tmp_path / "schema.yaml"
    bad.write_text("x")
    with pytest.raises(ValueError, match="E012"):
        load_schema(bad)
    broken = tmp_path / "schema.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="E011.*invalid JSON"):
        load_schema(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"entities": {"caf\xe9": "x"}}'.encode("latin-1"))
    with pytest.raises(ValueError, match="E011"):
        load_schema(latin)


def test_load_python_schema_file(tmp_path):
    path = tmp_path / "schema.py"
    path.write_text('class Person(Entity):\n\t"""\n\tDescription: A human.\n\t"""\n\tpass\n',
                    encoding="utf8")
    assert load_schema(path).entities[0].description == "A human."


def test_python_schema_file_round_trip(tmp_path):
    schema = schema_from_dict(SCHEMA)
    save_schema(schema, tmp_path / "schema.py")
    loaded = load_schema(tmp_path / "schema.py")
    by_class = {t.class_name: t for t in loaded}
    for original in schema:
        copy = by_class[original.class_name]
        assert copy.label == original.class_name  # Python source has no separate label
        assert (copy.description, copy.examples, copy.parents) == (
            original.description, original.examples, original.parents)
    assert loaded.relation_by_class("BornIn").head == ("Person",)
    assert loaded.event_by_class("Marriage").roles == ("spouse", "place")
