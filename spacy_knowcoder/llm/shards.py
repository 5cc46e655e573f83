"""Turn spacy-llm's doc shards back into one doc with one window per shard.

spacy-llm's shard mapper cuts a long doc into shard docs (``doc[a:b].as_doc()``)
whose prompts fit the model's context. The KnowCoder task does not process the
shards as separate docs: it fuses them into one doc *first* and gives the
``Extractor`` one window (a span of the fused doc) per shard, exactly like the
knowcoder component's own windows. Every offset is then computed once, against
the fused doc, by the same code the component uses; there is no
shift-and-merge step that could get offsets wrong.

The shards are concatenated without inserted whitespace, so the fused text is
the original text; doc-level extension values (``doc._.relations``,
``doc._.events``, ...) that ``Doc.from_docs`` skips are taken over from the
first shard (every shard carries a copy of the original doc's values).

Example:
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> doc = nlp("Ann met Bob. Bob met Cy.")
    >>> shards = [doc[:4].as_doc(), doc[4:].as_doc()]
    >>> fused, windows = fuse_shards(shards)
    >>> fused.text == doc.text, [w.text for w in windows]
    (True, ['Ann met Bob.', 'Bob met Cy.'])
"""
import copy
import warnings
from typing import List, Sequence, Tuple

from spacy.tokens import Doc, Span, SpanGroup

# Doc.from_docs warns for every doc-level extension value it skips (W101) and
# for non-extension user data (W102); both are restored from the first shard.
_SKIPPED_USER_DATA = r"\[W10[12]\]"


def fuse_shards(shards: Sequence[Doc]) -> Tuple[Doc, List[Span]]:
    """One doc from a doc's shards, and one window per non-blank shard.

    shards (Sequence[Doc]): The shards of one doc, in order (one shard: the doc).
    RETURNS (Tuple[Doc, List[Span]]): The doc the results are written to, and
        the windows (spans of that doc) the prompts are built for.
    """
    if len(shards) == 1:
        doc = shards[0]
        return doc, _windows(doc, [len(doc)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SKIPPED_USER_DATA)
        doc = Doc.from_docs(list(shards), ensure_whitespace=False)
    for key, value in shards[0].user_data.items():
        if not _is_positional(key):
            doc.user_data[key] = value
    return doc, _windows(doc, [len(shard) for shard in shards])


def carry_doc_data(doc: Doc, shards: Sequence[Doc]) -> None:
    """Copy what ``Span.as_doc`` leaves out of shards: doc-level extension values
    and ``doc.spans``.

    An EAE component reads ``doc._.events`` (the triggers) and the ``knowcoder``
    span group (entity labels) that an earlier component wrote; both must reach
    the fused doc. ``Doc.from_docs`` merges the span groups back with shifted
    offsets. A span that crosses a shard boundary cannot be kept and is left out.

    doc (Doc): The original doc.
    shards (Sequence[Doc]): Its shards, in order (changed in place).
    """
    if len(shards) < 2:
        return
    offset = 0
    for shard in shards:
        for key, value in doc.user_data.items():
            if not _is_positional(key):
                shard.user_data[key] = copy.deepcopy(value)
        end = offset + len(shard.text)
        for key, group in doc.spans.items():
            spans = [shard.char_span(s.start_char - offset, s.end_char - offset, label=s.label_)
                     for s in group if offset <= s.start_char and s.end_char <= end]
            shard.spans[key] = SpanGroup(shard, name=key, spans=[s for s in spans if s])
        offset = end


def _windows(doc: Doc, lengths: Sequence[int]) -> List[Span]:
    """Consecutive spans of the given token lengths; blank ones are left out."""
    windows, start = [], 0
    for length in lengths:
        window = doc[start:start + length]
        if window.text.strip():
            windows.append(window)
        start += length
    return windows


def _is_positional(key: object) -> bool:
    """Token- or span-level extension values (``Doc.from_docs`` shifts those)."""
    return (isinstance(key, tuple) and len(key) == 4 and key[0] == "._."
            and (key[2] is not None or key[3] is not None))
