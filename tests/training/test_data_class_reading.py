"""Training data in which the class list decides the answer (issue 24, part 2 and 3).

Absent classes drawn by frequency, gold classes dropped with the answer trimmed,
long many-type passages cut at sentence ends, Pile-NER's definitions as class
docstrings, and held-out text kept out of every training record.
"""
import json
import random
import warnings
from collections import Counter
from pathlib import Path

import pytest

from spacy_knowcoder.corpora.records import make_record, mention
from spacy_knowcoder.extractor import classes_for
from spacy_knowcoder.parsing import parse_completion
from spacy_knowcoder.prompting import split_query
from spacy_knowcoder.schema import schema_from_dict, schema_from_source
from training.data import DataSettings, build_training_data
from training.data.chunks import split_record
from training.data.decontaminate import HeldOutIndex
from training.data.following import (mask_names, negative_weights, per_class_samples, swap_names,
                                     task_samples)
from training.data.sampling import candidates, weighted_sample

DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _listed(sample):
    """The schema of a sample's prompt (its candidate classes)."""
    query = sample["prompt"].split("\nInput:\n", 1)[1][: -len("\nOutput:\n")]
    return schema_from_source(split_query(query)[0])


def test_gold_dropout_lists_fewer_gold_classes_and_never_an_empty_list():
    pool = ["person", "city", "country", "company", "film"]
    rng = random.Random(0)
    kept = Counter()
    for _ in range(2000):
        chosen = candidates(rng, ["person", "city"], pool, 4, 0.0, gold_dropout=0.3)
        assert chosen and len(chosen) <= 4
        kept.update(label for label in chosen if label in ("person", "city"))
    assert 0.65 < kept["person"] / 2000 < 0.75  # each gold class kept with chance 0.7
    # a dataset with one class cannot drop it: the list would be empty
    assert candidates(random.Random(0), ["disease"], ["disease"], 3, 0.0, 0.99) == ["disease"]


def test_frequent_classes_are_drawn_as_absent_classes_more_often():
    rng = random.Random(0)
    weights = {"person": 100.0, "rare": 1.0}
    counts = Counter(weighted_sample(rng, ["person", "rare", "other"], 1, weights)[0]
                     for _ in range(3000))
    assert counts["person"] > 10 * counts["rare"] and counts["rare"] > 0
    records = [{"entities": [{"label": "person"}] * 9 + [{"label": "city"}]}]
    assert negative_weights("ner", records) == {"person": 3.0, "city": 1.0}


def test_a_dropped_gold_class_is_trimmed_from_the_answer():
    schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town.",
                                            "film": "A movie."}})
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "person"),
                                     mention(text, 13, 17, "city")])
    settings = DataSettings(ner_candidates=2, gold_dropout=0.5, negative_share=0.0)
    seen = set()
    for seed in range(30):
        sample = next(task_samples("ner", [record], schema, "toy", random.Random(seed), settings))
        shown = _listed(sample)
        listed = {t.class_name for t in shown.entities}
        answer = parse_completion(sample["response"], "ner", classes_for("ner", shown))
        assert answer.complete and not answer.problems
        assert {item.class_name for item in answer.items} == listed & {"Person", "City"}
        seen.add(frozenset(listed & {"Person", "City"}))
    assert len(seen) >= 3  # both, one of them, and the other one


def test_swapped_names_leave_only_the_definition_to_decide():
    """With name_swap = 1 every NER list of two or more classes shows each
    definition under another class's name, and the answer follows the definition."""
    schema = schema_from_dict({"entities": {"person": "A human being.", "city": "A large town.",
                                            "film": "A motion picture."}})
    definitions = {t.class_name: t.description for t in schema.entities}
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "person"),
                                     mention(text, 13, 17, "city")])
    settings = DataSettings(ner_candidates=3, negative_share=0.0, name_swap=1.0)
    for seed in range(20):
        sample = next(task_samples("ner", [record], schema, "toy", random.Random(seed), settings))
        shown = _listed(sample)
        described = {t.class_name: t.description for t in shown.entities}
        assert all(described[name] != definitions[name] for name in described)
        answer = parse_completion(sample["response"], "ner", classes_for("ner", shown))
        by_text = {item.text: described[item.class_name] for item in answer.items}
        assert by_text == {"Ann": "A human being.", "Rome": "A large town."}
    plain = DataSettings(ner_candidates=3, negative_share=0.0)
    same = next(task_samples("ner", [record], schema, "toy", random.Random(0), plain))
    listed = {t.class_name: t.description for t in _listed(same).entities}
    assert listed == {name: definitions[name] for name in listed}  # names stay without swap
    one = schema_from_dict({"entities": {"person": "A human being."}})
    assert swap_names(one, random.Random(0)) is one


