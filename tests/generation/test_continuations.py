"""Scoring continuations on the shared prompt cache equals a plain forward pass.

Real SmolLM2-135M in float32 (the ``hf_generator`` fixture): the typing stage's
numbers must be the model's true log-probabilities, with or without the prefix
cache, whatever the rows' lengths and however they are batched.
"""
import pytest

from spacy_knowcoder.generation import GenerationSettings, HFGenerator
from spacy_knowcoder.generation.continuations import continuation_ids, score_reference
from spacy_knowcoder.generation.prefix_cache import split_prompt
from spacy_knowcoder.answer import RESULTS_OPEN
from spacy_knowcoder.prompting import render_query, wrap_query
from spacy_knowcoder.schema import schema_from_dict

pytestmark = pytest.mark.model
SCHEMA = schema_from_dict({"entities": {"person": "A human being.", "city": "A large town.",
                                        "organization": "A company or institution."}})
PROMPT = wrap_query(render_query("ner", SCHEMA, 'Ann said "hi" in Zürich.')) + RESULTS_OPEN
CONTINUATIONS = ['\tPerson("Ann")', '\tCity("Zürich")', '\tOrganization("Ann")',
                 '\tCity("Ann said \\"hi\\" in Zürich")', "\t"]


def _reference(generator: HFGenerator, continuation: str) -> float:
    ids = generator.encode(PROMPT)
    extra = continuation_ids(generator.tokenizer, split_prompt(PROMPT)[1], continuation)
    return score_reference(generator.model, ids + extra, len(ids))


def test_scores_equal_a_plain_forward_pass(hf_generator: HFGenerator) -> None:
    scores = hf_generator.score_continuations(PROMPT, CONTINUATIONS)
    expected = [_reference(hf_generator, text) for text in CONTINUATIONS]
    assert scores == pytest.approx(expected, abs=1e-3)
    assert all(score < 0 for score in scores)
    # The model prefers the person reading of "Ann" over the organization one.
    assert scores[0] > scores[2]


def test_padded_rows_in_small_groups_and_without_cache_agree(smollm2_dir,
                                                             hf_generator) -> None:
    """The fallback path (models with a short sliding window) gives the same numbers."""
    plain = HFGenerator(smollm2_dir, GenerationSettings(dtype="float32", prefix_cache=False))
    plain.continuation_scorer.tree = False
    plain.continuation_scorer.rows_per_batch = 2
    scores = plain.score_continuations(PROMPT, CONTINUATIONS)
    assert scores == pytest.approx(hf_generator.score_continuations(PROMPT, CONTINUATIONS),
                                   abs=1e-3)
    assert plain.prefix_cache.misses == 0


def test_a_tree_split_over_several_passes_agrees(hf_generator, monkeypatch) -> None:
    from spacy_knowcoder.generation import continuations

    expected = hf_generator.score_continuations(PROMPT, CONTINUATIONS)
    monkeypatch.setattr(continuations, "TREE_TOKENS", 4)
    assert hf_generator.score_continuations(PROMPT, CONTINUATIONS) == \
        pytest.approx(expected, abs=1e-3)


OTHER_SCHEMA = schema_from_dict({"entities": {"country": "A nation.", "river": "A river."}})


@pytest.mark.parametrize("pack_tokens", [1024, 12])
def test_many_prompts_packed_together_equal_each_alone(hf_generator, monkeypatch,
                                                       pack_tokens) -> None:
    """Documents of one schema share passes (and two schemas two prefixes); with a
    12-token budget every pass holds one piece of one request: same numbers."""
    from spacy_knowcoder.generation import continuations

    monkeypatch.setattr(continuations, "TREE_TOKENS", pack_tokens)
    prompts = [PROMPT,
               wrap_query(render_query("ner", SCHEMA, "Bob flew from Oslo to Rome.")) + RESULTS_OPEN,
               wrap_query(render_query("ner", OTHER_SCHEMA, "The Nile flows.")) + RESULTS_OPEN,
               wrap_query(render_query("ner", SCHEMA, "Nobody.")) + RESULTS_OPEN]
    requests = [(prompts[0], CONTINUATIONS), (prompts[1], ['\tCity("Oslo")', '\tPerson("Bob")']),
                (prompts[2], ['\tRiver("Nile")', '\tCountry("Nile")']), (prompts[3], [])]
    packed = hf_generator.score_continuations_many(requests)
    assert packed[3] == []
    for (prompt, rows), scores in zip(requests, packed):
        ids = hf_generator.encode(prompt)
        suffix = split_prompt(prompt)[1]
        expected = [score_reference(hf_generator.model, ids + continuation_ids(
            hf_generator.tokenizer, suffix, row), len(ids)) for row in rows]
        assert scores == pytest.approx(expected, abs=1e-3)


