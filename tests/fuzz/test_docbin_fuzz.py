"""Fuzzing the DocBin round trip of what the component writes (DESIGN §4).

Random docs (any unicode words) with random entities, relations and events,
stored through the real ``Doc._`` extensions, saved with
``DocBin(store_user_data=True)`` and loaded into a fresh vocab: everything comes
back (DocBin gives tuples for lists; the getters normalize, and the comparison
is on normalized data), and the visualization renders the restored doc.
"""
import warnings
from typing import Any, Callable, Dict, List, Tuple

import spacy
from hypothesis import given
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin
from spacy.util import filter_spans
from spacy.vocab import Vocab

from spacy_knowcoder.extensions import register_extensions
from spacy_knowcoder.visualize import doc_to_record, render

from .guard import fuzz_settings

register_extensions()
VOCAB = spacy.blank("xx").vocab
word = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
               min_size=1, max_size=8)
label = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10)
score = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    return value


@st.composite
def token_spans(draw: Callable, doc: Doc) -> Tuple[int, int]:
    start = draw(st.integers(0, len(doc) - 1))
    end = draw(st.integers(start + 1, min(len(doc), start + 4)))
    return start, end


def _mention(doc: Doc, span: Tuple[int, int], with_label: str = "") -> Dict[str, Any]:
    chars = doc[span[0]:span[1]]
    mention = {"start": chars.start_char, "end": chars.end_char, "text": chars.text}
    if with_label:
        mention["label"] = with_label
    return mention


@st.composite
def annotated_docs(draw: Callable) -> Doc:
    words = draw(st.lists(word, min_size=1, max_size=30))
    spaces = draw(st.lists(st.booleans(), min_size=len(words), max_size=len(words)))
    doc = Doc(VOCAB, words=words, spaces=spaces)
    ents = [doc[s:e] for s, e in draw(st.lists(token_spans(doc), max_size=5))]
    doc.ents = [doc.char_span(s.start_char, s.end_char, label=draw(label))
                for s in filter_spans(ents)]
    doc._.relations = [
        {"label": draw(label), "head": _mention(doc, draw(token_spans(doc)), draw(label)),
         "tail": _mention(doc, draw(token_spans(doc)), draw(label)), "score": draw(score)}
        for _ in range(draw(st.integers(0, 4)))]
    doc._.events = [
        {"type": draw(label), "trigger": _mention(doc, draw(token_spans(doc))),
         "arguments": [dict(_mention(doc, draw(token_spans(doc)), draw(label)), role=draw(label))
                       for _ in range(draw(st.integers(0, 3)))],
         "score": draw(score)}
        for _ in range(draw(st.integers(0, 3)))]
    doc._.knowcoder_diagnostics = {"dropped_mentions": draw(st.integers(0, 9)),
                                   "problems": {"ner": draw(st.lists(label, max_size=2))}}
    return doc


@fuzz_settings(1000)
@given(docs=st.lists(annotated_docs(), min_size=1, max_size=3))
def test_docbin_round_trip_keeps_relations_events_and_entities(docs: List[Doc]) -> None:
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(Vocab()))
    assert len(restored) == len(docs)
    for before, after in zip(docs, restored):
        assert after.text == before.text
        assert _normalize(after._.relations) == _normalize(before._.relations)
        assert _normalize(after._.events) == _normalize(before._.events)
        assert after._.knowcoder_diagnostics == before._.knowcoder_diagnostics
        assert [(e.start_char, e.end_char, e.label_) for e in after.ents] == [
            (e.start_char, e.end_char, e.label_) for e in before.ents]
        assert isinstance(after._.relations, list)
        assert all(isinstance(r["head"], dict) for r in after._.relations)
        assert doc_to_record(after) == doc_to_record(before)
        for relation in after._.relations:
            for side in ("head", "tail"):
                m = relation[side]
                assert after.text[m["start"]:m["end"]] == m["text"]


@fuzz_settings(300)
@given(docs=st.lists(annotated_docs(), min_size=1, max_size=2))
def test_restored_docs_render(docs: List[Doc]) -> None:
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(Vocab()))
    with warnings.catch_warnings():
        # W400: random relations may join overlapping mentions, which cannot be drawn.
        warnings.filterwarnings("ignore", message=r".*\[W400\]")
        html = render(restored, page=False)
    assert html.count('<section class="knowcoder-doc">') == len(docs)
    assert "<script" not in html
