"""The example configs in examples/configs load; the OpenAI one runs against the test server."""
from pathlib import Path

import pytest
import spacy

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"


@pytest.mark.parametrize("name", ["llm_local.cfg", "llm_openai.cfg", "knowcoder_component.cfg"])
def test_config_is_valid(name):
    config = spacy.util.load_config(CONFIGS / name, interpolate=True)
    assert config["nlp"]["pipeline"]


def test_openai_config_runs_against_a_chat_server(chat_server):
    config = spacy.util.load_config(CONFIGS / "llm_openai.cfg", overrides={
        "paths.endpoint": chat_server.url, "paths.name": "knowcoder-test"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    doc = nlp("Barack Obama married Michelle Robinson in Chicago.")
    assert [e.text for e in doc.ents] == ["Barack Obama", "Michelle Robinson", "Chicago"]
    assert [a["role"] for a in doc._.events[0]["arguments"]] == ["spouse", "spouse", "place"]
