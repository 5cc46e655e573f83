"""spacy-llm reaches the shipped default by its name, like the component (issue 25, bug 1).

``examples/configs/llm_local.cfg`` assembled by spaCy's own CLI with
``--paths.model knowcoder-smol``, offline: before the one model resolver this
failed with E103 (the name was taken for a hub id).
"""
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from spacy_knowcoder.generation.sources import resolve_model_source
from spacy_knowcoder.generation.blocks import model_block_config
from spacy_knowcoder.models import DEFAULT_MODEL

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[2]
TEXT = "Barack Obama was born in Honolulu."
SCHEMA = {"entities": {"person": "A human being.", "city": "A large town."},
          "relations": {"born in": {"description": "The city where a person was born.",
                                    "head": ["person"], "tail": ["city"]}},
          "events": {"marriage": {"description": "Two people get married.",
                                  "roles": ["spouse", "place"]}}}


def test_a_shipped_name_means_the_shipped_model_everywhere() -> None:
    assert resolve_model_source(DEFAULT_MODEL).kind == "shipped"
    assert resolve_model_source("golaxy/KnowCoder-7B-base").kind == "hub"


def test_spacy_llm_config_assembles_and_runs_with_the_shipped_default(shipped_home,
                                                                      tmp_path) -> None:
    out = tmp_path / "llm_pipeline"
    command = [sys.executable, "-m", "spacy", "assemble",
               str(REPO / "examples" / "configs" / "llm_local.cfg"), str(out),
               "--paths.model", DEFAULT_MODEL, "--components.llm_ie.model.device", "cpu",
               "--components.llm_eae.model.device", "cpu"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    llm = spacy.load(out)
    component = spacy.blank("en")
    # spacy-llm sees prompt text only: unconstrained decoding, generated classes
    component.add_pipe("knowcoder", config={
        "model": model_block_config(DEFAULT_MODEL, constrained=False), "schema": SCHEMA,
        "tasks": ["ner", "re", "ed"], "typing": "generate"})
    by_llm, by_component = llm(TEXT), component(TEXT)
    assert by_llm.ents, "the shipped default finds the person"
    assert [(e.text, e.label_) for e in by_llm.ents] == \
        [(e.text, e.label_) for e in by_component.ents]
    assert by_llm._.relations == by_component._.relations
