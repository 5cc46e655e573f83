"""The component in non-English pipelines (issue 17, part 1).

The real shipped model runs in ``spacy.blank(lang)`` for twelve languages,
among them Chinese (no spaces), Russian (Cyrillic) and Arabic and Hebrew
(right to left): every stored span lies inside the text on token boundaries,
and everything survives DocBin. Whether the English default *finds* much in
these languages is not asserted here (that is the multilingual model's test);
the alignment cases that model output meets in them are, below, with exact
mention strings.
"""
import ast

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_knowcoder.align import MentionIndex
from spacy_knowcoder.generation.blocks import model_block_config
from spacy_knowcoder.pycode import quote_string
from spacy_knowcoder.windows import split_into_windows

SENTENCES = {
    "zh": "习近平在北京会见了法国总统马克龙。",
    "de": "Angela Merkel besuchte am Montag das Rathaus in München.",
    "es": "Gabriel García Márquez nació en Aracataca, Colombia.",
    "nl": "Koning Willem-Alexander opende het museum in Amsterdam.",
    "fr": "Emmanuel Macron a rencontré Olaf Scholz à Paris.",
    "it": "Sergio Mattarella è nato a Palermo.",
    "ru": "Владимир Путин прилетел в Санкт-Петербург.",
    "pt": "José Saramago nasceu em Azinhaga, Portugal.",
    "sv": "Greta Thunberg talade i Stockholm i fredags.",
    "da": "Mette Frederiksen holdt tale i København.",
    "ar": "ولد نجيب محفوظ في القاهرة.",
    "he": "דוד בן-גוריון נולד בפלונסק.",
}
SCHEMA = {"entities": {"person": "A human being.", "location": "A named place."},
          "relations": {"born in": {"description": "A person was born in a place.",
                                    "head": "person", "tail": "location"}}}


@pytest.mark.model
@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_the_component_runs_in_each_language(lang, shipped_home, assert_valid_results):
    nlp = spacy.blank(lang)
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "tasks": ["ner", "re"],
                                      "model": model_block_config(None, dtype="float32",
                                                                  max_new_tokens=48)})
    nlp.initialize()
    doc = nlp(SENTENCES[lang])
    assert doc.text == SENTENCES[lang]
    assert_valid_results(doc)
    for span in doc.spans["knowcoder"]:
        assert doc.char_span(span.start_char, span.end_char) is not None
    again, = DocBin(store_user_data=True, docs=[doc]).get_docs(nlp.vocab)
    assert [(e.text, e.label_) for e in again.ents] == [(e.text, e.label_) for e in doc.ents]
    assert again._.relations == doc._.relations


@pytest.mark.parametrize("text", list(SENTENCES.values()) + [
    "零宽\u200b空格", "emoji 🎉 Paris", "\u200fשלום\u200e ABC", "e\u0301te\u0301"])
def test_the_sentence_quoting_is_exact_for_any_script(text):
    assert ast.literal_eval(quote_string(text)) == text


@pytest.mark.parametrize("lang,text,mention,expected", [
    # no spaces: the mention sits inside a run of Chinese characters
    ("zh", "习近平在北京会见了法国总统马克龙。", "马克龙", "马克龙"),
    # the model writes ASCII brackets where the text has full-width ones
    ("zh", "我在北京大学（北大）学习。", "北京大学(北大)", "北京大学（北大）"),
    ("zh", "ＡＢＣ公司发布了财报。", "ABC公司", "ＡＢＣ公司"),
    # composed against decomposed accents, and accents the model left out
    ("es", "Jose\u0301 Martí vive en Madrid.", "José Marti", "Jose\u0301 Martí"),
    ("fr", "Le Québec est grand.", "Quebec", "Québec"),
    # invisible characters inside a name
    ("de", "Ber\u200blin ist groß.", "Berlin", "Ber\u200blin"),
    ("he", "\u200fדוד בן-גוריון נולד בפלונסק.", "בן-גוריון", "בן-גוריון"),
    # mixed scripts and case folding
    ("ru", "Компания Яндекс и Google.", "яндекс", "Яндекс"),
    ("ar", "زار Obama القاهرة.", "القاهرة", "القاهرة"),
])
def test_mentions_align_in_each_script(lang, text, mention, expected):
    doc = spacy.blank(lang)(text)
    for index in (MentionIndex(text), MentionIndex(text, doc)):
        span = index.find(mention)
        assert span is not None and text[span.start:span.end] == expected
        if index.doc is not None:
            assert doc.char_span(span.start, span.end) is not None


def test_windows_split_chinese_on_its_own_sentence_ends():
    text = "马克龙访问了北京。习近平在人民大会堂会见了他。两人讨论了贸易。"
    doc = spacy.blank("zh")(text)
    windows = split_into_windows(doc, budget=14, count_tokens=len)
    assert [w.text for w in windows] == ["马克龙访问了北京。", "习近平在人民大会堂会见了他。",
                                         "两人讨论了贸易。"]


@pytest.mark.model
def test_german_labels_from_a_per_language_map(shipped_home):
    """An English schema on German text, with spaCy labels in German (issue 17, part 2)."""
    nlp = spacy.blank("de")
    nlp.add_pipe("knowcoder", config={
        "schema": SCHEMA, "tasks": ["ner"],
        "labels": {"de": {"Person": "Person", "Location": "Ort"}, "*": {"Person": "PER"}},
        "model": model_block_config(None, dtype="float32", max_new_tokens=48)})
    nlp.initialize()
    doc = nlp("Angela Merkel besuchte am Montag das Rathaus in München.")
    assert ("Angela Merkel", "Person") in {(e.text, e.label_) for e in doc.ents}
    assert {e.label_ for e in doc.ents} <= {"Person", "Ort"}
