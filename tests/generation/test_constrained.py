"""The results-list grammar, the token chooser and constrained decoding on SmolLM2."""
import random
from pathlib import Path
from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_knowcoder.generation import GenerationSettings, HFGenerator
from spacy_knowcoder.generation.constrained import (Constraint, ResultsGrammar, TokenChooser,
                                                    repeat_flags)
from spacy_knowcoder.generation.token_bytes import vocabulary_bytes
from spacy_knowcoder.parsing import EventItem, RelationItem, parse_completion

TEXT = 'Ann said "hi" to Bob in Zürich \\ on Monday.\nThen   Ann left. '
CONSTRAINTS = [
    Constraint("ner", {"Person": (), "PersonGroup": (), "City": ()}, text=TEXT),
    Constraint("re", {"LivesIn": (), "Knows": ()}, ("Entity", "Person", "City"), TEXT),
    Constraint("ed", {"Speech": ("speaker",)}, text=TEXT),
    Constraint("eae", {"Speech": ("speaker", "from", "place")}, ("Entity", "Person"), TEXT),
]


def mentions(item) -> List[str]:
    if isinstance(item, RelationItem):
        return [item.head, item.tail]
    if isinstance(item, EventItem):
        return [item.trigger] + [a.text for a in item.arguments]
    return [item.text]


def check_output(text: str, constraint: Constraint) -> int:
    """The completion parses with nothing dropped and every mention is in the text."""
    result = parse_completion(text, constraint.task, constraint.classes,
                              constraint.argument_classes)
    assert result.ok, (text, result.problems)
    assert result.dropped_classes == result.dropped_items == 0
    for item in result.items:
        assert item.class_name in constraint.classes
        for mention in mentions(item):
            assert mention and mention in constraint.text and mention == mention.strip()
    return len(result.items)


def random_walk(grammar: ResultsGrammar, rnd: random.Random, limit: int = 600) -> bytes:
    state, out = grammar.start(), bytearray()
    while not grammar.is_done(state):
        allowed = sorted(grammar.allowed_bytes(state))
        assert allowed, f"dead end after {bytes(out)!r}"
        closing = [b for b in b'")]\n' if b in allowed]
        byte = rnd.choice(allowed) if len(out) < limit or not closing else closing[0]
        out.append(byte)
        state = grammar.advance(state, bytes([byte]))
        assert state is not None
        assert len(out) < limit * 4, "the walk does not end"
    return bytes(out)


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=lambda c: c.task)
@given(seed=st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_every_byte_walk_parses_with_nothing_dropped(constraint: Constraint, seed: int) -> None:
    out = random_walk(ResultsGrammar(constraint), random.Random(seed), limit=300)
    check_output(out.decode("utf-8"), constraint)


def test_grammar_rejects_what_the_parser_would_drop() -> None:
    g = ResultsGrammar(CONSTRAINTS[0])
    start = g.advance(g.start(), b'results = [\n\t')
    assert g.advance(start, b'Animal("Ann")') is None  # class outside the schema
    assert g.advance(start, b'Person("Eve")') is None  # mention not in the text
    assert g.advance(start, b'Person("")') is None  # empty mention
    assert g.advance(start, b'Person(" Ann")') is None  # starts on whitespace
    assert g.advance(start, b'Person("Zurich")') is None
    assert g.advance(start, 'Person("Zürich")'.encode()) is not None
    assert g.advance(start, b'Person("said \\"hi\\"")') is not None  # escaped quotes
    assert g.advance(start, b'Person("said "hi')is None
    assert g.advance(start, b'Person("Monday.\\nThen")') is not None
    assert g.advance(start, b'PersonGroup("Ann")') is not None  # a name that extends another


def test_eae_roles_come_from_the_class_and_are_used_once() -> None:
    g = ResultsGrammar(CONSTRAINTS[3])
    state = g.advance(g.start(), b'results = [\n\tSpeech(trigger = "said", speaker = [Entity("Ann")]')
    assert state is not None
    assert g.advance(state, b", speaker") is None
    assert g.advance(state, b", victim") is None
    assert g.advance(state, ', from = [Person("Bob"), Entity("Zürich'.encode()) is not None


def test_no_items_when_the_text_has_no_mention() -> None:
    g = ResultsGrammar(Constraint("ner", {"Person": ()}, text="  \n "))
    state = g.advance(g.start(), g.forced(g.start()))
    assert g.is_done(state)
    assert g.forced(g.start()) == b"results = []"


def test_unknown_task_is_e160() -> None:
    with pytest.raises(ValueError, match="E160"):
        ResultsGrammar(Constraint("pos", {}, text="x"))


# --- the token chooser on the real vocabulary, random scores ------------------


@pytest.fixture(scope="module")
def token_table(smollm2_dir: Path):
    from transformers import AutoTokenizer

    return vocabulary_bytes(AutoTokenizer.from_pretrained(smollm2_dir))


def test_vocabulary_bytes_round_trip(token_table, smollm2_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    text = 'results = [\n\tCity("Zürich"),\n\tPerson("Ann \\"A\\"")\n]'
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert b"".join(token_table[i] for i in ids) == text.encode("utf-8")
    assert token_table[tokenizer.eos_token_id] is None


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=lambda c: c.task)
def test_random_logits_always_give_parseable_output(token_table, constraint) -> None:
    import torch

    chooser = TokenChooser(token_table)
    grammar = ResultsGrammar(constraint)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):
        state, out = grammar.start(), bytearray()
        for _ in range(120):
            if grammar.is_done(state):
                break
            scores = torch.randn(len(token_table), generator=generator)
            token, state = chooser.choose(grammar, state, scores)
            out.extend(token_table[token])
        if grammar.is_done(state):
            check_output(out.decode("utf-8"), constraint)
    assert chooser.fallbacks > 0  # random scores are mostly invalid: the fallback ran


