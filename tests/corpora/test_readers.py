"""Each reader on a few real records of ../shared/data, and on broken input."""
import json
from pathlib import Path

import pytest

from spacy_knowcoder.corpora import CATALOG, read_dataset
from spacy_knowcoder.corpora.readers.columns import ColumnFormat, read_columns
from spacy_knowcoder.corpora.readers.geneva import read_geneva
from spacy_knowcoder.corpora.readers.semeval import read_semeval
from spacy_knowcoder.corpora.catalog import label_file


def _check_offsets(record):
    text = record["text"]
    spans = list(record["entities"])
    for rel in record["relations"]:
        spans += [rel["head"], rel["tail"]]
    for event in record["events"]:
        spans += [event["trigger"], *event["arguments"]]
    for span in spans:
        assert text[span["start"]:span["end"]] == span["text"], (record["id"], span)
        assert span["text"].strip() == span["text"] and span["text"]


def _labels_known(name, records):
    labels = json.loads(label_file(name).read_text(encoding="utf-8"))
    for record in records:
        assert {e["label"] for e in record["entities"]} <= set(labels["entity_labels"])
        assert {r["label"] for r in record["relations"]} <= set(labels["relation_labels"])
        assert {e["type"] for e in record["events"]} <= set(labels["event_types"])


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_dataset_reads_a_few_real_records(name, data_root):
    info = CATALOG[name]
    records = list(read_dataset(name, info.eval_split, data_root, limit=40))
    assert len(records) == 40
    assert len({r["id"] for r in records}) == 40
    for record in records:
        assert set(record) == {"id", "text", "entities", "relations", "events"}
        _check_offsets(record)
    _labels_known(name, records)
    gold = {"ner": "entities", "re": "relations", "ed": "events", "eae": "events"}
    for task in info.tasks:
        # Swedish UNER's first 40 dev sentences name nobody: look further.
        sample = records if any(r[gold[task]] for r in records) else list(
            read_dataset(name, info.eval_split, data_root, limit=400))
        assert any(r[gold[task]] for r in sample), (name, task)


def test_wnut17_first_sentence(data_root):
    record = next(read_dataset("wnut17", "train", data_root))
    assert record["text"].startswith("@paulwalk It 's the view from where I 'm living")
    assert [(e["text"], e["label"]) for e in record["entities"]][:2] == [
        ("Empire State Building", "location"), ("ESB", "location")]


def test_pile_ner_first_passage_and_its_definitions(data_root):
    from spacy_knowcoder.corpora.catalog import type_definitions

    records = list(read_dataset("pile_ner_types", "dev", data_root))
    assert len(records) == 2217  # SOURCE.md: 2,217 passages
    assert records[0]["text"].startswith("End of life care sedation for children .")
    assert [(e["text"], e["label"]) for e in records[0]["entities"]][:3] == [
        ("End of life care sedation", "treatment"), ("children", "age"),
        ("research", "field of study")]
    labels = {e["label"] for r in records for e in r["entities"]}
    assert len(labels) == 368  # SOURCE.md: 368 types
    definitions = type_definitions("pile_ner_types", data_root)
    assert len(definitions) == 391 and labels <= set(definitions)
    assert definitions["field of study"].startswith("'field of study' refers to academic")
    assert all(d and "\n" not in d for d in definitions.values())


def test_pile_ner_definitions_that_cannot_be_read_say_which(tmp_path):
    from spacy_knowcoder.corpora.readers.pile_ner import read_type_definitions

    path = tmp_path / "defs.json"
    path.write_text(json.dumps({"city": {"named_entity": "city", "gpt_answer": "not json"}}))
    with pytest.raises(ValueError, match=r"E256.*'city' has no readable Definition"):
        read_type_definitions(path)
    path.write_text(json.dumps(["city"]))
    with pytest.raises(ValueError, match=r"E256.*top level is not an object"):
        read_type_definitions(path)


def test_semeval_direction_and_other(data_root):
    first, second = list(read_dataset("semeval2010_task8", "train", data_root, limit=2))
    rel = first["relations"][0]  # Component-Whole(e2,e1): elements is part of configuration
    assert (rel["label"], rel["head"]["text"], rel["tail"]["text"]) == (
        "part of", "elements", "configuration")
    assert second["relations"] == []  # "Other"


def test_fewrel_round_robin_covers_relations(data_root):
    records = list(read_dataset("fewrel", "val_wiki", data_root, limit=16))
    assert len({r["relations"][0]["label"] for r in records}) == 16


def test_geneva_keeps_raw_sentence_when_tokens_align(data_root):
    record = next(read_dataset("geneva", "val", data_root))
    assert record["events"][0]["type"] == "catastrophe"
    assert record["events"][0]["arguments"][0] == {
        "start": record["events"][0]["arguments"][0]["start"],
        "end": record["events"][0]["arguments"][0]["end"], "text": "natural", "role": "cause"}


def test_re_docred_sentence_relations_have_both_mentions(data_root):
    records = list(read_dataset("re_docred", "dev", data_root, limit=30))
    assert any(r["relations"] for r in records)
    for record in records:
        mentions = {(e["start"], e["end"]) for e in record["entities"]}
        for rel in record["relations"]:
            assert (rel["head"]["start"], rel["head"]["end"]) in mentions


def test_column_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("Ann\tB-PER\nsmiled\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[E250\].*bad.conll' \(line 2\)"):
        list(read_columns(path, {"PER": "person"}, ColumnFormat(n_columns=2)))


def test_unknown_label_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("Ann\tB-PER\n\nBob\tB-XYZ\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[E251\] Unknown raw label 'XYZ'.*line 3"):
        list(read_columns(path, {"PER": "person"}, ColumnFormat(n_columns=2)))


def test_bad_tag_and_bad_json_and_missing_file(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("Ann\tPERSON\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[E250\].*line 1"):
        list(read_columns(path, {"PER": "person"}, ColumnFormat(n_columns=2)))
    jsonl = tmp_path / "val.json"
    jsonl.write_text('{"tokens": []}\n{"tokens": [\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[E25[06]\].*val.json' \(line 1\)"):
        list(read_geneva(jsonl))
    with pytest.raises(FileNotFoundError, match=r"\[E021\]"):
        list(read_semeval(tmp_path / "missing.txt", {}))


def test_missing_dataset_folder_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"\[E254\].*wnut17"):
        list(read_dataset("wnut17", "test", tmp_path))
    with pytest.raises(ValueError, match=r"\[E253\]"):
        list(read_dataset("wnut17", "nosuch", tmp_path))
