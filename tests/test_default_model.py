"""Out of the box: the trained default that ships in the package extracts from real sentences.

No ``model`` setting: the component loads ``spacy_knowcoder/models/knowcoder-x-smol``
(the multilingual profile's LoRA adapter) on the embedded Gemma 3 270M, with the
``close_penalty`` it recommends. The user cache holds this session's prepared
bases (linked), as after a first load.
"""
import pytest
import spacy
from spacy.tokens import DocBin

from spacy_knowcoder.generation.embedded import GEMMA3
from spacy_knowcoder.generation.blocks import model_block_config
from spacy_knowcoder.models import DEFAULT_MODEL, default_model_available, get_shipped_model

pytestmark = pytest.mark.model
#: The shipped default in float32, so every CPU computes the same.
FLOAT32 = model_block_config(None, dtype="float32")
PEOPLE = {"Barack Obama was born in Honolulu.": "Barack Obama",
          "Marie Curie moved from Warsaw to Paris.": "Marie Curie",
          "Angela Merkel visited Berlin on Monday.": "Angela Merkel"}


@pytest.fixture(scope="module")
def default_nlp(shipped_home):
    if not default_model_available():
        pytest.fail(f"the package ships no trained {DEFAULT_MODEL} adapter")
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": {"entities": {
        "person": "A human being.", "city": "A large town."}}})
    nlp.get_pipe("knowcoder").initialize()
    return nlp


def test_the_shipped_default_is_a_small_trained_adapter():
    model = get_shipped_model(DEFAULT_MODEL)
    assert model.has_adapter and model.base == GEMMA3.base_id
    size = (model.path / "adapter_model.safetensors").stat().st_size
    assert size < 40_000_000
    assert model.training["sft"]["total_steps"] >= 100
    assert (model.path / "README.md").read_text(encoding="utf8").count("held-out") >= 1


def test_the_default_finds_people_in_real_sentences(default_nlp):
    docs = list(default_nlp.pipe(list(PEOPLE)))
    for doc, person in zip(docs, PEOPLE.values()):
        assert (person, "person") in {(e.text, e.label_) for e in doc.ents}, doc.ents
        for span in doc.spans["knowcoder"]:
            assert doc.text[span.start_char:span.end_char] == span.text
    again = list(DocBin(store_user_data=True, docs=docs).get_docs(default_nlp.vocab))
    assert [[(e.text, e.label_) for e in d.ents] for d in again] == \
        [[(e.text, e.label_) for e in d.ents] for d in docs]


def test_the_default_finds_the_city(shipped_home):
    """Typing by scoring (the default, docs/inference.md §8) can only re-type what
    generation found; the city must be found first (knowcoder-smol, the default
    before, closed its list after "Barack Obama"). float32, so every CPU computes
    the same."""
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": FLOAT32, "schema": {"entities": {
        "person": "A human being.", "city": "A large town."}}})
    doc = nlp("Barack Obama was born in Honolulu.")
    assert all(0 < s <= 1 for s in doc.spans["knowcoder"].attrs["scores"])
    assert ("Honolulu", "city") in {(e.text, e.label_) for e in doc.ents}


@pytest.mark.xfail(strict=True, reason=(
    "issue 24: with four classes (person, city, organization, country) the default "
    "writes Person(\"Angela Merkel\") and closes the list, even with its recommended "
    "close_penalty 1.5; knowcoder-smol, the default before, found Berlin here"))
def test_the_default_finds_the_city_among_four_classes(shipped_home):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": FLOAT32, "schema": {"entities": {
        "person": "A human being.", "city": "A large town.",
        "organization": "A company, institution or group.",
        "country": "A nation with its own government."}}})
    doc = nlp("Angela Merkel visited Berlin on Monday.")
    assert ("Berlin", "city") in {(e.text, e.label_) for e in doc.ents}