# --- constrained decoding with the real model ---------------------------------


def test_real_model_constrained_output_always_parses(smollm2_dir: Path) -> None:
    from spacy_knowcoder.prompting import render_query, wrap_query
    from spacy_knowcoder.schema import schema_from_dict

    schema = schema_from_dict({"entities": {"person": "A human being.",
                                            "city": "A large town."}})
    texts = ["Barack Obama was born in Honolulu.", 'Ann said "hi" in Zürich.']
    prompts = [wrap_query(render_query("ner", schema, t)) for t in texts]
    constraints = [Constraint("ner", {"Person": (), "City": ()}, text=t) for t in texts]
    gen = HFGenerator(smollm2_dir, GenerationSettings(max_new_tokens=24, batch_size=2))
    outputs = gen.generate(prompts, constraints=constraints)
    total = sum(check_output(out, c) for out, c in zip(outputs, constraints))
    assert total >= 1  # the model found something; all of it valid
    # a budget too small to finish: the list is closed after its last whole item
    small = HFGenerator.from_objects(gen.model, gen.tokenizer,
                                     GenerationSettings(max_new_tokens=9, batch_size=2))
    with pytest.warns(UserWarning, match="W160"):
        cut = small.generate(prompts, constraints=constraints)
    for out, c in zip(cut, constraints):
        check_output(out, c)



def test_repeats_beyond_the_text_are_counted_per_mention_and_relation() -> None:
    grammar = ResultsGrammar(Constraint("ner", {"A": (), "B": ()}, text="Ann met Ann and Bo."))
    twice = b'results = [\n\tA("Ann"),\n\tB("Ann")'
    assert not grammar.repeats_beyond_text(twice)  # "Ann" occurs twice, any class
    assert grammar.repeats_beyond_text(twice + b',\n\tA("Ann")')
    assert grammar.repeats_beyond_text(b'results = [\n\tA("Bo"),\n\tA("Bo")')
    relations = ResultsGrammar(Constraint("re", {"R": ()}, text="Ann met Ann."))
    one = b'results = [\n\tR(Entity("Ann"), Entity("Ann"))'
    assert not relations.repeats_beyond_text(one)
    assert relations.repeats_beyond_text(one + b',\n\tR(Entity("Ann"), Entity("Ann"))')


def test_repeat_flags_mark_each_item_the_text_cannot_hold() -> None:
    """The decoder's definition, counted over a whole list (as benchmarks count it)."""
    text = "Ann met Ann and Bo."
    ner = parse_completion('results = [\n\tA("Ann"),\n\tB("Ann"),\n\tA("Bo"),\n\tB("Ann")\n]',
                           "ner", {"A": (), "B": ()}).items
    assert repeat_flags(ner, text, "ner") == [False, False, False, True]
    re_items = parse_completion('results = [\n\tR(Entity("Ann"), Entity("Bo")),\n'
                                '\tR(Entity("Ann"), Entity("Bo"))\n]', "re", {"R": ()}).items
    assert repeat_flags(re_items, text, "re") == [False, True]
    assert repeat_flags(ner, text, "eae") == [False] * 4
    # the grammar agrees with the flags at every item boundary
    grammar = ResultsGrammar(Constraint("ner", {"A": (), "B": ()}, text=text))
    prefix = b"results = ["
    for item, flag in zip(ner, repeat_flags(ner, text, "ner")):
        prefix += b"\n\t" + f'{item.class_name}("{item.text}")'.encode()
        assert grammar.repeats_beyond_text(prefix) == flag
        prefix += b","


@pytest.mark.model
def test_a_looping_model_stops_at_its_first_repeat_beyond_the_text(smollm2_dir: Path) -> None:
    """Real SmolLM2, one class per prompt (where it loops): with ``stop_repeats`` each
    completion is the free-running one cut before its first repeat beyond the text,
    in fewer decoded tokens."""
    from spacy_knowcoder.prompting import render_query, wrap_query
    from spacy_knowcoder.schema import schema_from_dict

    texts = ["Barack Obama was born in Honolulu.", "Apple hired Tim Cook in Cupertino.",
             "Angela Merkel visited Berlin on Monday.", "The Nile flows through Egypt and Sudan."]
    schema = schema_from_dict({"entities": {"city": "A large town."}})
    prompts = [wrap_query(render_query("ner", schema, text)) for text in texts]
    constraints = [Constraint("ner", {"City": ()}, text=text) for text in texts]
    runs = {}
    for stop in (False, True):
        generator = HFGenerator(smollm2_dir, GenerationSettings(
            dtype="float32", max_new_tokens=48, stop_repeats=stop))
        runs[stop] = (generator.generate(prompts, constraints=constraints),
                      dict(generator.decoder.stats))
    (free, free_stats), (stopped, stats) = runs[False], runs[True]
    assert stats["repeat_stops"] >= 1 and stats["new_tokens"] < free_stats["new_tokens"]
    for text, looped, cut in zip(texts, free, stopped):
        items = parse_completion(looped, "ner", {"City": ()}).items
        keep = []
        for item in items:
            if sum(i.text == item.text for i in keep) >= text.count(item.text):
                break
            keep.append(item)
        result = parse_completion(cut, "ner", {"City": ()})
        assert result.complete and result.items == keep, (looped, cut)
