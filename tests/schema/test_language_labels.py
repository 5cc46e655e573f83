"""One ontology, many languages: class names stay identifiers, labels follow the pipeline."""
import pytest
import spacy

from spacy_knowcoder.prompting import render_query
from spacy_knowcoder.schema import schema_from_source
from spacy_knowcoder.schema.build import schema_from_dict
from spacy_knowcoder.schema.language_labels import is_per_language, labels_for_language

SCHEMA = {"entities": {"person": "A human being.", "location": "A named place."}}
PER_LANGUAGE = {"de": {"Person": "Person", "Location": "Ort"},
                "zh": {"Person": "人物", "Location": "地点"}}


def test_flat_and_per_language_settings():
    assert labels_for_language({}, "de") == {}
    assert not is_per_language({"Person": "PER"}) and is_per_language(PER_LANGUAGE)
    assert labels_for_language(PER_LANGUAGE, "zh") == {"Person": "人物", "Location": "地点"}
    with_fallback = dict(PER_LANGUAGE, **{"*": {"Person": "PER"}})
    assert labels_for_language(with_fallback, "fr") == {"Person": "PER"}


def test_a_language_without_labels_names_the_languages_it_has():
    with pytest.raises(ValueError, match=r"E025.*de, zh.*'fr'"):
        labels_for_language(PER_LANGUAGE, "fr")
    with pytest.raises(ValueError, match=r"E026.*'Location' to 3"):
        labels_for_language({"Person": "PER", "Location": 3}, "de")
    with pytest.raises(ValueError, match=r"E026.*'Person'"):
        labels_for_language({"de": {"Person": ["PER"]}}, "de")


@pytest.mark.parametrize("lang,expected", [("de", ["Person", "Ort"]), ("zh", ["人物", "地点"])])
def test_the_pipeline_language_picks_the_labels_and_they_survive_saving(lang, expected,
                                                                        tmp_path):
    nlp = spacy.blank(lang)
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "labels": PER_LANGUAGE, "model": None})
    assert nlp.get_pipe("knowcoder").labels == expected
    nlp.to_disk(tmp_path / lang)
    again = spacy.load(tmp_path / lang)
    assert again.get_pipe("knowcoder").labels == expected
    assert again.config["components"]["knowcoder"]["labels"] == PER_LANGUAGE


def test_a_pipeline_of_another_language_is_refused_with_the_fix():
    nlp = spacy.blank("fr")
    with pytest.raises(ValueError, match="E025"):
        nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "labels": PER_LANGUAGE,
                                          "model": None})


def test_descriptions_in_any_language_render_and_parse_back():
    schema = schema_from_dict({"entities": {"person": "人类，有名字的个人。",
                                            "location": "Un lieu nommé : ville, pays."}})
    prompt = render_query("ner", schema, "马克龙访问了北京。")
    assert "人类，有名字的个人。" in prompt and "Un lieu nommé : ville, pays." in prompt
    assert 'sentence = "马克龙访问了北京。"' in prompt
    source = prompt[:prompt.index('"""\nThis is')]
    parsed = schema_from_source(source)
    assert [t.description for t in parsed.entities] == ["人类，有名字的个人。",
                                                        "Un lieu nommé : ville, pays."]
