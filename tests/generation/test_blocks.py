"""The model as a registered block (``generation.blocks``): the shorthand string,
the block with its settings, the shipped default as the default block, and the
flat generation keys of configs written before (translated with W004)."""
import warnings

import pytest
import spacy

from spacy_knowcoder.generation import GenerationSettings
from spacy_knowcoder.generation.blocks import HF_MODEL, KnowCoderModel, as_model_block
from spacy_knowcoder.generation.blocks import model_block_config

SCHEMA = {"entities": {"person": "A human being.", "city": "A large town."}}


def test_the_default_model_is_a_block_for_the_shipped_default():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("knowcoder", config={"schema": SCHEMA})
    block = nlp.config["components"]["knowcoder"]["model"]
    assert block["@llm_models"] == HF_MODEL and block["name"] is None
    assert block["max_new_tokens"] == 640 and block["dtype"] == "auto"  # filled defaults
    assert pipe.model_block.name is None and pipe.generation == GenerationSettings()
    assert pipe.cfg["model"] is None


def test_a_string_is_the_shorthand_for_a_block_with_defaults(smollm2_dir):
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "model": str(smollm2_dir)})
    assert nlp.config["components"]["knowcoder"]["model"] == str(smollm2_dir)
    assert pipe.model_block.name == str(smollm2_dir) and pipe.model_block.backend == "hf"
    assert pipe.generation == GenerationSettings()
    assert as_model_block("http://127.0.0.1:8000/v1").backend == "openai"


def test_the_block_carries_its_settings_through_to_disk_and_load(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "model": model_block_config(
        None, max_new_tokens=33, batch_size=2, dtype="float32", constrained=False)})
    nlp.to_disk(tmp_path / "pipe")
    config = (tmp_path / "pipe" / "config.cfg").read_text()
    assert "[components.knowcoder.model]" in config and "max_new_tokens = 33" in config
    loaded = spacy.load(tmp_path / "pipe")
    settings = loaded.get_pipe("knowcoder").generation
    assert (settings.max_new_tokens, settings.batch_size, settings.dtype,
            settings.constrained) == (33, 2, "float32", False)
    # a spacy.load override of one setting keeps the others
    again = spacy.load(tmp_path / "pipe", config={"components": {"knowcoder": {
        "model": {"batch_size": 5}}}})
    settings = again.get_pipe("knowcoder").generation
    assert (settings.max_new_tokens, settings.batch_size) == (33, 5)


def test_flat_generation_keys_still_work_with_a_deprecation_warning(smollm2_dir):
    nlp = spacy.blank("en")
    with pytest.warns(FutureWarning, match=r"W004.*batch_size, dtype.*'batch_size': 3"):
        pipe = nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "model": str(smollm2_dir),
                                                 "batch_size": 3, "dtype": "float32"})
    assert (pipe.generation.batch_size, pipe.generation.dtype) == (3, "float32")
    assert pipe.model_block.name == str(smollm2_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no flat key: no warning
        spacy.blank("en").add_pipe("knowcoder", config={"schema": SCHEMA,
                                                        "model": str(smollm2_dir)})


def test_flat_keys_next_to_a_block_are_an_error():
    with pytest.raises(ValueError, match=r"E024.*max_new_tokens"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": SCHEMA, "model": model_block_config(None, batch_size=2),
            "max_new_tokens": 10})


def test_bad_block_settings_are_coded():
    with pytest.raises(ValueError, match=r"E104.*batch_size"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": SCHEMA, "model": model_block_config(None, batch_size=0)})
    with pytest.raises(FileNotFoundError, match="E100"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": SCHEMA, "model": model_block_config("/no/such/model")})


def test_block_config_helpers():
    assert model_block_config("x", device="cuda", url="ignored") == {
        "@llm_models": HF_MODEL, "name": "x", "device": "cuda"}
    served = model_block_config("http://h:1/v1", dtype="float32", max_new_tokens=7)
    assert served == {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": "http://h:1/v1",
                      "max_new_tokens": 7}
    block = as_model_block(None)
    assert isinstance(block, KnowCoderModel) and as_model_block(block) is block
    assert block.with_name("y").name == "y" and block.with_name("y").settings == block.settings
