"""Splitting long documents into windows of whole sentences within a token budget."""
import warnings

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_knowcoder.windows import split_into_windows


def words(text: str) -> int:
    return len(text.split())


NLP = spacy.blank("en")


@pytest.fixture(scope="module")
def nlp():
    return NLP


def check_cover(doc, windows) -> None:
    """Windows are consecutive and cover every token: nothing is lost."""
    assert windows[0].start == 0 and windows[-1].end == len(doc)
    for a, b in zip(windows, windows[1:]):
        assert a.end == b.start
    # offsets shift back: each window's text is the doc's text at its offsets
    for w in windows:
        assert doc.text[w.start_char:w.end_char] == w.text


def test_rule_based_sentences_on_a_blank_pipeline(nlp) -> None:
    doc = nlp("One two. Three four five. Six.")
    assert not doc.has_annotation("SENT_START")
    windows = split_into_windows(doc, budget=4, count_tokens=words)
    assert [w.text for w in windows] == ["One two.", "Three four five. Six."]
    check_cover(doc, windows)


def test_existing_sentence_boundaries_are_used(nlp) -> None:
    doc = nlp("a b c d e f")
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 4)
    windows = split_into_windows(doc, budget=4, count_tokens=words)
    assert [w.text for w in windows] == ["a b c d", "e f"]


def test_a_sentence_longer_than_the_budget_is_cut_with_a_warning(nlp) -> None:
    doc = nlp("w " * 25 + "end.")
    with pytest.warns(UserWarning, match="W161"):
        windows = split_into_windows(doc, budget=6, count_tokens=words)
    check_cover(doc, windows)
    assert all(words(w.text) <= 6 for w in windows)


def test_short_doc_is_one_window_without_warning(nlp) -> None:
    doc = nlp("Short. Text.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert split_into_windows(doc, 100, words) == [doc[:]]


@given(text=st.lists(st.sampled_from(["Ann", "met", "Bob", ".", "!", "in", "Rome", "\n"]),
                     min_size=1, max_size=80).map(" ".join),
       budget=st.integers(1, 12))
@settings(max_examples=60, deadline=None)
def test_windows_cover_the_doc_within_budget(text: str, budget: int) -> None:
    doc = NLP(text)
    if not len(doc):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = split_into_windows(doc, budget, words)
    check_cover(doc, windows)
    for w in windows:  # over budget only when one token alone is
        assert words(w.text) <= budget or len(w) == 1
