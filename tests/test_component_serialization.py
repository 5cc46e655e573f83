"""What the knowcoder component saves: data only (schema, library, rankers).

Settings live in the pipeline's config.cfg, so ``spacy.load`` overrides apply;
``to_bytes`` and ``to_disk`` write the same named parts; learned rankers travel
with the pipeline; pipelines saved by older versions (``tests/fixtures/
old-pipelines``, written before this layout, one ``cfg`` state file) still load.
"""
import shutil
import warnings
from pathlib import Path

import pytest
import spacy
import srsly
from tests.helpers import ScriptedGenerator
from tests.test_component import OBAMA, SCHEMA
from tests.test_component_library import ClassAnswerer, add_pipe, defined_classes, make_library

from spacy_knowcoder.component import DATA_PARTS, LEGACY_STATE
from spacy_knowcoder.generation.blocks import model_block_config

OLD = Path(__file__).parent / "fixtures" / "old-pipelines"
TEXT = "Barack Obama was born in Honolulu."


@pytest.fixture
def library_path(tmp_path):
    path = tmp_path / "lib.json"
    make_library().to_disk(path)
    return path


def saved_parts(pipe, path):
    """The part names of ``pipe.to_disk(path)`` and of ``pipe.to_bytes()``."""
    pipe.to_disk(path)
    on_disk = sorted(p.name for p in path.iterdir())
    in_bytes = sorted(srsly.msgpack_loads(pipe.to_bytes()))
    return on_disk, in_bytes


def test_a_setting_override_wins_over_the_saved_pipeline(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "spans_key": "a",
                                      "model": model_block_config(None, max_new_tokens=77)})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe", config={"components": {"knowcoder": {
        "spans_key": "b", "model": {"max_new_tokens": 12}, "labels": {"Person": "PER"}}}})
    pipe = loaded.get_pipe("knowcoder")
    assert pipe.cfg["spans_key"] == "b" and pipe.generation.max_new_tokens == 12
    assert pipe.labels[0] == "PER"
    pipe.generator = ScriptedGenerator(OBAMA)
    doc = loaded(TEXT)
    assert "b" in doc.spans and "a" not in doc.spans
    assert not (tmp_path / "pipe" / "knowcoder" / LEGACY_STATE).exists()


@pytest.mark.model
def test_a_model_override_wins_over_the_saved_pipeline(tmp_path, smollm2_dir):
    other = tmp_path / "model-b"  # a second prepared model directory
    other.mkdir()
    for file in Path(smollm2_dir).iterdir():
        if file.is_file():
            (other / file.name).symlink_to(file.resolve())
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": str(smollm2_dir), "schema": SCHEMA})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe", config={"components": {"knowcoder": {
        "model": str(other)}}})
    pipe = loaded.get_pipe("knowcoder")
    assert loaded.config["components"]["knowcoder"]["model"] == str(other)
    assert pipe.cfg["model"] == str(other)
    assert pipe.generator.name == str(other)


def test_bytes_and_disk_hold_the_same_parts(library_path, tmp_path):
    plain = spacy.blank("en").add_pipe("knowcoder", config={"schema": SCHEMA})
    assert saved_parts(plain, tmp_path / "plain") == (["schema"], ["schema"])
    with_library = add_pipe(spacy.blank("en"), library_path)
    assert saved_parts(with_library, tmp_path / "lib") == (["library"], ["library"])
    assert set(DATA_PARTS) >= {"schema", "library", "rankers"}


def test_a_library_pipeline_round_trips_through_bytes(library_path):
    nlp = spacy.blank("en")
    original = add_pipe(nlp, library_path, labels={"City": "GPE"})
    data = nlp.to_bytes()
    library_path.unlink()  # another machine: only the bytes travel
    copy = spacy.blank("en")
    # The same config (labels are settings); its library file is gone.
    pipe = add_pipe(copy, library_path, labels={"City": "GPE"})
    assert pipe.schema is None and pipe.library is None
    copy.from_bytes(data)
    assert pipe.library is not None and pipe.library.to_dict() == original.library.to_dict()
    pipe.generator = ClassAnswerer()
    doc = copy(TEXT + " It is a city of Hawaii.")
    assert len(pipe.generator.prompts) == 2  # selection over the library, not the whole
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "GPE")]


def learned_pipe(nlp, library_path, rankers):
    return add_pipe(nlp, library_path, selection={
        "@misc": "spacy_knowcoder.learned_selection.v1", "rankers": str(rankers),
        "budget": 2, "max_candidates": 4, "learned_share": 0.75, "lexical_share": 0.0})


@pytest.fixture
def rankers(tmp_path):
    from spacy_knowcoder.schema.ranker import ClassRanker
    from spacy_knowcoder.schema.selection import save_rankers

    ranker = ClassRanker.train("entity", [
        ("Angela Merkel was born in Hamburg.", ["Q5", "Q515"]),
        ("The senator was born in Chicago.", ["Q5", "Q515"]),
        ("Marie Curie won a prize.", ["Q5"])])
    save_rankers([ranker], tmp_path / "rankers")
    return tmp_path / "rankers"


