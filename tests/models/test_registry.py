"""The registry of shipped models (no model is loaded here)."""
from pathlib import Path

import pytest
import spacy

from spacy_knowcoder import models
from spacy_knowcoder.models import (
    ADAPTER_CONFIG,
    DEFAULT_MODEL,
    METADATA,
    ROOT_ENV,
    default_model_available,
    get_shipped_model,
    is_shipped_name,
    list_shipped_models,
    shipped_root,
    write_metadata,
)

SCHEMA = {"entities": {"person": "A human being."}}


def test_the_default_is_shipped_with_card_and_metadata() -> None:
    folder = Path(models.__file__).parent / DEFAULT_MODEL
    assert shipped_root() == folder.parent
    assert DEFAULT_MODEL in list_shipped_models()
    assert (folder / "README.md").is_file()
    model = get_shipped_model(DEFAULT_MODEL)
    assert model.base == "gemma3-270m" and len(model.base_fingerprint) == 64
    assert model.base_source and model.base_source["kind"] == "gguf"


def test_root_is_overridable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    assert shipped_root() == tmp_path and list_shipped_models() == []
    write_metadata(tmp_path / "mine", base="smollm2-135m", base_fingerprint="f" * 64)
    (tmp_path / "not-a-model").mkdir()
    assert list_shipped_models() == ["mine"]
    assert is_shipped_name("mine") and not is_shipped_name("not-a-model")
    assert not get_shipped_model("mine").has_adapter
    assert not default_model_available()


def test_names_paths_and_local_folders(tmp_path: Path, monkeypatch) -> None:
    assert is_shipped_name(DEFAULT_MODEL)
    for other in (None, "models/smollm2-135m", f"./{DEFAULT_MODEL}", "org/knowcoder-smol",
                  "http://127.0.0.1:8000/v1", Path(DEFAULT_MODEL)):
        assert not is_shipped_name(other), other
    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_MODEL).mkdir()  # a local folder of that name is a path, as before
    assert not is_shipped_name(DEFAULT_MODEL)


def test_metadata_round_trip_records_the_adapter_hash(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    write_metadata(folder, base="smollm2-135m", base_fingerprint="ab" * 32,
                   base_source={"kind": "gguf", "sha256": "c" * 64}, dtype="bfloat16",
                   training={"steps": 10})
    model = get_shipped_model("m", tmp_path)
    assert (model.dtype, model.training, model.base_source["sha256"]) == (
        "bfloat16", {"steps": 10}, "c" * 64)
    assert model.adapter_sha256 and len(model.adapter_sha256) == 64


@pytest.mark.parametrize("text,reason", [("{not json", "cannot read"),
                                         ('{"name": "m"}', "lacks base, base_fingerprint"),
                                         ("[]", "lacks")])
def test_malformed_metadata_is_e112(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / METADATA).write_text(text)
    with pytest.raises(ValueError, match=r"\[E112\].*" + reason):
        get_shipped_model("m", tmp_path)


def test_without_trained_weights_model_none_is_e019_as_before(tmp_path, monkeypatch) -> None:
    """The folder is shipped before its adapter: no model means the same E019."""
    if default_model_available():
        pytest.skip("this version ships the trained default")
    for root in (None, tmp_path):
        if root is not None:
            monkeypatch.setenv(ROOT_ENV, str(root))
            write_metadata(root / DEFAULT_MODEL, base="smollm2-135m", base_fingerprint="f" * 64)
        pipe = spacy.blank("en").add_pipe("knowcoder", config={"schema": SCHEMA})
        with pytest.raises(ValueError, match=r"\[E019\]"):
            pipe.initialize()


def test_naming_an_untrained_shipped_model_is_e114(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    write_metadata(tmp_path / DEFAULT_MODEL, base="smollm2-135m", base_fingerprint="f" * 64)
    pipe = spacy.blank("en").add_pipe("knowcoder", config={"schema": SCHEMA,
                                                            "model": DEFAULT_MODEL})
    with pytest.raises(ValueError, match=rf"\[E114\].*{DEFAULT_MODEL}"):
        pipe.initialize()
    assert not (tmp_path / DEFAULT_MODEL / ADAPTER_CONFIG).exists()


def test_a_pipeline_with_the_default_saves_no_path(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA})
    nlp.to_disk(tmp_path / "pipe")
    saved = spacy.util.load_config(tmp_path / "pipe" / "config.cfg")
    assert saved["components"]["knowcoder"]["model"]["name"] is None  # no path saved
    assert spacy.load(tmp_path / "pipe").get_pipe("knowcoder").cfg["model"] is None


def test_built_wheel_contains_the_shipped_models(wheel_files) -> None:
    names = wheel_files
    folder = Path(models.__file__).parent / DEFAULT_MODEL
    expected = {f"spacy_knowcoder/models/{DEFAULT_MODEL}/{p.name}" for p in folder.iterdir()}
    assert expected and expected <= names


def test_a_recorded_inference_setting_is_what_an_unset_setting_takes(tmp_path, monkeypatch):
    """``record_inference_setting`` writes ``inference`` (and how it was chosen); a
    generation setting left unset takes it for that shipped model only; shipping
    new weights (``write_metadata``) starts without it."""
    from spacy_knowcoder.generation import GenerationSettings
    from spacy_knowcoder.generation.hf import with_recommended
    from spacy_knowcoder.models import record_inference_setting, recommended_setting

    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    write_metadata(tmp_path / "mine", base="smollm2-135m", base_fingerprint="f" * 64)
    assert recommended_setting("mine", "close_penalty", 0.0) == 0.0
    record_inference_setting("mine", "close_penalty", 1.5, {"on": "dev", "mean_f": 31.3})
    assert get_shipped_model("mine").inference == {"close_penalty": 1.5}
    assert recommended_setting("mine", "close_penalty", 0.0) == 1.5
    assert recommended_setting("models/smollm2-135m", "close_penalty", 0.0) == 0.0
    assert with_recommended(GenerationSettings(), "mine").close_penalty == 1.5
    assert with_recommended(GenerationSettings(close_penalty=0.0), "mine").close_penalty == 0.0
    assert with_recommended(GenerationSettings(), "models/x").close_penalty == 0.0
    with pytest.raises(ValueError, match="E104"):
        record_inference_setting("mine", "batch_size", 4, {})
    write_metadata(tmp_path / "mine", base="smollm2-135m", base_fingerprint="f" * 64)
    assert get_shipped_model("mine").inference == {}
