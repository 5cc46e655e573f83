"""Schema files: every JSON shape load_schema accepts."""
import json

import pytest

from spacy_knowcoder.schema.io import load_schema, save_schema


def test_label_file_loads_as_schema(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({
        "entity_labels": {"person": "A human being.", "city": "A large town."},
        "relation_labels": {"born in": "The head was born in the tail."},
        "event_types": {"marriage": {"description": "Two people marry.",
                                     "roles": ["spouse", "place"]}},
    }), encoding="utf-8")
    schema = load_schema(path)
    assert [e.label for e in schema.entities] == ["person", "city"]
    assert [r.label for r in schema.relations] == ["born in"]
    assert schema.events[0].roles == ("spouse", "place")
    assert schema.entities[0].description == "A human being."


def test_saved_dict_form_round_trips(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"entity_labels": {"person": "A human being."}}),
                    encoding="utf-8")
    schema = load_schema(path)
    save_schema(schema, tmp_path / "schema.json")
    assert load_schema(tmp_path / "schema.json") == schema


def test_label_file_with_unknown_section_is_a_schema_error(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"entity_labels": {"person": "x"}, "bogus": {}}),
                    encoding="utf-8")
    with pytest.raises(ValueError):
        load_schema(path)
