"""Candidate selection: lexical hits, taxonomy expansion, priors, splitting, config."""
import pytest
from spacy.util import registry

from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.selection import (
    LexicalIndex,
    SelectionPolicy,
    SelectionSettings,
    lexical_selection,
    normalize_token,
    tokenize,
)


def library(n_distractors: int = 200) -> SchemaLibrary:
    classes = [
        LibraryClass("entity", "Q5", "human", "A member of Homo sapiens.", aliases=("person",)),
        LibraryClass("entity", "Q169470", "physicist", "Scientist who studies physics.",
                     parents=("Q5",)),
        LibraryClass("entity", "Q515", "city", "A large human settlement.", count=50),
        LibraryClass("entity", "Q1", "football club", "A sports club.", count=5),
        LibraryClass("relation", "P19", "place of birth", "Where someone was born.",
                     aliases=("birthplace",)),
        LibraryClass("relation", "P26", "spouse", "Married partner.", count=7),
        LibraryClass("event", "e:Marry", "marriage", "A wedding.", examples=("married",),
                     roles=("spouse",)),
        LibraryClass("event", "e:Die", "death", "Someone dies.", examples=("died",),
                     roles=("victim",)),
    ]
    classes += [LibraryClass("entity", f"X{i}", f"distractor {i}", f"Filler thing {i}.")
                for i in range(n_distractors)]
    return SchemaLibrary(classes)


def test_tokens_are_normalized():
    assert [normalize_token(t) for t in ("Cities", "cars", "boss", "virus", "boxes")] == [
        "city", "car", "boss", "virus", "box"]
    assert tokenize("The physicists' cities") == ["the", "physicist", "city"]


def test_lexical_hits_bring_their_ancestors_and_priors_fill_the_rest():
    select = SelectionPolicy(SelectionSettings(budget=3, max_candidates=5)).bind(library())
    keys = select.candidates("ner", "A physicist from Ulm.")
    assert keys[:2] == ["Q169470", "Q5"]  # hit, then its ancestor
    assert keys[2:4] == ["Q515", "Q1"]  # priors by count
    assert len(keys) == 5


def test_phrases_and_aliases_match():
    index = LexicalIndex(library(), "entity")
    scores = index.scores("He joined a football club.")
    assert index.keys[int(scores.argmax())] == "Q1"
    rel = LexicalIndex(library(), "relation")
    assert rel.keys[int(rel.scores("her birthplace").argmax())] == "P19"


def test_candidates_are_split_into_prompts_of_budget_classes():
    select = SelectionPolicy(SelectionSettings(budget=2, max_candidates=5)).bind(library())
    schemas = select("ner", None, "A physicist.")
    assert [len(s.entities) for s in schemas] == [2, 2, 1]
    names = [t.class_name for s in schemas for t in s.entities]
    assert len(set(names)) == 5


def test_tasks_select_their_kind():
    select = lexical_selection(budget=4, max_candidates=4).bind(library())
    (re_schema,) = select("re", None, "Her birthplace was Ulm.")
    assert re_schema.relations[0].class_name == "PlaceOfBirth" and not re_schema.entities
    (ed_schema,) = select("ed", None, "They married.")
    assert ed_schema.events[0].class_name == "Marriage"


def test_lexical_share_zero_gives_priors_only():
    select = SelectionPolicy(SelectionSettings(max_candidates=2, lexical_share=0.0)).bind(
        library())
    assert select.candidates("ner", "A physicist.") == ["Q515", "Q1"]


def test_split_selection_keeps_every_class():
    policy = registry.misc.get("spacy_knowcoder.split_selection.v1")(budget=100)
    lib = library(10)
    schemas = policy(lib)("ner", None, "anything")
    assert [t.class_name for s in schemas for t in s.entities] == [
        lib.class_name(k) for k in lib.keys("entity")]


def test_policies_resolve_from_config():
    from thinc.api import Config

    cfg = Config().from_str("""
    [selection]
    @misc = "spacy_knowcoder.lexical_selection.v1"
    budget = 4
    max_candidates = 8
    """)
    policy = registry.resolve(cfg)["selection"]
    assert policy.settings.budget == 4 and policy.settings.max_candidates == 8


@pytest.mark.parametrize("name,value", [("budget", 0), ("max_candidates", -1),
                                        ("lexical_share", 1.5), ("max_df", 0.0)])
def test_bad_settings_get_coded_errors(name, value):
    with pytest.raises(ValueError, match=f"E206.*'{name}'"):
        SelectionSettings(**{name: value})


def test_largest_prompt_schema_bounds_prompt_size():
    select = lexical_selection(budget=2).bind(library())
    schema = select.largest_prompt_schema("ner")
    assert len(schema.entities) == 2
    assert schema.entities[0].class_name == "Physicist"  # the longest description