def test_name_swap_zero_builds_the_same_samples_as_before():
    schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "person")])
    runs = [list(task_samples("ner", [record] * 5, schema, "toy", random.Random(3),
                              DataSettings(ner_candidates=2, **extra)))
            for extra in ({}, {"name_swap": 0.0})]
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="E255.*name_swap"):
        DataSettings(name_swap=1.5)


def test_masked_names_leave_only_the_definition_to_decide():
    """With name_mask = 1 every NER list of two or more classes shows neutral names
    (EntityA...) in varying order; the answer calls each mention by the name its
    definition carries, and the rest of the prompt is unchanged."""
    schema = schema_from_dict({"entities": {"person": "A human being.", "city": "A large town.",
                                            "film": "A motion picture."}})
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "person"),
                                     mention(text, 13, 17, "city")])
    settings = DataSettings(ner_candidates=3, negative_share=0.0, name_mask=1.0)
    plain = DataSettings(ner_candidates=3, negative_share=0.0)
    names_of_person = set()
    for seed in range(20):
        sample = next(task_samples("ner", [record], schema, "toy", random.Random(seed), settings))
        shown = _listed(sample)
        described = {t.class_name: t.description for t in shown.entities}
        assert all(name.startswith("Entity") and len(name) == 7 for name in described)
        assert sorted(described.values()) == sorted(t.description for t in schema.entities)
        answer = parse_completion(sample["response"], "ner", classes_for("ner", shown))
        assert answer.complete and not answer.problems
        by_text = {item.text: described[item.class_name] for item in answer.items}
        assert by_text == {"Ann": "A human being.", "Rome": "A large town."}
        names_of_person.add(next(n for n, d in described.items() if d == "A human being."))
        unmasked = next(task_samples("ner", [record], schema, "toy", random.Random(seed), plain))
        assert sample["prompt"].split("class ", 2)[0] == unmasked["prompt"].split("class ", 2)[0]
        assert sample["prompt"].endswith(unmasked["prompt"][unmasked["prompt"].rindex('"""'):])
    assert len(names_of_person) >= 5  # the letter says nothing about the class
    one = schema_from_dict({"entities": {"person": "A human being."}})
    assert mask_names(one, random.Random(0)) is one
    with pytest.raises(ValueError, match="E255.*name_mask"):
        DataSettings(name_mask=-0.1)


def test_per_class_prompts_list_one_class_and_about_half_answer_empty():
    """With per_class = 1 every NER prompt lists one class; its answer holds exactly
    the record's mentions of that class, and about half the answers are empty."""
    labels = ["person", "city", "country", "company", "film", "river"]
    schema = schema_from_dict({"entities": {label: f"A {label}." for label in labels}})
    rng = random.Random(0)
    records = []
    for i in range(40):
        text = "Ann met Bo in Rome near the Tiber."
        spans = [(0, 3), (8, 10), (14, 18), (28, 33)]
        records.append(make_record(f"r{i}", text, [
            mention(text, start, end, rng.choice(labels[:4])) for start, end in spans[:1 + i % 4]]))
    settings = DataSettings(ner_candidates=4, negative_share=0.0, per_class=1.0,
                            schema_group_size=8)
    samples = list(task_samples("ner", records, schema, "toy", random.Random(1), settings))
    empty = 0
    for sample in samples:
        shown = _listed(sample)
        assert len(shown.entities) == 1
        answer = parse_completion(sample["response"], "ner", classes_for("ner", shown))
        assert answer.complete and not answer.problems
        empty += not answer.items
        assert {item.class_name for item in answer.items} <= {shown.entities[0].class_name}
    assert len(samples) > len(records)
    assert 0.35 <= empty / len(samples) <= 0.65, empty / len(samples)
    # consecutive samples share one class (and so one prompt prefix in SFT)
    prefixes = [sample["prompt"].split('sentence = ')[0] for sample in samples]
    assert sum(a != b for a, b in zip(prefixes, prefixes[1:])) < len(samples) / 2
    with pytest.raises(ValueError, match="E255.*per_class"):
        DataSettings(per_class=-0.1)


def test_per_class_asks_the_records_that_hold_a_class_and_as_many_that_do_not():
    schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town.",
                                            "film": "A movie."}})
    group = [make_record("a", "Ann", [mention("Ann", 0, 3, "person")]),
             make_record("b", "Rome", [mention("Rome", 0, 4, "city")]),
             make_record("c", "Bo", [mention("Bo", 0, 2, "person")]),
             make_record("d", "Oslo", [mention("Oslo", 0, 4, "city")])]
    samples = list(per_class_samples(group, ["person", "film"], schema, "toy", random.Random(0)))
    person = [s for s in samples if "class Person" in s["prompt"]]
    film = [s for s in samples if "class Film" in s["prompt"]]
    assert [s["response"] for s in person].count("results = []") == 2
    assert {'\tPerson("Ann")' in s["response"] or '\tPerson("Bo")' in s["response"]
            for s in person} == {True, False}
    assert len(film) == 1 and film[0]["response"] == "results = []"


