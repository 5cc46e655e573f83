"""Reading, validating and writing benchmark JSONL files and label files."""
import json

import pytest

from spacy_knowcoder.corpora.benchmark import (
    LabelSet, check_labels, parse_label_file, read_benchmark, read_label_file,
    write_benchmark)

TEXT = "Barack Obama married Michelle Robinson in Chicago."
RECORD = {
    "id": "r1", "text": TEXT,
    "entities": [{"start": 0, "end": 12, "label": "person", "text": "Barack Obama"},
                 {"start": 42, "end": 49, "label": "city"}],
    "relations": [{"head": {"start": 0, "end": 12, "label": "person", "text": "Barack Obama"},
                   "tail": {"start": 42, "end": 49, "text": "Chicago"}, "label": "lives in"}],
    "events": [{"trigger": {"start": 13, "end": 20, "text": "married"}, "type": "marriage",
                "arguments": [{"start": 21, "end": 38, "text": "Michelle Robinson",
                               "role": "spouse"}]}],
}
LABELS = {"entity_labels": {"person": "A human.", "city": "A town."},
          "relation_labels": {"lives in": "Where someone lives."},
          "event_types": {"marriage": {"description": "A wedding.",
                                       "roles": ["spouse", "place"]}}}


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_read_normalizes_and_round_trips(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(RECORD), "",
                                              json.dumps({"id": 2, "text": "Nothing."})])
    records = read_benchmark(path)
    assert [r["id"] for r in records] == ["r1", 2]
    assert records[0]["entities"][1]["text"] == "Chicago"  # filled from the offsets
    assert records[1] == {"id": 2, "text": "Nothing.", "entities": [], "relations": [],
                          "events": []}
    assert write_benchmark(tmp_path / "out.jsonl", records) == 2
    assert read_benchmark(tmp_path / "out.jsonl") == records
    assert read_benchmark(path, limit=1) == records[:1]


def _broken(**changes):
    record = json.loads(json.dumps(RECORD))
    for dotted, value in changes.items():
        target = record
        *parents, last = dotted.split(".")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return json.dumps(record)


@pytest.mark.parametrize("line,code", [
    ('{"id": "x", "text": ', "E450"),
    (_broken(text=None), "E451"),
    (_broken(id=""), "E451"),
    (_broken(**{"entities.0.end": 99}), "E452"),
    (_broken(**{"entities.0.start": 12, "entities.0.end": 12}), "E452"),
    (_broken(**{"entities.0.text": "Obama"}), "E453"),
    (_broken(**{"relations.0.tail.start": 40}), "E453"),
    (_broken(**{"events.0.arguments.0.role": None}), "E451"),
    (_broken(entities={"start": 0}), "E451"),
])
def test_bad_records_name_the_line(tmp_path, line, code):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(dict(RECORD, id="ok")), line])
    with pytest.raises(ValueError, match=code) as err:
        read_benchmark(path)
    assert "Line 2" in str(err.value)


def test_duplicate_ids_and_empty_files_fail(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(RECORD)] * 2)
    with pytest.raises(ValueError, match=r"E454.*first on line 1"):
        read_benchmark(path)
    with pytest.raises(ValueError, match="E455"):
        read_benchmark(write_lines(tmp_path / "e.jsonl", ["", "  "]))
    with pytest.raises(FileNotFoundError, match="E021"):
        read_benchmark(tmp_path / "missing.jsonl")


def test_label_file_makes_a_schema(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(LABELS))
    labels = read_label_file(path)
    assert labels.tasks == ["ner", "re", "ed", "eae"]
    schema = labels.schema()
    assert [e.label for e in schema.entities] == ["person", "city"]
    assert schema.entities[0].description == "A human."
    assert schema.events[0].roles == ("spouse", "place")


@pytest.mark.parametrize("data", [
    [], {}, {"entity_labels": []}, {"entities": {"a": "b"}},
    {"event_types": {"e": {"roles": "spouse"}}}, {"entity_labels": {"": "x"}},
])
def test_malformed_label_files_fail(data):
    with pytest.raises(ValueError, match="E456"):
        parse_label_file(data)


def test_labels_must_cover_the_dataset():
    records = [json.loads(_broken())]
    from spacy_knowcoder.corpora.benchmark import validate_record
    records = [validate_record(r) for r in records]
    check_labels(records, parse_label_file(LABELS))
    for section, label in (("entity_labels", "city"), ("relation_labels", "lives in"),
                           ("event_types", "marriage")):
        data = json.loads(json.dumps(LABELS))
        del data[section][label]
        if not data[section]:
            data[section] = {"other": "Something else."}
        with pytest.raises(ValueError, match=f"E457.*{label}"):
            check_labels(records, parse_label_file(data))
    no_role = LabelSet(LABELS["entity_labels"], LABELS["relation_labels"],
                       {"marriage": {"description": "x", "roles": ["place"]}})
    with pytest.raises(ValueError, match="E457.*marriage.spouse"):
        check_labels(records, no_role)
