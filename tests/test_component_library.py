"""The knowcoder component with a schema library and a selection policy.

A scripted generator stands in for the model: it answers from the classes the
prompt defines, so the test sees which classes each prompt showed and that the
answers of split prompts are merged. Prompts, parsing and writing are real.
"""
import re
from typing import List, Sequence

import pytest
import spacy

from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary

TEXT = "Barack Obama was born in Honolulu, a city of Hawaii."


def make_library() -> SchemaLibrary:
    classes = [
        LibraryClass("entity", "Q5", "person", "A human being.", aliases=("human",)),
        LibraryClass("entity", "Q82955", "politician", "A person in politics.",
                     parents=("Q5",)),
        LibraryClass("entity", "Q515", "city", "A large town.", parents=("Q2221906",)),
        LibraryClass("entity", "Q2221906", "location", "A place."),
    ]
    classes += [LibraryClass("entity", f"X{i}", f"distractor {i}", f"Unrelated thing {i}.")
                for i in range(40)]
    classes.append(LibraryClass("relation", "P19", "place of birth", "Where someone was born.",
                                head=("Q5",), tail=("Q515",)))
    return SchemaLibrary(classes)


class ClassAnswerer:
    """Answers an NER prompt with the gold mentions of the classes it defines."""

    gold = {"Person": "Barack Obama", "City": "Honolulu"}

    def __init__(self) -> None:
        self.max_context = 4096
        self.prompts: List[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompts: Sequence[str]) -> List[str]:
        self.prompts.extend(prompts)
        out = []
        for prompt in prompts:
            shown = defined_classes(prompt)
            items = [f'\t{c}("{m}")' for c, m in self.gold.items() if c in shown]
            out.append("results = [\n" + ",\n".join(items) + "\n]" if items else "results = []")
        return out


def defined_classes(prompt: str) -> List[str]:
    return [c for c in re.findall(r"^class (\w+)\(", prompt, flags=re.M) if c != "Entity"]


def add_pipe(nlp, path, **config):
    config = {"library": str(path), "tasks": ["ner"],
              "selection": {"@misc": "spacy_knowcoder.lexical_selection.v1", "budget": 2,
                            "max_candidates": 4, "lexical_share": 0.5}, **config}
    pipe = nlp.add_pipe("knowcoder", config=config)
    pipe.generator = ClassAnswerer()
    return pipe


@pytest.fixture
def library_path(tmp_path):
    path = tmp_path / "lib.json"
    make_library().to_disk(path)
    return path


def test_prompts_show_only_selected_classes_and_split_results_merge(library_path):
    nlp = spacy.blank("en")
    pipe = add_pipe(nlp, library_path)
    doc = nlp(TEXT)
    prompts = pipe.generator.prompts
    assert len(prompts) == 2  # 4 candidates, 2 per prompt
    shown = [defined_classes(p) for p in prompts]
    assert all(len(classes) == 2 for classes in shown)
    flat = [c for classes in shown for c in classes]
    assert not any(c.startswith("Distractor") for c in flat)
    assert {"City", "Person"} <= set(flat)
    # City (lexical hit) and Person (prior: most general) sit in different prompts.
    assert not any({"City", "Person"} <= set(classes) for classes in shown)
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "city")]


def test_pipeline_with_library_round_trips_without_the_original_file(library_path, tmp_path):
    nlp = spacy.blank("en")
    add_pipe(nlp, library_path, labels={"City": "GPE"})
    nlp.to_disk(tmp_path / "pipeline")
    library_path.unlink()
    loaded = spacy.load(tmp_path / "pipeline")
    pipe = loaded.get_pipe("knowcoder")
    pipe.generator = ClassAnswerer()
    doc = loaded(TEXT)
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "GPE")]
    assert len(pipe.generator.prompts) == 2


def test_library_and_schema_together_is_an_error(library_path):
    with pytest.raises(ValueError, match="E207"):
        add_pipe(spacy.blank("en"), library_path, schema={"entities": {"person": ""}})


def test_unknown_class_in_label_mapping_is_an_error(library_path):
    with pytest.raises(ValueError, match="E200.*Nope"):
        add_pipe(spacy.blank("en"), library_path, labels={"Nope": "X"})