#: Five sentences from other domains, each with the typed mention the default must
#: find; written before the stop-24 adapter was run on them (issue 24's acceptance).
DOMAINS = {
    "science": ("The Hubble Space Telescope observed the Andromeda Galaxy.",
                {"telescope": "An instrument for observing distant objects in space.",
                 "galaxy": "A large system of stars, gas and dust held together by gravity.",
                 "person": "A human being."}, ("Andromeda Galaxy", "galaxy")),
    "sport": ("Lionel Messi scored twice for Inter Miami against the New York Red Bulls.",
              {"athlete": "A person who competes in a sport.",
               "sports team": "A team that plays a sport, such as a football club.",
               "city": "A large town."}, ("Lionel Messi", "athlete")),
    "business": ("Microsoft acquired Activision Blizzard for $69 billion.",
                 {"company": "A business organization that sells goods or services.",
                  "person": "A human being.",
                  "money": "An amount of money with its currency."}, ("Microsoft", "company")),
    "medicine": ("Patients with type 2 diabetes were treated with metformin.",
                 {"disease": "A disorder of the body or mind, such as an illness.",
                  "drug": "A medicine or other substance used to treat a disease.",
                  "person": "A human being."}, ("metformin", "drug")),
    "film": ("Christopher Nolan directed Oppenheimer, starring Cillian Murphy.",
             {"person": "A human being.", "film": "A motion picture.",
              "organization": "A company, institution or other group of people."},
             ("Oppenheimer", "film")),
}
#: Missed by knowcoder-x-smol (measured in float32): it writes both teams as
#: SportsTeam and leaves Messi out; scoring then types the Red Bulls as a city.
#: (knowcoder-smol, the default before, also missed medicine and film.) strict: a fix
#: makes this xpass and fail, so the mark is removed.
MISSED = {"sport"}


@pytest.mark.parametrize("domain", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="missed by the default "
                                                "(issue 24)")) if name in MISSED
    else name for name in DOMAINS])
def test_the_default_types_a_mention_in_other_domains(shipped_home, domain):
    text, classes, expected = DOMAINS[domain]
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": FLOAT32, "schema": {"entities": classes}})
    doc = nlp(text)
    assert expected in {(e.text, e.label_) for e in doc.ents}


def test_200_classes_do_not_fit_one_prompt_and_split_selection_runs_them(shipped_home):
    """A schema whose classes overflow the context gets E105 naming the fix; with
    split_selection the same schema runs, over prompts that fit. On knowcoder-smol,
    whose 8,192-token context 200 classes overflow (the default's Gemma base takes
    32,768)."""
    classes = {f"kind {i}": f"Things of made-up kind number {i}, for a long schema."
               for i in range(199)}
    classes["person"] = "A human being."
    config = {"schema": {"entities": classes}, "tasks": ["ner"],
              "model": model_block_config("knowcoder-smol", max_new_tokens=12),
              "typing": "generate", "store_completions": True}
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config=config)
    with pytest.raises(ValueError, match=r"E105.*split_selection"):
        nlp("Barack Obama was born in Honolulu.")
    split = spacy.blank("en")
    split.add_pipe("knowcoder", config={**config, "selection": {
        "@misc": "spacy_knowcoder.split_selection.v1", "budget": 40}})
    doc = split("Barack Obama was born in Honolulu.")
    assert len(doc._.knowcoder_diagnostics["completions"]["ner"]) == 5  # 200 / 40
    assert all(e.label_ in classes for e in doc.ents)


def test_classes_without_descriptions_render_empty_and_still_run(shipped_home):
    """A class without a docstring keeps KnowCoder's layout with an empty
    Description line (the released weights saw that form); the name alone types."""
    from spacy_knowcoder.prompting import render_query
    from spacy_knowcoder.schema import schema_from_dict

    schema = {"entities": {"person": "", "city": ""}}
    query = render_query("ner", schema_from_dict(schema), "x")
    assert 'class Person(Entity):\n\t"""\n\tDescription: \n' in query
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": schema, "model": FLOAT32})
    doc = nlp("Barack Obama was born in Honolulu.")
    assert {e.label_ for e in doc.ents} <= {"person", "city"} and len(doc.ents) >= 1
