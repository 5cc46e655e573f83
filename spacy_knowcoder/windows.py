"""Split a doc into windows of whole sentences that fit the model's prompt budget.

Sentence boundaries come from the doc when it has them (a parser or
senter ran before), else from spaCy's rule-based ``Sentencizer`` (computed, not
written to the doc). A sentence longer than the budget is cut between tokens,
with a warning (W161). Nothing is dropped: the windows cover every token of the
doc, in order. Relations and events are found within one window, so a relation
whose head and tail fall in different windows is not seen.

Example:
    >>> import spacy
    >>> doc = spacy.blank("en")("One. Two. Three.")
    >>> [w.text for w in split_into_windows(doc, budget=2, count_tokens=lambda t: len(t.split()))]
    ['One. Two.', 'Three.']
"""
from typing import Callable, Iterator, List

from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

from .errors import Warnings, warn


def split_into_windows(doc: Doc, budget: int, count_tokens: Callable[[str], int]) -> List[Span]:
    """Windows of ``doc`` whose text needs at most ``budget`` model tokens each.

    doc (Doc): The doc.
    budget (int): Model tokens available for the text in one prompt.
    count_tokens (Callable[[str], int]): The model tokenizer's count.
    RETURNS (List[Span]): One span for a short doc; consecutive spans otherwise.
    """
    if len(doc) == 0 or count_tokens(doc.text) <= budget:
        return [doc[:]]
    windows: List[Span] = []
    start = end = None
    for piece in _pieces(doc, budget, count_tokens):
        if start is not None and count_tokens(doc[start:piece.end].text) > budget:
            windows.append(doc[start:end])
            start = None
        start = piece.start if start is None else start
        end = piece.end
    if start is not None:
        windows.append(doc[start:end])
    return windows


def _pieces(doc: Doc, budget: int, count_tokens: Callable[[str], int]) -> Iterator[Span]:
    for sentence in _sentences(doc):
        if count_tokens(sentence.text) <= budget:
            yield sentence
        else:
            pieces = list(_cut_sentence(sentence, budget, count_tokens))
            warn(Warnings.W161.format(n_tokens=count_tokens(sentence.text), budget=budget,
                                      n_pieces=len(pieces), start=sentence.start_char))
            yield from pieces


def _sentences(doc: Doc) -> List[Span]:
    if doc.has_annotation("SENT_START"):
        return list(doc.sents)
    starts = Sentencizer().predict([doc])[0]
    bounds = [i for i, is_start in enumerate(starts) if is_start or i == 0] + [len(doc)]
    return [doc[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _cut_sentence(sentence: Span, budget: int, count_tokens: Callable[[str], int]) -> Iterator[Span]:
    """Cut an over-long sentence between tokens into pieces within the budget."""
    doc, start = sentence.doc, sentence.start
    while start < sentence.end:
        end = start + 1
        step = max(1, (sentence.end - start) // 2)
        while step >= 1:  # grow the piece by halving steps (binary search on length)
            if end + step <= sentence.end and count_tokens(doc[start:end + step].text) <= budget:
                end += step
            else:
                step //= 2
        yield doc[start:end]
        start = end
