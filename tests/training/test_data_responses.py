"""Gold answers in the exact reference format, and negative class sampling."""
from spacy_knowcoder.schema import schema_from_dict
from training.data.responses import render_results
from training.data.sampling import candidates, rng_for

SCHEMA = schema_from_dict({
    "entities": {"person": "A human.", "city": "A town."},
    "relations": {"born in": "Place of birth."},
    "events": {"marriage": {"description": "A wedding.",
                            "roles": ["spouse", "place", "from"]}}})
RECORD = {
    "text": 'Ann "A" wed Bob in Rome.',
    "entities": [{"start": 19, "end": 23, "label": "city", "text": "Rome"},
                 {"start": 0, "end": 7, "label": "person", "text": 'Ann "A"'}],
    "relations": [{"head": {"text": 'Ann "A"'}, "tail": {"text": "Rome"}, "label": "born in"}],
    "events": [{"trigger": {"start": 8, "end": 11, "text": "wed"}, "type": "marriage",
                "arguments": [{"text": 'Ann "A"', "role": "spouse"},
                              {"text": "Bob", "role": "spouse"},
                              {"text": "Rome", "role": "from"}]}]}


def test_reference_formats():
    assert render_results("ner", RECORD, SCHEMA) == (
        'results = [\n\tPerson("Ann \\"A\\""),\n\tCity("Rome")\n]')
    assert render_results("re", RECORD, SCHEMA) == (
        'results = [\n\tBornIn(Entity("Ann \\"A\\""), Entity("Rome"))\n]')
    assert render_results("ed", RECORD, SCHEMA) == 'results = [\n\tMarriage("wed")\n]'
    assert render_results("eae", RECORD, SCHEMA) == (
        'results = [\n\tMarriage(trigger = "wed", spouse = [Entity("Ann \\"A\\""), '
        'Entity("Bob")], from = [Entity("Rome")])\n]')


def test_classes_outside_the_prompt_give_empty_answer():
    only_city = schema_from_dict({"entities": {"city": "A town."}})
    assert render_results("ner", {"entities": []}, only_city) == "results = []"
    no_person = schema_from_dict({"entities": {"dog": "An animal."}})
    assert render_results("ner", RECORD, no_person) == "results = []"


def test_candidates_keep_gold_and_fill_with_negatives():
    labels = [f"l{i}" for i in range(20)]
    for i in range(30):
        chosen = candidates(rng_for(i, "t"), ["l3", "l7"], labels, 16, 0.0)
        assert len(chosen) == 16 and {"l3", "l7"} <= set(chosen)
    negatives = [candidates(rng_for(i, "t"), ["l3"], labels, 4, 0.5) for i in range(200)]
    without_gold = sum("l3" not in c for c in negatives)
    assert 60 < without_gold < 140  # about half the prompts answer results = []
    assert candidates(rng_for(0, "x"), ["a"], ["a", "b"], 16, 0.0) in (["a", "b"], ["b", "a"])