def test_split_selection_over_a_plain_schema():
    nlp = spacy.blank("en")
    schema = {"entities": {"person": "A human.", "city": "A town.", "river": "Water."}}
    pipe = nlp.add_pipe("knowcoder", config={
        "schema": schema, "selection": {"@misc": "spacy_knowcoder.split_selection.v1",
                                        "budget": 2}})
    pipe.generator = ClassAnswerer()
    doc = nlp(TEXT)
    assert [defined_classes(p) for p in pipe.generator.prompts] == [["Person", "City"],
                                                                   ["River"]]
    assert len(doc.ents) == 2


def test_hybrid_selection_in_the_component_uses_the_real_encoder(library_path, minilm,
                                                                  tmp_path):
    nlp = spacy.blank("en")
    pipe = add_pipe(nlp, library_path, selection={
        "@misc": "spacy_knowcoder.hybrid_selection.v1", "budget": 2, "max_candidates": 4,
        "lexical_share": 0.0, "embedding_share": 1.0, "model": minilm.name,
        "cache_dir": str(tmp_path)})
    doc = nlp("Barack Obama was born in Honolulu.")  # names no class
    flat = [c for p in pipe.generator.prompts for c in defined_classes(p)]
    assert len(pipe.generator.prompts) == 2 and len(flat) == 4
    assert {"City", "Person"} <= set(flat)
    assert not any(c.startswith("Distractor") for c in flat)
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "city")]


def test_learned_selection_in_the_component(library_path, tmp_path):
    from spacy_knowcoder.schema.ranker import ClassRanker
    from spacy_knowcoder.schema.selection import save_rankers

    ranker = ClassRanker.train("entity", [
        ("Angela Merkel was born in Hamburg.", ["Q5", "Q515"]),
        ("The senator was born in Chicago.", ["Q5", "Q515"]),
        ("Marie Curie won a prize.", ["Q5"])])
    save_rankers([ranker], tmp_path / "rankers")
    nlp = spacy.blank("en")
    pipe = add_pipe(nlp, library_path, selection={
        "@misc": "spacy_knowcoder.learned_selection.v1", "rankers": str(tmp_path / "rankers"),
        "budget": 2, "max_candidates": 4, "learned_share": 0.75, "lexical_share": 0.0})
    doc = nlp("Barack Obama was born in Honolulu.")  # names no class
    flat = [c for p in pipe.generator.prompts for c in defined_classes(p)]
    # the ranker's two classes (and City's ancestor) first, then one prior
    assert set(flat[:3]) == {"Person", "City", "Location"} and len(flat) == 4
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "city")]


def _drop_config_labels(pipeline) -> None:
    """Delete the component's label lines from a saved config.cfg, as a user might."""
    config = pipeline / "config.cfg"
    text = config.read_text(encoding="utf8")
    section = "[components.knowcoder.labels]\n"
    assert section in text
    before, _, after = text.partition(section)
    rest = after.split("\n[", 1)
    config.write_text(before + section + ("\n[" + rest[1] if len(rest) > 1 else ""),
                      encoding="utf8")


@pytest.mark.parametrize("source", ["library", "schema"])
def test_labels_removed_from_the_config_do_not_come_back(library_path, tmp_path, source):
    """Issue 25, bug 2: labels are settings (config.cfg); the saved data does not keep them."""
    nlp = spacy.blank("en")
    if source == "library":
        add_pipe(nlp, library_path, labels={"Person": "PER"})
    else:
        nlp.add_pipe("knowcoder", config={"model": None, "tasks": ["ner"], "labels": {
            "Person": "PER"}, "schema": {"entities": {"person": "A human being.",
                                                      "city": "A large town."}}})
    pipeline = tmp_path / "pipeline"
    nlp.to_disk(pipeline)
    assert _labels(nlp.get_pipe("knowcoder")) == ("PER", "city")
    _drop_config_labels(pipeline)
    pipe = spacy.load(pipeline).get_pipe("knowcoder")
    assert pipe.cfg["labels"] == {}
    assert _labels(pipe) == ("person", "city")
    if source == "library":
        assert pipe.library.labels["Person"] == "person"
    # An override at load time wins on both paths.
    override = spacy.load(pipeline, config={"components": {"knowcoder": {
        "labels": {"City": "GPE"}}}}).get_pipe("knowcoder")
    assert _labels(override) == ("person", "GPE")


def _labels(pipe) -> tuple:
    return tuple(pipe.schema.entity_by_class(name).label for name in ("Person", "City"))