def test_learned_rankers_travel_with_the_pipeline(library_path, rankers, tmp_path):
    nlp = spacy.blank("en")
    pipe = learned_pipe(nlp, library_path, rankers)
    nlp(TEXT)
    before = [defined_classes(p) for p in pipe.generator.prompts]
    assert set(before[0] + before[1][:1]) == {"Person", "City", "Location"}  # ranked first
    nlp.to_disk(tmp_path / "pipe")
    data = nlp.get_pipe("knowcoder").to_bytes()
    assert saved_parts(pipe, tmp_path / "parts") == (["library", "rankers"],
                                                     ["library", "rankers"])
    shutil.rmtree(rankers)  # another machine: the folders named in the config are gone
    library_path.unlink()
    loaded = spacy.load(tmp_path / "pipe")
    from_bytes = learned_pipe(spacy.blank("en"), library_path, rankers).from_bytes(data)
    for loaded_pipe in (loaded.get_pipe("knowcoder"), from_bytes):
        loaded_pipe.generator = ClassAnswerer()
        doc = loaded_pipe(loaded.make_doc(TEXT))
        assert [defined_classes(p) for p in loaded_pipe.generator.prompts] == before
        assert sorted(e.text for e in doc.ents) == ["Barack Obama", "Honolulu"]


def test_learned_selection_without_its_rankers_is_still_e210(library_path, tmp_path):
    pipe = learned_pipe(spacy.blank("en"), library_path, tmp_path / "nope")
    with pytest.raises(ValueError, match="E210"):
        pipe(spacy.blank("en")(TEXT))


def test_an_old_pipeline_loads_with_its_schema_and_its_flat_generation_keys():
    """Saved before the model became a block: its flat generation keys still
    apply, with one deprecation warning (W004) that shows the block to write."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nlp = spacy.load(OLD / "schema-pipeline")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "W004" in messages[0] and caught[0].category is FutureWarning
    assert "'max_new_tokens': 77" in messages[0]
    pipe = nlp.get_pipe("knowcoder")
    assert pipe.tasks == ["ner", "re"] and pipe.labels == ["PER", "city", "born in"]
    assert pipe.cfg["spans_key"] == "kc" and pipe.generation.max_new_tokens == 77
    pipe.generator = ScriptedGenerator(OBAMA)
    assert [(e.text, e.label_) for e in nlp(TEXT).ents] == [("Barack Obama", "PER"),
                                                             ("Honolulu", "city")]


def test_a_pipeline_saved_with_flat_generation_keys_loads_and_keeps_them(tmp_path):
    """``flat-keys-pipeline`` was saved by the code just before the model became a
    block (data parts, settings in config.cfg as flat component keys)."""
    with pytest.warns(FutureWarning, match=r"W004.*batch_size, .*dtype, max_new_tokens"):
        nlp = spacy.load(OLD / "flat-keys-pipeline")
    pipe = nlp.get_pipe("knowcoder")
    settings = pipe.generation
    assert (settings.max_new_tokens, settings.batch_size, settings.dtype) == (55, 4, "float32")
    assert pipe.model_block.name is None and pipe.cfg["spans_key"] == "flat"
    pipe.generator = ScriptedGenerator(OBAMA)
    assert [(e.text, e.label_) for e in nlp(TEXT).ents] == [("Barack Obama", "person"),
                                                             ("Honolulu", "city")]


def test_an_old_pipeline_with_an_override_warns_w003_and_uses_the_override():
    with pytest.warns(FutureWarning, match=r"W003.*spans_key"):
        nlp = spacy.load(OLD / "schema-pipeline",
                         config={"components": {"knowcoder": {"spans_key": "new"}}})
    assert nlp.get_pipe("knowcoder").cfg["spans_key"] == "new"


def test_old_state_bytes_load():
    state = (OLD / "schema-pipeline" / "knowcoder" / LEGACY_STATE).read_text()
    pipe = spacy.blank("en").add_pipe("knowcoder", config={
        "schema": {"entities": {"x": "y"}}, "spans_key": "kc", "labels": {}})
    with pytest.warns(FutureWarning, match=r"W003.*labels"):
        pipe.from_bytes(srsly.msgpack_dumps({LEGACY_STATE: state}))
    assert pipe.labels == ["PER", "city", "born in"] and pipe.tasks == ["ner", "re"]


def test_an_old_library_pipeline_loads(tmp_path):
    nlp = spacy.load(OLD / "library-pipeline")
    pipe = nlp.get_pipe("knowcoder")
    pipe.generator = ClassAnswerer()
    doc = nlp(TEXT + " It is a city of Hawaii.")
    assert sorted((e.text, e.label_) for e in doc.ents) == [("Barack Obama", "person"),
                                                           ("Honolulu", "GPE")]
    assert len(pipe.generator.prompts) == 2
    nlp.to_disk(tmp_path / "again")  # saved again: data only, the old file is gone
    assert sorted(p.name for p in (tmp_path / "again" / "knowcoder").iterdir()) == [
        "library"]
