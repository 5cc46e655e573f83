"""The component's fast-inference settings on the real SmolLM2-135M.

- lossless mode (prefix cache, batching, no grammar) writes exactly what a
  naive one-prompt-at-a-time run without cache writes (in float32);
- constrained mode (the default) always gives completions that parse, with
  only schema classes and mentions that occur in the text.
"""
import pytest
import spacy

from spacy_knowcoder.extractor import classes_for
from spacy_knowcoder.generation import GenerationSettings
from spacy_knowcoder.generation.blocks import HF_SETTINGS, model_block_config
from spacy_knowcoder.parsing import parse_completion

pytestmark = pytest.mark.model

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "The city where a person was born.",
                              "head": ["person"], "tail": ["city"]}},
}
TEXTS = ["Barack Obama was born in Honolulu.", 'Ann said "hi" in Zürich.',
         "Marie Curie moved from Warsaw to Paris."]


def run(smollm2_dir, batch_size: int, **config):
    nlp = spacy.blank("en")
    settings = {key: config.pop(key) for key in list(config) if key in HF_SETTINGS}
    model = model_block_config(str(smollm2_dir), max_new_tokens=16, batch_size=batch_size,
                               **settings)
    nlp.add_pipe("knowcoder", config={"model": model, "schema": SCHEMA,
                                      "tasks": ["ner", "re"], "store_completions": True,
                                      # these tests are about decoding: classes as generated
                                      "typing": "generate", **config})
    return nlp, list(nlp.pipe(TEXTS))


def completions(docs):
    return [doc._.knowcoder_diagnostics["completions"] for doc in docs]


def test_config_reaches_the_generator(smollm2_dir) -> None:
    nlp = spacy.blank("en")
    model = model_block_config(str(smollm2_dir), constrained=False, prefix_cache=False)
    pipe = nlp.add_pipe("knowcoder", config={"model": model, "schema": SCHEMA})
    assert pipe.generation.constrained is False and pipe.generation.prefix_cache is False
    with pytest.raises(ValueError, match="constrained"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": SCHEMA, "model": model_block_config(None, constrained=3)})
    with pytest.raises(ValueError, match="E104.*prefix_cache"):
        GenerationSettings(prefix_cache="yes")


def test_lossless_mode_equals_a_naive_run(smollm2_dir, assert_valid_results) -> None:
    # Identical in float32; in bfloat16 (the "auto" default on AMX CPUs) only up to
    # rounding at near-ties of the top two logits (tests/generation/test_bf16_agreement.py).
    _, fast = run(smollm2_dir, batch_size=4, constrained=False, prefix_cache=True,
                  dtype="float32")
    _, naive = run(smollm2_dir, batch_size=1, constrained=False, prefix_cache=False,
                   dtype="float32")
    assert completions(fast) == completions(naive)
    for doc in fast:
        assert_valid_results(doc)


def test_constrained_mode_output_always_parses(smollm2_dir, assert_valid_results) -> None:
    nlp, docs = run(smollm2_dir, batch_size=4)
    schema = nlp.get_pipe("knowcoder").schema
    argument_classes = ["Entity"] + [e.class_name for e in schema.entities]
    for doc in docs:
        diagnostics = doc._.knowcoder_diagnostics
        assert diagnostics["dropped_classes"] == diagnostics["dropped_items"] == 0
        assert not diagnostics["incomplete"]
        for task, outs in diagnostics["completions"].items():
            for out in outs:
                result = parse_completion(out, task, classes_for(task, schema),
                                          argument_classes)
                assert result.ok, (out, result.problems)
        assert_valid_results(doc)
    assert any(len(doc.ents) for doc in docs)
