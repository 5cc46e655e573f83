"""The typing stage: choose each item's class by the model's scores of every candidate.

The unit tests use a small scorer double whose numbers are chosen by hand, to pin
the logic (calibration, threshold, duplicates, what is left as generated). The
pipeline tests run the real shipped default on real sentences.
"""
from typing import Dict, List, Sequence

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_knowcoder.class_scoring import ClassScoring, content_free_item, new_typing_counts
from spacy_knowcoder.class_scoring import render_as, softmax
from spacy_knowcoder.generation.blocks import model_block_config
from spacy_knowcoder.parsing import EntityItem, EventItem, ParseResult, RelationItem
from spacy_knowcoder.answer import ITEM_INDENT, RESULTS_OPEN

CLASSES = ["Person", "City"]


class TableScorer:
    """Scores continuations from a table: {continuation: log-prob}; records the calls."""

    def __init__(self, table: Dict[str, float]) -> None:
        self.table = table
        self.calls: List[str] = []

    def score_continuations(self, prompt: str, continuations: Sequence[str]) -> List[float]:
        assert prompt.endswith(RESULTS_OPEN)
        self.calls.append(prompt)
        return [self.table[text] for text in continuations]


def _table(**scores: float) -> Dict[str, float]:
    """Keys like Person_Ann -> '\\tPerson("Ann")'; cf_Person -> the content-free item."""
    table = {}
    for key, value in scores.items():
        name, _, mention = key.partition("_")
        if name == "cf":
            table[ITEM_INDENT + content_free_item("ner", mention)] = value
        else:
            table[ITEM_INDENT + render_as(EntityItem(name, mention), name)] = value
    return table


def _retype(stage: ClassScoring, scorer, items, classes=CLASSES, in_text=lambda item: True):
    counts = new_typing_counts()
    result = ParseResult(items=list(items), complete=True)
    stage.retype(scorer, "ner", "prompt\n", classes, [result], lambda: "cf prompt\n",
                 in_text, counts)
    return result.items, counts


def test_calibration_removes_the_prior_of_one_class() -> None:
    # Raw: Person wins for Rome (-2 > -3); the model says Person for anything,
    # including the content-free "N/A" (-1 vs -6), so calibrated City wins.
    scorer = TableScorer(_table(Person_Rome=-2.0, City_Rome=-3.0, cf_Person=-1.0, cf_City=-6.0))
    raw, _ = _retype(ClassScoring(calibrate=False), scorer, [EntityItem("Person", "Rome")])
    calibrated, counts = _retype(ClassScoring(calibrate=True), scorer,
                                 [EntityItem("Person", "Rome")])
    assert [i.class_name for i in raw] == ["Person"]
    assert [i.class_name for i in calibrated] == ["City"]
    assert calibrated[0].score == pytest.approx(softmax([-2.0 + 1.0, -3.0 + 6.0])[1], abs=1e-6)
    assert counts["scored"] == 1 and counts["changed"] == 1


def test_the_content_free_scores_are_computed_once_per_schema() -> None:
    scorer = TableScorer(_table(Person_Ann=-1.0, City_Ann=-5.0, Person_Rome=-4.0,
                                City_Rome=-1.0, cf_Person=-2.0, cf_City=-2.0))
    stage = ClassScoring()
    _retype(stage, scorer, [EntityItem("Person", "Ann")])
    _retype(stage, scorer, [EntityItem("Person", "Rome")])
    assert scorer.calls.count("cf prompt\n" + RESULTS_OPEN) == 1


def test_the_threshold_drops_unsure_items_and_counts_them() -> None:
    scorer = TableScorer(_table(Person_Ann=-1.0, City_Ann=-1.1, Person_Bob=-1.0,
                                City_Bob=-9.0, cf_Person=0.0, cf_City=0.0))
    items, counts = _retype(ClassScoring(threshold=0.9), scorer,
                            [EntityItem("Person", "Ann"), EntityItem("Person", "Bob")])
    assert [(i.text, i.class_name) for i in items] == [("Bob", "Person")]
    assert items[0].score > 0.99
    assert counts["below_threshold"] == 1 and counts["scored"] == 2


