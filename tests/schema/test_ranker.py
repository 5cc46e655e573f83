"""The learned class ranker and learned_selection: training, scoring, files, config, CLI."""
import json
from pathlib import Path

import pytest
import srsly
from spacy.util import registry
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.corpora.catalog import read_dataset
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.ranker import ClassRanker, text_features
from spacy_knowcoder.schema.selection import (
    LearnedSelector,
    SelectionSettings,
    learned_selection,
    load_rankers,
    save_rankers,
)

SPORT = [("the striker scored twice for the club", ["athlete", "team"]),
         ("the goalkeeper saved a penalty", ["athlete"]),
         ("the club signed a young striker", ["team", "athlete"])]
MUSIC = [("the band released a new album", ["group"]),
         ("the singer toured with her band", ["musician", "group"])]


def test_features_are_content_words_and_word_pairs():
    assert text_features("The striker scored") == [
        "striker", "scored", "the striker", "striker scored"]
    assert text_features("") == []


def test_ranker_puts_the_classes_of_similar_texts_first():
    ranker = ClassRanker.train("entity", SPORT + MUSIC)
    assert sorted(ranker.keys) == ["athlete", "group", "musician", "team"]
    assert set(ranker.top("a striker joined the club", 2)) == {"athlete", "team"}
    assert ranker.top("the goalkeeper saved it", 1) == ["athlete"]
    assert ranker.top("their band played a new album", 1) == ["group"]
    # words never seen: the most frequent class first (the prior)
    assert ranker.top("zzz qqq", 1) == ["athlete"]
    assert ranker.top("anything", 0) == []


def test_empty_ranker_selects_nothing():
    ranker = ClassRanker.train("relation", [])
    assert len(ranker) == 0 and ranker.top("text", 3) == []


def test_ranker_round_trips_through_disk(tmp_path: Path):
    ranker = ClassRanker.train("entity", SPORT + MUSIC)
    ranker.to_disk(tmp_path / "entity.msgpack")
    loaded = ClassRanker.from_disk(tmp_path / "entity.msgpack")
    assert loaded.keys == ranker.keys
    assert loaded.scores("the striker").tolist() == ranker.scores("the striker").tolist()


@pytest.mark.parametrize("content, reason", [
    (b"not msgpack at all \xff\xfe", "E210"),
    (srsly.msgpack_dumps({"format": "something else"}), "format"),
    (srsly.msgpack_dumps([1, 2]), "not a mapping"),
])
def test_damaged_ranker_file_gets_e210(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "entity.msgpack"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="E210") as err:
        ClassRanker.from_disk(path)
    assert reason in str(err.value)


def test_ranker_with_out_of_range_class_positions_is_rejected(tmp_path: Path):
    data = ClassRanker.train("entity", SPORT).to_dict()
    data["classes"][0] = [99]  # type: ignore[index]
    with pytest.raises(ValueError, match="out of range"):
        ClassRanker.from_dict(data)


def sport_library(n_distractors: int = 300) -> SchemaLibrary:
    classes = [LibraryClass("entity", "athlete", "athlete", "A sportsperson."),
               LibraryClass("entity", "team", "sports team", "A team.", parents=("org",)),
               LibraryClass("entity", "org", "organization", "A group of people."),
               LibraryClass("entity", "group", "musical group", "A band."),
               LibraryClass("entity", "musician", "musician", "Plays music.")]
    classes += [LibraryClass("entity", f"X{i}", f"filler {i}", f"Filler thing {i}.",
                             count=1000 + i) for i in range(n_distractors)]
    return SchemaLibrary(classes)