def test_per_class_zero_builds_the_same_samples_as_before():
    schema = schema_from_dict({"entities": {"person": "A human.", "city": "A town."}})
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "person")])
    runs = [list(task_samples("ner", [record] * 5, schema, "toy", random.Random(3),
                              DataSettings(ner_candidates=2, **extra)))
            for extra in ({}, {"per_class": 0.0})]
    assert runs[0] == runs[1]


def test_long_lists_lose_absent_classes_until_the_sample_fits():
    long = "A definition that is long enough to matter here. " * 3
    schema = schema_from_dict({"entities": {f"type {i}": long for i in range(12)}})
    text = "Ann lives in Rome."
    record = make_record("r", text, [mention(text, 0, 3, "type 0")])
    whole = DataSettings(ner_candidates=12, negative_share=0.0, max_sample_chars=0)
    fitted = DataSettings(ner_candidates=12, negative_share=0.0, max_sample_chars=1800)
    big = next(task_samples("ner", [record], schema, "toy", random.Random(0), whole))
    small = next(task_samples("ner", [record], schema, "toy", random.Random(0), fitted))
    assert len(big["prompt"]) + len(big["response"]) > 1800
    assert len(small["prompt"]) + len(small["response"]) <= 1800
    assert "class Type0(Entity)" in small["prompt"] and small["response"] == big["response"]


def test_long_passages_are_cut_at_sentence_ends_outside_mentions():
    text = "Dr. Ann Lee met Bo. Bo left Rome. Then he came back to Rome again."
    record = make_record("p", text, [mention(text, 0, 11, "person"),
                                     mention(text, 28, 32, "city"),
                                     mention(text, 61, 65, "city")])
    chunks = split_record(record, 25)
    assert [c["text"] for c in chunks] == ["Dr. Ann Lee met Bo.", "Bo left Rome.",
                                           "Then he came back to Rome again."]
    for chunk in chunks:  # "Dr. Ann" is not cut: the mention spans that sentence end
        for entity in chunk["entities"]:
            assert chunk["text"][entity["start"]:entity["end"]] == entity["text"]
    assert sum(len(c["entities"]) for c in chunks) == 3
    with_relation = dict(record, relations=[{"label": "x"}])
    assert split_record(with_relation, 25) == [with_relation]


def test_held_out_text_is_found_after_tokenization_and_quoting():
    index = HeldOutIndex(["The wheel of the car is \"round\" today .", "Results :"])
    assert index.contains('Intro. The wheel of the car is "round" today. More.')
    assert index.contains("results")  # a short held-out text, as a whole record
    assert not index.contains("Our results are new.")
    assert not index.contains("The wheel of the bike is round today.")


@pytest.fixture(scope="module")
def pile_build(tmp_path_factory):
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT}")
    out = tmp_path_factory.mktemp("pile")
    settings = DataSettings(sft_datasets=("pile_ner_types",), tasks=("ner",),
                            instance_datasets=(), definition_docs=1, eval_limit=1,
                            sft_per_dataset_task=0, max_text_chars=0, max_sample_chars=3600,
                            max_description_chars=160, ner_candidates=16, chunk_chars=600,
                            schema_group_size=8, gold_dropout=0.2, negatives="frequency")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_training_data(settings, DATA_ROOT, out)
    rows = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    return rows, [str(w.message) for w in caught]


def test_pile_samples_carry_the_data_definitions_and_many_types(pile_build):
    rows, _ = pile_build
    assert len(rows) > 2500
    classes = Counter()
    for row in rows[:400]:
        classes.update(t.label for t in _listed(row).entities)
        assert len(row["prompt"]) + len(row["response"]) <= 3600
    assert len(classes) > 150
    prompt = next(r["prompt"] for r in rows if "class FieldOfStudy(Entity)" in r["prompt"])
    assert "'field of study' refers to academic or scientific disciplines" in prompt
    empty = sum(r["response"] == "results = []" for r in rows) / len(rows)
    assert 0.02 < empty < 0.5


def test_a_pile_passage_with_held_out_text_is_dropped(pile_build):
    rows, messages = pile_build
    dropped = [m for m in messages if "W252" in m and "'pile_ner_types'" in m]
    assert dropped, messages  # the WikiEvents test set's video-player boilerplate
    assert not any("Video Unavailable Click to play" in r["prompt"] for r in rows)
