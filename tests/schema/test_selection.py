"""Candidate selection: lexical hits, taxonomy expansion, priors, splitting, config."""
import pytest
from spacy.util import registry

from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.selection import (
    LexicalIndex,
    HybridPolicy,
    LexicalPolicy,
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
    select = LexicalPolicy(SelectionSettings(budget=3, max_candidates=5)).bind(library())
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
    select = LexicalPolicy(SelectionSettings(budget=2, max_candidates=5)).bind(library())
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
    select = LexicalPolicy(SelectionSettings(max_candidates=2, lexical_share=0.0)).bind(
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


# -- embedding and hybrid selection (real all-MiniLM-L6-v2) ---------------------


def semantic_library() -> SchemaLibrary:
    """Classes that share no word with the test sentences."""
    return SchemaLibrary([
        LibraryClass("entity", "Q515", "city", "A large human settlement."),
        LibraryClass("entity", "Q8054", "protein", "A biomolecule made of amino acids.",
                     count=90),
        LibraryClass("entity", "Q34379", "musical instrument",
                     "A device created to make musical sounds.", count=80),
        LibraryClass("entity", "Q1420", "motor car", "A wheeled motor vehicle.", count=70),
        LibraryClass("entity", "Q7397", "software", "Programs run by a computer.", count=60),
    ])


SEMANTIC = [("She moved to Paris last year.", "Q515"),
            ("He tuned his cello before the concert.", "Q34379"),
            ("The enzyme folds into a helix before binding its substrate.", "Q8054")]


def embedding_policy(minilm, tmp_path, name="spacy_knowcoder.embedding_selection.v1", **kw):
    settings = {"budget": 1, "max_candidates": 1, "embedding_share": 1.0, **kw}
    return registry.misc.get(name)(model=minilm.name, cache_dir=str(tmp_path), **settings)


@pytest.mark.parametrize("text,key", SEMANTIC)
def test_embedding_selection_finds_classes_the_text_never_names(minilm, tmp_path, text, key):
    lib = semantic_library()
    assert not LexicalIndex(lib, "entity").scores(text).any()  # no word in common
    select = embedding_policy(minilm, tmp_path).bind(lib)
    assert select.candidates("ner", text) == [key]
    # Lexical selection can only fall back to the priors here.
    assert lexical_selection(max_candidates=1).bind(lib).candidates("ner", text) == ["Q8054"]


def test_hybrid_keeps_lexical_hits_then_neighbours_then_priors(minilm, tmp_path):
    lib = library(20)
    policy = embedding_policy(minilm, tmp_path, "spacy_knowcoder.hybrid_selection.v1",
                              budget=2, max_candidates=5, lexical_share=0.4,
                              embedding_share=0.2)
    select = policy.bind(lib)
    keys = select.candidates("ner", "A physicist moved to Paris.")
    assert keys[:2] == ["Q169470", "Q5"]  # lexical hit and its ancestor
    assert keys[2] == "Q515"  # the nearest class to "Paris": city
    assert keys[3:] == ["Q1", "X0"]  # priors: count, then the most general (all tie here)
    schemas = select("ner", None, "A physicist moved to Paris.")
    assert [len(s.entities) for s in schemas] == [2, 2, 1]  # split over prompts


def test_embedding_neighbours_bring_their_ancestors(minilm, tmp_path):
    lib = SchemaLibrary(list(semantic_library()) + [
        LibraryClass("entity", "Q486972", "human settlement", "A community where people live."),
        LibraryClass("entity", "Q1", "zzz", "qqq")])
    lib.update("Q515", parents=("Q486972",))
    select = embedding_policy(minilm, tmp_path, max_candidates=2).bind(lib)
    assert select.candidates("ner", "She moved to Paris last year.")[:2] == ["Q515", "Q486972"]


def test_prepare_embeds_many_texts_in_one_call(minilm, tmp_path):
    select = embedding_policy(minilm, tmp_path).bind(semantic_library())
    select.embedding_index("entity")  # class matrix first
    minilm.clear_queries()
    before = minilm.encoded
    select.prepare("ner", [t for t, _ in SEMANTIC])
    assert minilm.encoded == before + len(SEMANTIC)
    assert [select.candidates("ner", t) for t, _ in SEMANTIC] == [[k] for _, k in SEMANTIC]
    assert minilm.encoded == before + len(SEMANTIC)  # no text encoded twice


def test_class_embeddings_are_cached_across_selectors(minilm, tmp_path):
    lib = semantic_library()
    embedding_policy(minilm, tmp_path).bind(lib).embedding_index("entity")
    assert len(list(tmp_path.glob("*.npy"))) == 1
    before = minilm.encoded
    index = embedding_policy(minilm, tmp_path).bind(lib).embedding_index("entity")
    assert minilm.encoded == before and index.matrix.shape == (5, 384)


def test_hybrid_policy_resolves_from_config(minilm, tmp_path):
    from thinc.api import Config

    cfg = Config().from_str(f"""
    [selection]
    @misc = "spacy_knowcoder.hybrid_selection.v1"
    budget = 4
    max_candidates = 8
    lexical_share = 0.25
    embedding_share = 0.5
    model = "{minilm.name}"
    cache_dir = "{tmp_path}"
    """)
    policy = registry.resolve(cfg)["selection"]
    assert isinstance(policy, HybridPolicy) and policy.settings.embedding_share == 0.5
    assert policy.embedding.model == minilm.name
    assert policy.bind(semantic_library()).candidates("ner", SEMANTIC[0][0])[0] == "Q515"


def test_missing_embedding_model_is_a_coded_error(tmp_path):
    select = registry.misc.get("spacy_knowcoder.hybrid_selection.v1")(
        model=str(tmp_path / "missing-model"), cache_dir=str(tmp_path)).bind(library())
    with pytest.raises(FileNotFoundError, match="E208"):
        select.candidates("ner", "A physicist.")


def test_shares_must_not_exceed_one():
    with pytest.raises(ValueError, match="E206.*lexical_share \\+ embedding_share"):
        SelectionSettings(lexical_share=0.6, embedding_share=0.6)


def test_a_long_text_is_scored_by_its_best_piece(minilm, tmp_path):
    text = ("After many years abroad she finally moved back to Paris, where she rented a "
            "small flat near the river with her two sisters and their dog. Every evening "
            "her neighbour tuned his cello and practised the same sonata for the concert "
            "that the orchestra had planned for the end of the summer season.")
    assert len(text.split()) > 40
    select = embedding_policy(minilm, tmp_path, budget=2, max_candidates=2).bind(
        semantic_library())
    assert sorted(select.candidates("ner", text)) == ["Q34379", "Q515"]
    select.prepare("ner", [text, SEMANTIC[0][0]])  # the batched path agrees
    assert sorted(select.candidates("ner", text)) == ["Q34379", "Q515"]