def test_one_mention_typed_twice_becomes_one_item_two_occurrences_stay() -> None:
    scorer = TableScorer(_table(Person_X=-1.0, City_X=-5.0, cf_Person=0.0, cf_City=0.0))
    items, counts = _retype(ClassScoring(), scorer,
                            [EntityItem("Person", "X"), EntityItem("City", "X")])
    assert [(i.text, i.class_name) for i in items] == [("X", "Person")]
    assert counts["merged"] == 1
    items, _ = _retype(ClassScoring(), scorer, [EntityItem("Person", "X")] * 2)
    assert len(items) == 2


def test_split_prompts_of_one_window_are_typed_together() -> None:
    """One class per prompt: the Person prompt and the City prompt both wrote "X"."""
    scorer = TableScorer(_table(Person_X=-4.0, City_X=-1.0, Person_Ann=-1.0, City_Ann=-6.0,
                                cf_Person=0.0, cf_City=0.0))
    asked_person = ParseResult(items=[EntityItem("Person", "X"), EntityItem("Person", "Ann")])
    asked_city = ParseResult(items=[EntityItem("City", "X")])
    counts = new_typing_counts()
    ClassScoring().retype(scorer, "ner", "prompt\n", CLASSES, [asked_person, asked_city],
                          lambda: "cf prompt\n", lambda item: True, counts)
    assert [(i.text, i.class_name) for i in asked_person.items] == [("X", "City"),
                                                                     ("Ann", "Person")]
    assert asked_city.items == [] and counts["merged"] == 1


def test_what_the_stage_leaves_as_generated_is_counted() -> None:
    scorer = TableScorer(_table(Person_Ann=-1.0, City_Ann=-2.0, cf_Person=0.0, cf_City=0.0))
    item = EntityItem("City", "Ann")
    kept, counts = _retype(ClassScoring(), scorer, [item], classes=["City"])
    assert kept == [item] and kept[0].score is None and counts["one_class"] == 1
    kept, counts = _retype(ClassScoring(), object(), [item])
    assert kept == [item] and counts["no_model_scores"] == 1
    kept, counts = _retype(ClassScoring(), scorer, [item, EntityItem("City", "Zed")],
                           in_text=lambda i: i.text != "Zed")
    assert [i.class_name for i in kept] == ["Person", "City"]
    assert counts["not_in_text"] == 1 and kept[1].score is None


def test_relations_and_events_are_rendered_per_class() -> None:
    relation = RelationItem("BornIn", "Ann", "Rome")
    assert render_as(relation, "LivesIn") == 'LivesIn(Entity("Ann"), Entity("Rome"))'
    assert render_as(EventItem("Attack", "fired"), "Meet") == 'Meet("fired")'
    assert content_free_item("ner", "City") == 'City("N/A")'


@pytest.mark.parametrize("value", [-0.1, 1.5, "high", True])
def test_a_bad_threshold_is_e023(value) -> None:
    with pytest.raises(ValueError, match="E023"):
        ClassScoring(threshold=value)
    if not isinstance(value, float):  # spaCy's config check already refuses a non-number
        return
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="E023"):
        nlp.add_pipe("knowcoder", config={"schema": {"entities": {"person": "A human."}},
                                          "typing": "generate", "threshold": value})


def test_an_unknown_typing_mode_is_e017() -> None:
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="E017.*typing"):
        nlp.add_pipe("knowcoder", config={"schema": {"entities": {"person": "A human."}},
                                          "typing": "vote"})


# -- the real shipped default -------------------------------------------------------

SCHEMA = {"entities": {"person": "A human being.", "city": "A large town.",
                       "organization": "A company, institution or group.",
                       "country": "A nation with its own government."}}


