"""The shared-prefix KV cache gives exactly the outputs of decoding without it."""
from pathlib import Path

import pytest

from spacy_knowcoder.generation import GenerationSettings, HFGenerator
from spacy_knowcoder.generation.prefix_cache import PrefixCache, split_prompt

from .test_hf import SENTENCES, make_prompt

# Prompts of different suffix lengths, one primed with the start of the answer,
# and one of another schema (another prefix) in the same call.
PROMPTS = [make_prompt(s) for s in SENTENCES] + [
    make_prompt("Paris is big.", "results = [\n\t"),
    "Input:\nclass City(Entity):\n    pass\nsentence = \"Rome\"\nOutput:\n",
]


def test_split_keeps_every_character() -> None:
    for prompt in PROMPTS + ["", "sentence = ", "x\nsentence = "]:
        prefix, suffix = split_prompt(prompt)
        assert prefix + suffix == prompt
        assert not prefix or prefix.endswith("\n")


def test_prefix_cache_is_a_bounded_lru() -> None:
    cache = PrefixCache(capacity=2)
    for key in [(1,), (2,), (1,), (3,)]:
        cache.get_or_compute(key, lambda key=key: key)
    assert len(cache) == 2 and cache.get((2,)) is None and cache.get((1,)) == (1,)
    assert (cache.hits, cache.misses) == (2, 3)


def test_split_tokenization_matches_whole_prompt_tokenization(hf_generator) -> None:
    for prompt in PROMPTS:
        prefix, suffix = hf_generator.encode_split(prompt)
        assert prefix + suffix == hf_generator.encode(prompt)


@pytest.fixture(scope="module")
def outputs(smollm2_dir: Path):
    """Completions with and without the cache, batched and one by one.

    In float32: the outputs are identical only there (bfloat16 rounds sums that
    the layouts add in different orders; see test_bf16_agreement.py).
    """
    settings = dict(max_new_tokens=16, batch_size=3, dtype="float32")
    cached = HFGenerator(smollm2_dir, GenerationSettings(prefix_cache=True, **settings))
    plain = HFGenerator.from_objects(cached.model, cached.tokenizer,
                                     GenerationSettings(prefix_cache=False, **settings))
    return {
        "cached": cached.generate(PROMPTS),
        "cached_again": cached.generate(PROMPTS[:2]),
        "plain": plain.generate(PROMPTS),
        "one_by_one": [plain.generate([p])[0] for p in PROMPTS[:3]],
        "hits": cached.prefix_cache.hits,
        "generator": cached,
    }


def test_cache_gives_identical_outputs(outputs) -> None:
    assert outputs["cached"] == outputs["plain"]
    assert outputs["cached"][:3] == outputs["one_by_one"]
    assert outputs["cached_again"] == outputs["cached"][:2]
    assert outputs["hits"] >= 1  # the second call reused the prefix
    assert any(outputs["cached"])


def test_own_loop_matches_transformers_generate(outputs) -> None:
    import torch

    gen = outputs["generator"]
    prefix, suffix = gen.encode_split(PROMPTS[1])
    ids = torch.tensor([prefix + suffix])
    with torch.inference_mode():
        out = gen.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 do_sample=False, max_new_tokens=16,
                                 pad_token_id=gen.tokenizer.pad_token_id)
    reference = gen.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    from spacy_knowcoder.generation import truncate_completion

    assert truncate_completion(reference)[0] == outputs["cached"][1]


def test_prefix_cache_path_uses_the_current_cache_api(hf_generator) -> None:
    """transformers 5 renamed ``past_key_values``; the old name warned on every forward."""
    import warnings

    hf_generator.prefix_cache.clear()
    misses = hf_generator.prefix_cache.misses
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        hf_generator.generate(PROMPTS[:2])
    assert hf_generator.prefix_cache.misses > misses  # the prefix was prefilled here
