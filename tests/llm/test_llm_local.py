"""spacy-llm's ``llm`` component with the KnowCoder task and the local SmolLM2 model.

The same model and schema must give the same results as the knowcoder
component: both use the one ``Extractor`` and the same greedy generator.
"""
import pytest
import spacy
from spacy_llm.registry import registry

from spacy_knowcoder.generation.blocks import model_block_config

from .chat_server import SCHEMA

pytestmark = pytest.mark.model

TEXTS = [
    "Barack Obama was born in Honolulu.",
    "Barack Obama married Michelle Robinson in Chicago.",
    "Ada Lovelace lived in London.",
    "Marie Curie was born in Warsaw and worked in Paris.",
    "Albert Einstein married Mileva Maric in Bern.",
    "Alan Turing was born in London.",
    "Angela Merkel grew up in Templin.",
    "Nelson Mandela was born in Mvezo.",
    "Frida Kahlo married Diego Rivera in Coyoacan.",
    "Pablo Picasso moved to Paris.",
    "Serena Williams lives in Florida.",
    "Kofi Annan was born in Kumasi.",
    "Grace Hopper worked in Arlington.",
    "Leo Tolstoy was born in Yasnaya Polyana.",
    "Toni Morrison taught in Princeton.",
    "Yuri Gagarin flew from Baikonur.",
    "Amelia Earhart was born in Atchison.",
    "John Lennon married Yoko Ono in Gibraltar.",
    "Rosa Parks lived in Detroit.",
    "",
]
MAX_NEW_TOKENS = 16
CALLS = []


@registry.llm_models("test_knowcoder.CountingHF.v1")
def counting_hf(model: str, max_new_tokens: int):
    """The real local model, counting the prompts it is asked to complete."""
    from spacy_knowcoder.llm.model import make_hf_model

    inner = make_hf_model(model, max_new_tokens=max_new_tokens, batch_size=8)

    def complete(prompts):
        prompts = [list(p) for p in prompts]
        CALLS.append(sum(len(p) for p in prompts))
        return inner(prompts)

    return complete


def llm_pipeline(model_dir, cache_dir=None, counting=False):
    nlp = spacy.blank("en")
    model = ({"@llm_models": "test_knowcoder.CountingHF.v1", "model": str(model_dir),
              "max_new_tokens": MAX_NEW_TOKENS} if counting else
             {"@llm_models": "spacy_knowcoder.HFModel.v1", "name": str(model_dir),
              "max_new_tokens": MAX_NEW_TOKENS, "batch_size": 8, "dtype": "float32"})
    for name, tasks in (("llm_ie", ["ner", "re", "ed"]), ("llm_eae", ["eae"])):
        cache = {"@llm_misc": "spacy.BatchCache.v1", "batch_size": 2, "max_batches_in_mem": 4,
                 "path": str(cache_dir / name) if cache_dir else None}
        nlp.add_pipe("llm", name=name, config={
            "task": {"@llm_tasks": "spacy_knowcoder.KnowCoder.v1", "schema": SCHEMA,
                     "tasks": tasks, "store_completions": True},
            "model": model, "cache": cache, "validate_types": not counting})
    return nlp


def results(doc):
    diagnostics = doc._.knowcoder_diagnostics
    return ([(e.start_char, e.end_char, e.label_) for e in doc.ents], doc._.relations,
            doc._.events, diagnostics.get("completions"), diagnostics.get("problems"))


def test_llm_pipeline_matches_the_knowcoder_component(smollm2_dir, assert_valid_results):
    component = spacy.blank("en")
    component.add_pipe("knowcoder", config={
        # spacy-llm models get prompt strings only, so the llm path is unconstrained
        # and keeps the generated classes (no token scores for typing = "score");
        # the two paths batch prompts differently: identical outputs in float32 only
        # (tests/generation/test_bf16_agreement.py)
        "model": model_block_config(str(smollm2_dir), max_new_tokens=MAX_NEW_TOKENS,
                                    batch_size=8, constrained=False, dtype="float32"),
        "schema": SCHEMA, "tasks": ["ner", "re", "ed", "eae"], "store_completions": True,
        "typing": "generate"})
    expected = list(component.pipe(TEXTS))
    with pytest.warns(UserWarning):  # the untrained base model writes few valid items
        got = list(llm_pipeline(smollm2_dir).pipe(TEXTS))
    assert [d.text for d in got] == TEXTS
    for mine, theirs in zip(got, expected):
        assert results(mine) == results(theirs)
        assert_valid_results(mine)
    # the model really ran: one completion per subtask of every non-empty text
    assert all(len(d._.knowcoder_diagnostics["completions"]["ner"]) == 1 for d in got[:-1])


def test_cache_makes_the_second_run_call_no_model(smollm2_dir, tmp_path):
    texts = TEXTS[:2]
    CALLS.clear()
    first = list(llm_pipeline(smollm2_dir, tmp_path, counting=True).pipe(texts))
    assert sum(CALLS) == 2 * 3  # ner, re, ed per text (eae only with triggers)
    CALLS.clear()
    second = list(llm_pipeline(smollm2_dir, tmp_path, counting=True).pipe(texts))
    assert sum(CALLS) == 0
    assert [results(d) for d in second] == [results(d) for d in first]
