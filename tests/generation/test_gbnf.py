"""The GBNF grammar accepts exactly what the local constrained decoder accepts.

Checked with XGrammar, the grammar engine of vLLM and SGLang, as the GBNF
recognizer: random answers walked through ``ResultsGrammar`` (and mutations of
them) are accepted by one exactly when they are accepted by the other, for
every task, on texts with quotes, backslashes, newlines and non-ASCII."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_knowcoder.generation.constrained import Constraint, ResultsGrammar
from spacy_knowcoder.generation.gbnf import MAX_EXACT_ROLES, gbnf_literal, results_gbnf

xgr_testing = pytest.importorskip("xgrammar.testing", reason="xgrammar (bin/setup.sh)")

CLASSES = {"ner": {"Person": (), "City": (), "Cityscape": ()},
           "ed": {"Marriage": (), "Attack": ()},
           "re": {"BornIn": (), "LocatedIn": ()},
           "eae": {"Marriage": ("spouse", "place"), "Attack": ("attacker",)}}
TEXTS = ['He said "hi" to Ann \\ Bob in Zürich 😀.', "Ann  met\tBob.\nThey wed in Rome. ",
         "a", " x ", "O'Neil's   \"quote\" \\n"]


def local_accepts(constraint: Constraint, answer: str) -> bool:
    grammar = ResultsGrammar(constraint)
    state = grammar.advance(grammar.start(), answer.encode("utf-8"))
    return state is not None and grammar.is_done(state)


def engine_accepts(gbnf: str, answer: str) -> bool:
    return xgr_testing._is_grammar_accept_string(gbnf, answer)


def walk(constraint: Constraint, rng: random.Random, max_bytes: int = 160) -> str:
    """A random answer of the local grammar (closing once it is long)."""
    grammar = ResultsGrammar(constraint)
    state, out = grammar.start(), bytearray()
    while not grammar.is_done(state):
        closing = grammar.checkpoint(state)
        if closing is not None and (len(out) > max_bytes or rng.random() < 0.2):
            out += closing
            state = grammar.advance(state, closing)
            continue
        byte = rng.choice(sorted(grammar.allowed_bytes(state)))
        out.append(byte)
        state = grammar.advance(state, bytes([byte]))
    return out.decode("utf-8")


def mutate(answer: str, rng: random.Random) -> str:
    position = rng.randrange(len(answer))
    change = rng.choice(["drop", "insert", "swap"])
    noise = rng.choice(['"', "\\", "Q", " ", ")", "é", ","])
    if change == "drop":
        return answer[:position] + answer[position + 1:]
    if change == "insert":
        return answer[:position] + noise + answer[position:]
    return answer[:position] + noise + answer[position + 1:]


@pytest.mark.parametrize("task", ["ner", "ed", "re", "eae"])
@pytest.mark.parametrize("text", TEXTS)
def test_the_engine_and_the_local_grammar_accept_the_same_answers(task, text):
    constraint = Constraint(task, CLASSES[task], ("Person", "City"), text)
    gbnf = results_gbnf(constraint)
    rng = random.Random(f"{task}:{text}")
    for _ in range(12):
        answer = walk(constraint, rng)
        assert engine_accepts(gbnf, answer), (answer, gbnf)
        for _ in range(3):
            other = mutate(answer, rng)
            assert engine_accepts(gbnf, other) == local_accepts(constraint, other), other


@settings(max_examples=40, deadline=None)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24),
       seed=st.integers(0, 1000))
def test_any_text_gives_a_grammar_the_engine_reads(text, seed):
    constraint = Constraint("ner", {"Person": ()}, text=text)
    gbnf = results_gbnf(constraint)
    answer = walk(constraint, random.Random(seed), max_bytes=60)
    assert engine_accepts(gbnf, answer)
    assert engine_accepts(gbnf, "results = []")


def test_no_class_or_no_text_allows_only_the_empty_list():
    for constraint in (Constraint("ner", {}, text="Ann"), Constraint("ner", {"P": ()}, text=" \n")):
        gbnf = results_gbnf(constraint)
        assert gbnf == 'root ::= "results = []"\n'
        assert not engine_accepts(gbnf, 'results = [\n\tP("Ann")\n]')


def test_many_roles_repeat_instead_of_growing_the_grammar():
    roles = tuple(f"r{i}" for i in range(MAX_EXACT_ROLES + 2))
    constraint = Constraint("eae", {"Big": roles}, text="Ann wed Bob.")
    gbnf = results_gbnf(constraint)
    assert len(gbnf.splitlines()) < 40
    answer = 'results = [\n\tBig(trigger = "wed", r0 = [Entity("Ann")], r0 = [Entity("Bob")])\n]'
    assert engine_accepts(gbnf, answer) and not local_accepts(constraint, answer)


def test_literals_escape_what_gbnf_needs():
    assert gbnf_literal('a"b\\c\n\t\x01') == '"a\\"b\\\\c\\n\\t\\x01"'
