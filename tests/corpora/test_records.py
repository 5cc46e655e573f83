import pytest
from hypothesis import given, strategies as st

from spacy_knowcoder.corpora.records import align_tokens, bio_spans, join_tokens, natural_label


@pytest.mark.parametrize("tags,expected", [
    (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
    (["I-PER", "I-PER", "I-LOC", "O"], [(0, 2, "PER"), (2, 3, "LOC")]),  # IO
    (["B-PER", "B-PER", "I-PER"], [(0, 1, "PER"), (1, 3, "PER")]),
    (["O", "I-ORG"], [(1, 2, "ORG")]),
    (["B-Medication/Vaccine", "I-Medication/Vaccine"], [(0, 2, "Medication/Vaccine")]),
])
def test_bio_spans(tags, expected):
    assert bio_spans(tags) == expected


@given(st.lists(st.text(alphabet="ab'. ", min_size=1, max_size=5).filter(str.strip),
                max_size=8))
def test_join_tokens_offsets_point_at_tokens(tokens):
    text, offsets = join_tokens(tokens)
    assert [text[s:e] for s, e in offsets] == tokens


def test_align_tokens_keeps_original_spacing_or_fails():
    assert align_tokens("Ann's  dog", ["Ann", "'s", "dog"]) == [(0, 3), (3, 5), (7, 10)]
    assert align_tokens("Ann's dog", ["Ann", "dog"]) is None


def test_natural_label():
    assert natural_label("HumanSettlement") == "human settlement"
    assert natural_label("Multi-tissue_structure") == "multi tissue structure"
    assert natural_label("GENE") == "gene"
