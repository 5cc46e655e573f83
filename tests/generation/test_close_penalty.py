"""``close_penalty``: the constrained decoder ends a list only when ending beats going on by a margin."""
from pathlib import Path

import pytest

from spacy_knowcoder.generation import GenerationSettings
from spacy_knowcoder.generation.constrained import Constraint, ResultsGrammar, TokenChooser
from spacy_knowcoder.generation.decoding import GreedyDecoder, Row
from spacy_knowcoder.generation.token_bytes import vocabulary_bytes

TEXT = "Barack Obama was born in Honolulu."


@pytest.fixture(scope="module")
def smollm2(smollm2_dir: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    return AutoModelForCausalLM.from_pretrained(smollm2_dir), tokenizer


def decoder_at_item_end(smollm2, penalty: float):
    """A decoder and a row whose output is ``results = [\\n\\tPerson("Barack Obama``."""
    model, tokenizer = smollm2
    chooser = TokenChooser(vocabulary_bytes(tokenizer))
    decoder = GreedyDecoder(model, tokenizer, chooser=chooser, close_penalty=penalty)
    row = Row(0, suffix=[], budget=64,
              grammar=ResultsGrammar(Constraint("ner", {"Person": (), "City": ()}, text=TEXT)))
    decoder._begin(row)
    ids = tokenizer('\n\tPerson("Barack Obama', add_special_tokens=False)["input_ids"]
    decoder._accept(row, ids)
    assert bytes(row.out).endswith(b'Person("Barack Obama'), bytes(row.out)
    return decoder, row, tokenizer


def scores_for(tokenizer, logits):
    """A score vector with the given logits for single-token texts, -100 elsewhere."""
    import torch

    scores = torch.full((len(tokenizer),), -100.0)
    for text, logit in logits.items():
        scores[token_of(tokenizer, text)] = logit
    return scores


def token_of(tokenizer, text):
    (token,) = tokenizer(text, add_special_tokens=False)["input_ids"]
    return token


@pytest.mark.parametrize("margin,goes_on", [(1.5, True), (2.5, False)])
def test_ending_the_item_without_a_comma_must_win_by_the_penalty(smollm2, margin, goes_on):
    """``")`` (the tokenizers write it before ``\\n]``) against ``"),``: with penalty 2
    the comma is taken when it is within 2 nats of the preferred end."""
    decoder, row, tokenizer = decoder_at_item_end(smollm2, 2.0)
    end, comma = token_of(tokenizer, '")'), token_of(tokenizer, '"),')
    scores = scores_for(tokenizer, {'")': 0.0, '"),': -margin})
    chosen = decoder._penalize_close(row, scores, end)
    assert chosen == (comma if goes_on else end)
    assert decoder.stats["close_overrides"] == int(goes_on)


def test_each_boundary_is_weighed_once(smollm2):
    """After ``")`` was kept, the ``\\n`` that closes the list at the same boundary is
    not weighed again, so the margin is not applied twice."""
    decoder, row, tokenizer = decoder_at_item_end(smollm2, 2.0)
    end = token_of(tokenizer, '")')
    assert decoder._penalize_close(row, scores_for(tokenizer, {'")': 0.0, '"),': -3.0}),
                                   end) == end
    decoder._accept(row, [end])
    newline = token_of(tokenizer, "\n")
    scores = scores_for(tokenizer, {"\n": 0.0, ",": -0.5})
    assert decoder._penalize_close(row, scores, newline) == newline


def test_tokens_that_do_not_end_the_list_are_left_alone(smollm2):
    decoder, row, tokenizer = decoder_at_item_end(smollm2, 10.0)
    comma = token_of(tokenizer, '"),')
    scores = scores_for(tokenizer, {'"),': 0.0, '")': -0.1})
    assert decoder._penalize_close(row, scores, comma) == comma
    assert decoder.stats["close_overrides"] == 0 and row.penalized_at is None


@pytest.mark.parametrize("value", [-1.0, float("inf"), True, "2"])
def test_a_bad_penalty_is_e104(value):
    with pytest.raises(ValueError, match=r"E104.*close_penalty"):
        GenerationSettings(close_penalty=value)