def _nlp(dtype="auto", schema=None, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": schema or SCHEMA, "typing": "score",
                                      "model": model_block_config(None, dtype=dtype), **config})
    return nlp


@pytest.mark.model
def test_scoring_types_the_city_and_every_entity_gets_a_score(shipped_home) -> None:
    """float32, so every CPU computes the same. Two classes: with the four of SCHEMA
    the default finds only the person (tests/test_default_model.py), and scoring can
    only type what generation found."""
    nlp = _nlp(dtype="float32", schema={"entities": {"person": "A human being.",
                                                     "city": "A large town."}})
    doc = nlp("Barack Obama was born in Honolulu.")
    found = {(e.text, e.label_) for e in doc.spans["knowcoder"]}
    assert ("Honolulu", "city") in found and ("Barack Obama", "person") in found
    scores = doc.spans["knowcoder"].attrs["scores"]
    assert len(scores) == len(doc.spans["knowcoder"])
    assert all(0 < s <= 1 for s in scores)
    typing = doc._.knowcoder_diagnostics["typing"]
    assert typing["scored"] == len(scores)
    again = next(DocBin(store_user_data=True, docs=[doc]).get_docs(nlp.vocab))
    assert again.spans["knowcoder"].attrs["scores"] == scores
    assert again._.knowcoder_diagnostics["typing"] == typing


@pytest.mark.model
def test_the_threshold_keeps_only_confident_entities(shipped_home) -> None:
    text = "Angela Merkel met Emmanuel Macron in Paris."
    every = _nlp(dtype="float32")(text).spans["knowcoder"]
    assert len(every) == 2
    cut = sorted(every.attrs["scores"])[0] + 1e-6
    kept = _nlp(dtype="float32", threshold=cut)(text)
    assert len(kept.spans["knowcoder"]) == len(every) - 1
    assert kept._.knowcoder_diagnostics["typing"]["below_threshold"] == 1


@pytest.mark.model
def test_relations_are_scored_over_the_found_pair(shipped_home) -> None:
    schema = {"entities": {"person": "A human being.", "organization": "A company."},
              "relations": {"work for": {"description": "The head works for the tail.",
                                         "head": ["person"], "tail": ["organization"]},
                            "born in": {"description": "The head was born in the tail."}}}
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": schema, "typing": "score", "tasks": ["re"]})
    doc = nlp("Satya Nadella works for Microsoft.")
    assert doc._.relations, doc._.knowcoder_diagnostics
    for relation in doc._.relations:
        assert relation["label"] in ("work for", "born in")
        assert 0 < relation["score"] <= 1


@pytest.mark.model
def test_one_class_per_prompt_is_typed_over_all_classes(shipped_home) -> None:
    """split_selection(budget=1) asks one class per prompt; typing compares all of them."""
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "schema": SCHEMA, "model": model_block_config(None, dtype="float32"),
        "selection": {"@misc": "spacy_knowcoder.split_selection.v1", "budget": 1}})
    doc = nlp("Barack Obama was born in Honolulu.")
    typing = doc._.knowcoder_diagnostics["typing"]
    assert typing["one_class"] == 0 and typing["scored"] >= len(doc.spans["knowcoder"]) > 0
    assert all(0 < s <= 1 for s in doc.spans["knowcoder"].attrs["scores"])
    # each mention once, however many one-class prompts wrote it
    spans = [(s.start_char, s.end_char) for s in doc.spans["knowcoder"]]
    assert len(spans) == len(set(spans))


@pytest.mark.model
def test_a_one_class_schema_keeps_the_generated_class(shipped_home) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": {"entities": {"person": "A human being."}},
                                      "typing": "score"})
    doc = nlp("Barack Obama was born in Honolulu.")
    typing = doc._.knowcoder_diagnostics["typing"]
    assert typing["scored"] == 0 and typing["one_class"] == len(doc.spans["knowcoder"]) > 0
    assert "scores" not in doc.spans["knowcoder"].attrs
