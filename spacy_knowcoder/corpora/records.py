"""Build benchmark records (DESIGN §5) from tokens, tags and character offsets.

A record is a plain dict: ``{"id", "text", "entities", "relations", "events"}``
with character offsets (end exclusive) that always satisfy
``text[start:end] == mention["text"]``.

Example:
    >>> text, offsets = join_tokens(["Ann", "met", "Bob", "."])
    >>> text, offsets[2]
    ('Ann met Bob .', (8, 11))
    >>> bio_spans(["B-PER", "O", "I-PER", "I-PER"])
    [(0, 1, 'PER'), (2, 4, 'PER')]
"""
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

Record = Dict[str, Any]
Span = Tuple[int, int, str]


def join_tokens(tokens: Sequence[str], separator: str = " "
                ) -> Tuple[str, List[Tuple[int, int]]]:
    """Detokenize with ``separator`` between tokens and return each token's offsets.

    tokens (Sequence[str]): The tokens.
    separator (str): What goes between two tokens: a space, or nothing for
        character-level Chinese files.
    RETURNS (Tuple[str, List[Tuple[int, int]]]): The text and (start, end) per token.

    >>> join_tokens(["北", "京"], separator="")
    ('北京', [(0, 1), (1, 2)])
    """
    offsets: List[Tuple[int, int]] = []
    position = 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + len(separator)
    return separator.join(tokens), offsets


# Tag prefixes of the span schemes the readers accept: BIO/IOB2/IOB1/IO, and
# BMES/BIOES (S = a one-token span, M continues one, E continues and ends it),
# as in Resume NER.
OPENS = ("B", "S")
CONTINUES = ("I", "M", "E")
ENDS = ("E", "S")


def bio_spans(tags: Sequence[str]) -> List[Span]:
    """Token spans ``(start, end, type)`` from BIO, IOB2, IOB1, IO, BMES or BIOES tags.

    ``B-X`` and ``S-X`` always open a span; ``I-X``, ``M-X`` and ``E-X``
    continue an open span of type X and open one otherwise (IO and IOB1 files
    have no ``B-`` before a first ``I-``); ``E-X`` and ``S-X`` close their span.

    >>> bio_spans(["B-ORG", "M-ORG", "E-ORG", "M-ORG", "S-LOC", "S-LOC"])
    [(0, 3, 'ORG'), (3, 4, 'ORG'), (4, 5, 'LOC'), (5, 6, 'LOC')]
    """
    spans: List[Span] = []
    start: Optional[int] = None
    current = ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, type_ = tag.partition("-") if tag != "O" else ("O", "", "")
        continues = prefix in CONTINUES and start is not None and type_ == current
        if start is not None and not continues:
            spans.append((start, i, current))
            start = None
        if (prefix in OPENS or prefix in CONTINUES) and not continues:
            start, current = i, type_
        if start is not None and prefix in ENDS:
            spans.append((start, i + 1, current))
            start = None
    return spans


def mention(text: str, start: int, end: int, label: Optional[str] = None) -> Dict[str, Any]:
    """A ``{"start", "end", "text"[, "label"]}`` dict for ``text[start:end]``."""
    item: Dict[str, Any] = {"start": start, "end": end, "text": text[start:end]}
    if label is not None:
        item["label"] = label
    return item


def make_record(record_id: str, text: str, entities: Iterable[Dict[str, Any]] = (),
                relations: Iterable[Dict[str, Any]] = (),
                events: Iterable[Dict[str, Any]] = ()) -> Record:
    """A benchmark record with entities sorted by offset and duplicates removed."""
    unique = {(e["start"], e["end"], e["label"]): e for e in entities}
    ordered = [unique[key] for key in sorted(unique)]
    return {"id": record_id, "text": text, "entities": ordered,
            "relations": list(relations), "events": list(events)}


def token_span_offsets(offsets: Sequence[Tuple[int, int]], start: int,
                       end: int) -> Tuple[int, int]:
    """Character offsets of the token span ``[start, end)``."""
    return offsets[start][0], offsets[end - 1][1]


def align_tokens(text: str, tokens: Sequence[str]) -> Optional[List[Tuple[int, int]]]:
    """Offsets of ``tokens`` found left to right in ``text``, or None if one is missing.

    Lets a reader keep a dataset's original spacing when it ships the raw
    sentence next to its tokens.

    >>> align_tokens("Ann's dog.", ["Ann", "'s", "dog", "."])
    [(0, 3), (3, 5), (6, 9), (9, 10)]
    """
    offsets: List[Tuple[int, int]] = []
    position = 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0 or text[position:start].strip():
            return None
        offsets.append((start, start + len(token)))
        position = start + len(token)
    return offsets if not text[position:].strip() else None


def tokens_to_text(text: Optional[str], tokens: Sequence[str], separator: str = " "
                   ) -> Tuple[str, List[Tuple[int, int]]]:
    """Use ``text`` when the tokens align with it, else join the tokens with ``separator``."""
    if text is not None:
        offsets = align_tokens(text, tokens)
        if offsets is not None:
            return text, offsets
    return join_tokens(tokens, separator)


def natural_label(raw: str) -> str:
    """A lowercase, space-separated label from a raw type name.

    >>> natural_label("Commerce_money-transfer"), natural_label("MilitaryPlatform")
    ('commerce money transfer', 'military platform')
    """
    words: List[str] = []
    current = ""
    for i, char in enumerate(raw):
        if not char.isalnum():
            words.append(current)
            current = ""
            continue
        if char.isupper() and current and (raw[i - 1].islower() or (
                i + 1 < len(raw) and raw[i + 1].islower() and raw[i - 1].isupper())):
            words.append(current)
            current = ""
        current += char
    words.append(current)
    return " ".join(word.lower() for word in words if word)


def role_name(raw: str) -> str:
    """A snake_case role identifier: ``PlaceOfEmployment`` -> ``place_of_employment``."""
    return natural_label(raw).replace(" ", "_")
