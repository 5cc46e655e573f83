"""Fuzzing alignment (spacy_knowcoder.align): mentions at random places in random text.

Complements the short-text properties of tests/test_align.py with long texts of
any unicode (emoji, combining marks, right-to-left text, odd whitespace) into
which the mentions are inserted at random positions, with and without a spaCy
doc: each inserted mention is found at its own offsets, and every span
returned is a valid, token-aligned slice of the text.
"""
from typing import Callable, Tuple

import spacy
from hypothesis import given
from hypothesis import strategies as st

from spacy_knowcoder.align import CharSpan, MentionIndex

from .guard import fuzz_settings

NLP = spacy.blank("xx")
ANY_CHAR = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(" \n\t\u00a0\u2028\u200b\u202e\u0301😀👩‍🔬İßΣς\"'\\“”—…"),
)
filler = st.text(alphabet=ANY_CHAR, max_size=400)
# Mentions of letters and digits (with single inner spaces): whole words wherever
# they are put between spaces.
mention_word = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")),
                       min_size=1, max_size=12)
mentions = st.lists(mention_word, min_size=1, max_size=3).map(" ".join)


@st.composite
def texts_with_mention(draw: Callable) -> Tuple[str, str, int, int]:
    left, right, mention = draw(filler), draw(filler), draw(mentions)
    text = f"{left} {mention} {right}"
    start = len(left) + 1
    return text, mention, start, start + len(mention)


def _valid(text: str, span: CharSpan) -> None:
    assert 0 <= span.start < span.end <= len(text)
    assert text[span.start:span.end].strip()


@fuzz_settings(1500)
@given(case=texts_with_mention())
def test_inserted_mention_is_found_at_its_offsets(case: Tuple[str, str, int, int]) -> None:
    text, mention, start, end = case
    spans = MentionIndex(text).find_all(mention)
    assert CharSpan(start, end) in spans
    for span in spans:
        _valid(text, span)
    exact = [s for s in spans if text[s.start:s.end] == mention]
    assert exact, "an exact occurrence exists, so exact matches are returned"
    best = MentionIndex(text).find(mention, near=CharSpan(start, end))
    assert best in spans and best.distance(CharSpan(start, end)) == 0


@fuzz_settings(1000)
@given(case=texts_with_mention(), mode=st.sampled_from(["strict", "expand", "contract"]))
def test_spans_with_a_doc_are_token_aligned(case: Tuple[str, str, int, int], mode: str) -> None:
    text, mention, start, end = case
    doc = NLP(text)
    spans = MentionIndex(text, doc, alignment_mode=mode).find_all(mention)
    for span in spans:
        _valid(text, span)
        assert doc.char_span(span.start, span.end) is not None
    if doc.char_span(start, end) is not None:
        assert CharSpan(start, end) in spans


@fuzz_settings(1000)
@given(left=filler, middle=filler, right=filler, head=mentions, tail=mentions)
def test_relation_pairs_are_valid(left: str, middle: str, right: str, head: str,
                                  tail: str) -> None:
    text = f"{left} {head} {middle} {tail} {right}"
    pair = MentionIndex(text).find_pair(head, tail)
    assert pair is not None
    for span, mention in zip(pair, (head, tail)):
        _valid(text, span)
        assert text[span.start:span.end].casefold() == mention.casefold() or \
            " ".join(text[span.start:span.end].split()).casefold() == mention.casefold()