def test_learned_selector_puts_ranked_classes_and_ancestors_before_priors():
    lib = sport_library()
    ranker = ClassRanker.train("entity", SPORT + MUSIC)
    settings = SelectionSettings(budget=3, max_candidates=6, learned_share=0.5,
                                 lexical_share=0.0)
    keys = LearnedSelector(lib, settings, {"entity": ranker}).candidates(
        "ner", "The goalkeeper left the club.")
    assert keys[:3] == ["athlete", "team", "org"]  # ranked, with the ancestor of "team"
    assert keys[3:] == ["X299", "X298", "X297"]  # priors fill the rest
    # the plain lexical selector finds none of them: no class is named in the text
    lexical = SelectionSettings(budget=3, max_candidates=6)
    from spacy_knowcoder.schema.selection import LexicalPolicy
    assert not {"athlete", "team"} & set(
        LexicalPolicy(lexical).bind(lib).candidates("ner", "The striker left the club."))


def test_ranker_for_another_library_gets_e211():
    ranker = ClassRanker.train("entity", [("a striker", ["athlete"]), ("x", ["Q999"])])
    with pytest.raises(KeyError, match="E211"):
        LearnedSelector(sport_library(5), SelectionSettings(learned_share=0.5),
                        {"entity": ranker})


def test_shares_may_not_exceed_one():
    with pytest.raises(ValueError, match="E206"):
        SelectionSettings(learned_share=0.6, lexical_share=0.5)


def test_learned_selection_from_the_registry(tmp_path: Path):
    save_rankers([ClassRanker.train("entity", SPORT + MUSIC)], tmp_path / "rankers")
    assert sorted(p.name for p in (tmp_path / "rankers").iterdir()) == ["entity.msgpack"]
    make = registry.misc.get("spacy_knowcoder.learned_selection.v1")
    policy = make(rankers=str(tmp_path / "rankers"), budget=2, max_candidates=4)
    assert policy == learned_selection(str(tmp_path / "rankers"), 2, 4)
    schemas = policy.bind(sport_library())("ner", None, "a striker")
    assert [len(s.entities) for s in schemas] == [2, 2]
    assert schemas[0].entities[0].class_name == "Athlete"


def test_missing_ranker_folder_gets_e210(tmp_path: Path):
    with pytest.raises(ValueError, match="E210"):
        load_rankers(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no entity.msgpack"):
        load_rankers(tmp_path / "empty")


def test_train_ranker_cli_on_real_records(tmp_path: Path, data_root: Path):
    records = list(read_dataset("wnut17", "train", data_root, limit=300))
    data = tmp_path / "wnut.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    labels = sorted({m["label"] for r in records for m in r["entities"]})
    lib = SchemaLibrary([LibraryClass("entity", f"L{i}", label, f"A {label}.")
                         for i, label in enumerate(labels)]
                        + [LibraryClass("entity", f"X{i}", f"filler {i}") for i in range(50)])
    lib.to_disk(tmp_path / "lib.json")
    runner = CliRunner()
    result = runner.invoke(app, ["schema", "train-ranker", str(tmp_path / "lib.json"),
                                 str(tmp_path / "rankers"), str(data)])
    assert result.exit_code == 0, result.output
    ranker = load_rankers(tmp_path / "rankers")["entity"]
    assert sorted(lib.label(k) for k in ranker.keys) == labels
    # a label the library lacks: a clear failure, or skipped on request
    small = SchemaLibrary([LibraryClass("entity", "L0", labels[0])])
    small.to_disk(tmp_path / "small.json")
    failed = runner.invoke(app, ["schema", "train-ranker", str(tmp_path / "small.json"),
                                 str(tmp_path / "r2"), str(data)])
    assert failed.exit_code == 1 and "not classes of" in failed.output
    assert repr(labels[1]) in failed.output and "--skip-unknown" in failed.output
    skipped = runner.invoke(app, ["schema", "train-ranker", str(tmp_path / "small.json"),
                                  str(tmp_path / "r2"), str(data), "--skip-unknown"])
    assert skipped.exit_code == 0, skipped.output
    assert load_rankers(tmp_path / "r2")["entity"].keys == ["L0"]