def test_scoring_leaves_the_cached_prefix_unchanged(hf_generator: HFGenerator) -> None:
    from spacy_knowcoder.generation.continuations import fork_cache

    hf_generator.score_continuations(PROMPT, CONTINUATIONS[:1])
    past = hf_generator.prefix_cache.get(tuple(hf_generator.encode_split(PROMPT)[0]))
    lengths = [layer.keys.shape[-2] for layer in past.layers]
    fork = fork_cache(past)
    assert fork.layers[0].keys is past.layers[0].keys
    hf_generator.score_continuations_many([(PROMPT, CONTINUATIONS)] * 3)
    assert [layer.keys.shape[-2] for layer in past.layers] == lengths


def test_the_prefix_cache_serves_generation_and_scoring(hf_generator: HFGenerator) -> None:
    cache = hf_generator.prefix_cache
    cache.clear()
    misses, hits = cache.misses, cache.hits
    hf_generator.score_continuations(PROMPT, CONTINUATIONS[:1])
    hf_generator.score_continuations(PROMPT.replace("Ann", "Bob"), CONTINUATIONS[:1])
    assert (cache.misses - misses, cache.hits - hits) == (1, 1)


def test_no_continuations_cost_nothing(hf_generator: HFGenerator) -> None:
    assert hf_generator.score_continuations(PROMPT, []) == []


def test_continuation_ids_follow_the_joint_tokenization(hf_generator: HFGenerator) -> None:
    tokenizer = hf_generator.tokenizer
    context = "Output:\nresults = [\n"
    ids = continuation_ids(tokenizer, context, '\tPerson("Ann")')
    before = tokenizer(context, add_special_tokens=False)["input_ids"]
    assert tokenizer(context + '\tPerson("Ann")', add_special_tokens=False)["input_ids"] == \
        before + ids


def test_gemma_sliding_window_short_and_long_prompts_agree(gemma3_dir, monkeypatch) -> None:
    """Gemma 3 attends locally (a 512-token window) in most layers. A prompt within the
    window, one whose schema prefix is longer than the window, and one whose sentence
    alone is longer than it all take the packed tree path (one mask per layer type),
    and all agree with a plain forward pass; so does the padded-rows fallback."""
    from spacy_knowcoder.generation.continuations import ContinuationScorer

    gemma = HFGenerator(gemma3_dir, GenerationSettings(dtype="float32"))
    window = gemma.model.config.sliding_window
    many = schema_from_dict({"entities": {f"kind {i}": f"A thing of kind {i}, which is "
                                          "described at some length here." for i in range(40)}})
    long_prompt = wrap_query(render_query("ner", many, "Ann met Bob.")) + RESULTS_OPEN
    long_text = " ".join(f"Ann met Bob number {i} in Zürich." for i in range(70))
    long_sentence = wrap_query(render_query("ner", SCHEMA, long_text)) + RESULTS_OPEN
    assert gemma.count_tokens(PROMPT) < window < gemma.count_tokens(long_prompt)
    assert gemma.count_tokens(split_prompt(long_sentence)[1]) > window
    padded = ContinuationScorer._score_padded
    for prompt in (PROMPT, long_prompt, long_sentence):
        ids = gemma.encode(prompt)
        suffix = split_prompt(prompt)[1]
        rows = ['\tPerson("Ann")', '\tKind0("Bob")', '\tCity("Zürich")']
        expected = [score_reference(gemma.model, ids + continuation_ids(gemma.tokenizer,
                                                                         suffix, row), len(ids))
                    for row in rows]
        monkeypatch.setattr(ContinuationScorer, "_score_padded", _never_padded)
        assert gemma.score_continuations(prompt, rows) == pytest.approx(expected, abs=2e-3)
        packed = gemma.score_continuations_many([(prompt, rows), (prompt, rows[::-1])])
        assert packed == [pytest.approx(expected, abs=2e-3),
                          pytest.approx(expected[::-1], abs=2e-3)]
        monkeypatch.setattr(ContinuationScorer, "_score_padded", padded)
        monkeypatch.setattr(gemma.continuation_scorer, "tree", False)
        assert gemma.score_continuations(prompt, rows) == pytest.approx(expected, abs=2e-3)
        monkeypatch.setattr(gemma.continuation_scorer, "tree", True)


def _never_padded(*args, **kwargs):
    raise AssertionError("the tree path should have scored this")
