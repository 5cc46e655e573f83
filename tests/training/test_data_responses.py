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


def test_keyword_roles_render_the_same_for_training_and_few_shot_answers():
    """Both gold renderers write keyword roles as the class definitions do (``from = [...]``)."""
    from spacy_knowcoder.llm.examples import example_items, examples_from_records
    from spacy_knowcoder.parsing import parse_completion
    from spacy_knowcoder.answer import render_results as render_items

    schema = schema_from_dict({"events": {"transfer": {
        "description": "A move.", "roles": ["from", "class", "to"]}}})
    record = {"text": "Ann moved from Rome to Oslo.",
              "events": [{"type": "transfer", "trigger": {"start": 4, "end": 9, "text": "moved"},
                          "arguments": [{"role": "from", "text": "Rome"},
                                        {"role": "class", "text": "Ann"},
                                        {"role": "to", "text": "Oslo"}]}]}
    expected = ('results = [\n\tTransfer(trigger = "moved", from = [Entity("Rome")], '
                'class = [Entity("Ann")], to = [Entity("Oslo")])\n]')
    assert render_results("eae", record, schema) == expected
    example, = examples_from_records([record], schema)
    assert render_items(example_items(example, "eae", schema)) == expected
    items = parse_completion(expected, "eae", {"Transfer": ["from", "class", "to"]}).items
    assert [(a.role, a.text) for a in items[0].arguments] == [
        ("from", "Rome"), ("class", "Ann"), ("to", "Oslo")]
