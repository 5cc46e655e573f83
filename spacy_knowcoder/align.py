"""Place mention strings predicted by the model back on the input text.

The model writes mentions as Python string values (``Person("Barack Obama")``);
this module finds them in the text and turns them into character offsets and
token-aligned spaCy spans. Nothing is invented: a mention that cannot be found
(or aligned) yields no span, and the caller counts it as dropped.

Policy, in short:

- Matching levels, tried in order: (1) exact substring, (2) case-insensitive
  (per-character ``str.casefold``, offsets mapped back to the original text even
  where folding changes the length, e.g. 'İ' or 'ß'), (3) whitespace-insensitive
  (runs of whitespace are one space), (4) whitespace-insensitive and
  case-insensitive, (5) as (4) plus typographic variants (curly quotes and
  apostrophes, dashes, the ellipsis character), (6) as (5) on Unicode
  compatibility forms without marks: full-width letters and punctuation
  (``，`` ``（`` ``Ａ``) match their ASCII forms, accents and other combining
  marks are ignored (decomposed or not), and invisible format characters
  (zero-width space and joiners, left-to-right and right-to-left marks) are
  skipped; a match never ends before the marks of its last character.
  Leading and trailing whitespace
  of a mention is ignored; an empty mention never matches, nor does one that
  is longer than the text once both are normalised the same way.
- A match is *whole* when it starts and ends on token boundaries of ``doc``
  (without a doc: on word boundaries, i.e. it does not cut an alphanumeric run).
  The first level that has a whole match wins; if no level has one, the first
  level with any match wins. Within a level, whole matches come first (in text
  order), then the others (in text order).
- Token alignment (only with a doc): ``"strict"`` drops matches that cut a
  token, ``"expand"`` (default) widens them to whole tokens, ``"contract"``
  shrinks them to the tokens fully inside (dropped if none). A span whose text
  is only whitespace after alignment is dropped. Spans are deduplicated.
- ``find``: skips spans listed in ``exclude``, prefers occurrences that overlap
  no excluded span, then whole matches, then the one nearest to ``near``
  (gap in characters, 0 when overlapping), then the earliest.
- ``find_pair`` (relations): prefers non-overlapping pairs, then whole
  matches, then the smallest gap between head and tail, then the earliest.
- Writing ``doc.ents``: ``resolve_overlaps`` keeps the longest, then earliest,
  spans (like ``spacy.util.filter_spans``) and returns the discarded ones too;
  ``merge_entities`` keeps existing entities unless ``overwrite`` is set, in
  which case overlapping existing entities are returned as displaced.

Example:
    >>> index = MentionIndex("Obama met obama in  Chicago.")
    >>> index.find_all("Obama")
    [CharSpan(start=0, end=5)]
    >>> index.find("in Chicago")
    CharSpan(start=16, end=27)
"""
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import (
    Callable,
    Collection,
    Dict,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from spacy.tokens import Doc, Span

from .errors import Errors, check_choice

ALIGNMENT_MODES = ("strict", "expand", "contract")

# Typographic characters and the ASCII a model is likely to write instead.
_TYPOGRAPHIC = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
    "\u2026": "...",
}


@dataclass(frozen=True)
class CharSpan:
    """A span of characters in a text.

    start (int): Offset of the first character.
    end (int): Offset after the last character (exclusive).

    Example:
        >>> CharSpan(4, 9).length
        5
    """

    start: int
    end: int

    @property
    def length(self) -> int:
        """RETURNS (int): The number of characters covered."""
        return self.end - self.start

    def overlaps(self, other: "CharSpan") -> bool:
        """other (CharSpan): The span to compare with.
        RETURNS (bool): Whether the two spans share at least one character.
        """
        return self.start < other.end and other.start < self.end

    def distance(self, other: "CharSpan") -> int:
        """Characters between the two spans (0 if they touch or overlap).

        other (CharSpan): The span to compare with.
        RETURNS (int): The gap in characters.
        """
        return max(0, self.start - other.end, other.start - self.end)


# --- normalisation with an offset map --------------------------------------


def _identity(char: str) -> str:
    return char


def _fold(char: str) -> str:
    return char.casefold()


def _typo_fold(char: str) -> str:
    return _TYPOGRAPHIC.get(char, char).casefold()


def _unicode_fold(char: str) -> str:
    """NFKD without marks and format characters, then typographic folding."""
    if unicodedata.category(char) == "Cf" or unicodedata.combining(char):
        return ""
    kept = "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c))
    if not kept.strip() and not char.isspace():  # a spacing mark such as '¯' stays itself
        return _typo_fold(char)
    return "".join(_typo_fold(c) for c in kept)


@dataclass(frozen=True)
class _Level:
    """One matching level: a per-character transform and whitespace handling."""

    name: str
    transform: Callable[[str], str]
    collapse_space: bool


_LEVELS = (
    _Level("exact", _identity, False),
    _Level("casefold", _fold, False),
    _Level("space", _identity, True),
    _Level("space_casefold", _fold, True),
    _Level("typographic", _typo_fold, True),
    _Level("unicode", _unicode_fold, True),
)


class _NormalizedText:
    """A transformed copy of a text that maps its offsets back to the original.

    Every original character becomes zero or more characters (whitespace after
    the first one of a run becomes none when collapsing; 'İ' becomes two when
    folding). A match is only valid if it starts and ends between expansions.
    """

    def __init__(self, text: str, level: _Level) -> None:
        pieces: List[str] = []
        origin: List[int] = []
        starts_piece: List[bool] = []
        dropped: Set[int] = set()  # characters this level folds to nothing
        in_space = False
        for i, char in enumerate(text):
            if level.collapse_space and char.isspace():
                if in_space:
                    continue
                in_space = True
                piece = " "
            else:
                in_space = False
                piece = level.transform(char)
            pieces.append(piece)
            if not piece:
                dropped.add(i)
            origin.extend([i] * len(piece))
            starts_piece.extend([True] + [False] * (len(piece) - 1))
        self.text = "".join(pieces)
        self._original = text
        self._dropped = dropped
        self._origin = origin
        self._starts_piece = starts_piece + [True]

    def to_original(self, start: int, end: int) -> Optional[CharSpan]:
        """Map a match in the normalised text back; None if it cuts a character.

        The end moves past combining marks that this level folded to nothing, so
        a match keeps the accent of its last letter (at the other levels a mark
        is matched like any character).
        """
        if not (self._starts_piece[start] and self._starts_piece[end]):
            return None
        stop = self._origin[end - 1] + 1
        while stop in self._dropped and unicodedata.combining(self._original[stop]):
            stop += 1
        return CharSpan(self._origin[start], stop)


def _normalize_mention(mention: str, level: _Level) -> str:
    if level.collapse_space:
        parts = ("".join(level.transform(c) for c in part) for part in mention.split())
        return " ".join(part for part in parts if part)  # a part of marks folds to nothing
    return "".join(level.transform(c) for c in mention.strip())


def _first_difference(first: str, second: str) -> int:
    for i, (a, b) in enumerate(zip(first, second)):
        if a != b:
            return i
    return min(len(first), len(second))


def _cuts_word(text: str, offset: int) -> bool:
    """Whether a span boundary at ``offset`` splits a run of letters/digits."""
    return 0 < offset < len(text) and text[offset - 1].isalnum() and text[offset].isalnum()


def _occurrences(haystack: str, needle: str) -> List[int]:
    """All start offsets of ``needle`` in ``haystack``, overlapping ones included."""
    found: List[int] = []
    pos = haystack.find(needle)
    while pos != -1:
        found.append(pos)
        pos = haystack.find(needle, pos + 1)
    return found


# --- the index ---------------------------------------------------------------


class MentionIndex:
    """All places a mention string can be found in one text.

    Build one per doc; results are cached per mention string, and the
    normalised copies of the text are built lazily, once per level.

    text (str): The text to search.
    doc (Optional[Doc]): The doc of ``text``; when given, every returned span is
        on token boundaries.
    alignment_mode (str): How to treat matches that cut a token: "strict"
        (drop), "expand" (widen to whole tokens) or "contract" (shrink).

    Example:
        >>> import spacy
        >>> doc = spacy.blank("en")("Honolulu.")
        >>> MentionIndex(doc.text, doc).find("Honolul")
        CharSpan(start=0, end=8)
    """

    def __init__(
        self, text: str, doc: Optional[Doc] = None, alignment_mode: str = "expand"
    ) -> None:
        check_choice("alignment_mode", alignment_mode, ALIGNMENT_MODES)
        if doc is not None and doc.text != text:
            raise ValueError(Errors.E141.format(pos=_first_difference(doc.text, text)))
        self.text = text
        self.doc = doc
        self.alignment_mode = alignment_mode
        self._normalized: Dict[str, _NormalizedText] = {}
        self._cache: Dict[str, List[Tuple[CharSpan, bool]]] = {}

    def find_all(self, mention: str) -> List[CharSpan]:
        """Find every usable occurrence of a mention (see the module docstring).

        mention (str): The mention string, as the model wrote it.
        RETURNS (List[CharSpan]): Whole matches in text order, then the others.

        Example:
            >>> MentionIndex("Obama met Obama").find_all("Obama")
            [CharSpan(start=0, end=5), CharSpan(start=10, end=15)]
        """
        return [span for span, _ in self._ranked(mention)]

    def find(
        self,
        mention: str,
        near: Optional[CharSpan] = None,
        exclude: Collection[CharSpan] = (),
    ) -> Optional[CharSpan]:
        """Find the best single occurrence of a mention.

        mention (str): The mention string.
        near (Optional[CharSpan]): Prefer the occurrence closest to this span
            (e.g. an event trigger); None prefers the first in text order.
        exclude (Collection[CharSpan]): Spans already used; never returned, and
            occurrences overlapping them are only used as a last resort.
        RETURNS (Optional[CharSpan]): The occurrence, or None.

        Example:
            >>> index = MentionIndex("Obama met Obama")
            >>> index.find("Obama", exclude=[CharSpan(0, 5)])
            CharSpan(start=10, end=15)
        """
        excluded = set(exclude)
        best: Optional[Tuple[Tuple[int, int, int, int], CharSpan]] = None
        for span, whole in self._ranked(mention):
            if span in excluded:
                continue
            key = (
                int(any(span.overlaps(other) for other in excluded)),
                int(not whole),
                span.distance(near) if near is not None else 0,
                span.start,
            )
            if best is None or key < best[0]:
                best = (key, span)
        return best[1] if best is not None else None

    def find_pair(self, head: str, tail: str) -> Optional[Tuple[CharSpan, CharSpan]]:
        """Find the occurrences of a relation's head and tail nearest each other.

        head (str): The head mention.
        tail (str): The tail mention.
        RETURNS (Optional[Tuple[CharSpan, CharSpan]]): (head, tail) spans, or
            None if either is missing. Non-overlapping pairs are preferred.

        Example:
            >>> index = MentionIndex("Paris is far. Lyon is in France.")
            >>> index.find_pair("Lyon", "France")
            (CharSpan(start=14, end=18), CharSpan(start=25, end=31))
        """
        heads = self._ranked(head)
        tails = self._ranked(tail)
        if not heads or not tails:
            return None
        best = _best_disjoint_pair(heads, tails)
        if best is None:
            best = _best_overlapping_pair(heads, tails)
        return best

    # -- internals --

    def _ranked(self, mention: str) -> List[Tuple[CharSpan, bool]]:
        if mention not in self._cache:
            self._cache[mention] = self._search(mention)
        return self._cache[mention]

    def _search(self, mention: str) -> List[Tuple[CharSpan, bool]]:
        if not isinstance(mention, str):
            return []
        stripped = mention.strip()
        if not stripped:
            return []
        fallback: List[Tuple[CharSpan, bool]] = []
        for level in _LEVELS:
            found = self._search_level(stripped, level)
            if any(whole for _, whole in found):
                return found
            if found and not fallback:
                fallback = found
        return fallback

    def _search_level(self, mention: str, level: _Level) -> List[Tuple[CharSpan, bool]]:
        needle = _normalize_mention(mention, level)
        if not needle:
            return []
        norm = self._get_normalized(level)
        raw: List[CharSpan] = []
        for pos in _occurrences(norm.text, needle):
            span = norm.to_original(pos, pos + len(needle))
            if span is not None:
                raw.append(span)
        return self._rank(raw)

    def _get_normalized(self, level: _Level) -> _NormalizedText:
        if level.name not in self._normalized:
            self._normalized[level.name] = _NormalizedText(self.text, level)
        return self._normalized[level.name]

    def _rank(self, raw: Sequence[CharSpan]) -> List[Tuple[CharSpan, bool]]:
        whole: List[CharSpan] = []
        partial: List[CharSpan] = []
        for span in raw:
            if self._is_whole(span):
                whole.append(span)
                continue
            aligned = self._align(span)
            if aligned is not None:
                partial.append(aligned)
        seen = set(whole)
        ranked = [(span, True) for span in whole]
        for span in sorted(partial, key=lambda s: (s.start, s.end)):
            if span not in seen:
                seen.add(span)
                ranked.append((span, False))
        return ranked

    def _is_whole(self, span: CharSpan) -> bool:
        if self.doc is not None:
            return self.doc.char_span(span.start, span.end, alignment_mode="strict") is not None
        return not (_cuts_word(self.text, span.start) or _cuts_word(self.text, span.end))

    def _align(self, span: CharSpan) -> Optional[CharSpan]:
        """Align a match that is not whole; None if it must be dropped."""
        if self.doc is None:
            return span
        if self.alignment_mode == "strict":
            return None
        aligned = self.doc.char_span(span.start, span.end, alignment_mode=self.alignment_mode)
        if aligned is None or not aligned.text.strip():
            return None
        return CharSpan(aligned.start_char, aligned.end_char)


class _SortedSpans:
    """Spans sorted by start and by end, for nearest-neighbour lookups."""

    def __init__(self, spans: Sequence[Tuple[CharSpan, bool]]) -> None:
        self.by_start = sorted(spans, key=lambda t: (t[0].start, t[0].end))
        self.by_end = sorted(spans, key=lambda t: (t[0].end, -t[0].start))
        self.starts = [t[0].start for t in self.by_start]
        self.ends = [t[0].end for t in self.by_end]

    def nearest_disjoint(self, span: CharSpan) -> List[Tuple[CharSpan, bool]]:
        """The closest span entirely right of ``span`` and entirely left of it."""
        found = []
        right = bisect_left(self.starts, span.end)
        if right < len(self.by_start):
            found.append(self.by_start[right])
        left = bisect_right(self.ends, span.start) - 1
        if left >= 0:
            found.append(self.by_end[left])
        return found


def _best_disjoint_pair(
    heads: Sequence[Tuple[CharSpan, bool]], tails: Sequence[Tuple[CharSpan, bool]]
) -> Optional[Tuple[CharSpan, CharSpan]]:
    """Closest non-overlapping (head, tail) pair, in O((H + T) log T)."""
    groups = [_SortedSpans([t for t in tails if t[1]]), _SortedSpans(tails)]
    best: Optional[Tuple[Tuple[int, int, int, int], Tuple[CharSpan, CharSpan]]] = None
    for head, head_whole in heads:
        for group in groups:
            for tail, tail_whole in group.nearest_disjoint(head):
                key = (
                    int(not head_whole) + int(not tail_whole),
                    head.distance(tail),
                    head.start,
                    tail.start,
                )
                if best is None or key < best[0]:
                    best = (key, (head, tail))
    return best[1] if best is not None else None


def _best_overlapping_pair(
    heads: Sequence[Tuple[CharSpan, bool]], tails: Sequence[Tuple[CharSpan, bool]]
) -> Optional[Tuple[CharSpan, CharSpan]]:
    """Fallback when every pair overlaps (then all occurrences are clustered)."""
    best: Optional[Tuple[Tuple[int, int, int], Tuple[CharSpan, CharSpan]]] = None
    for head, head_whole in heads:
        for tail, tail_whole in tails:
            key = (int(not head_whole) + int(not tail_whole), head.start, tail.start)
            if best is None or key < best[0]:
                best = (key, (head, tail))
    return best[1] if best is not None else None


# --- entity overlap policy ---------------------------------------------------


def _span_key(span: Span) -> Tuple[int, int]:
    return (span.start, span.end)


def _occupies(occupied: Collection[int], span: Span) -> bool:
    return any(i in occupied for i in range(span.start, span.end))


def resolve_overlaps(spans: Sequence[Span]) -> Tuple[List[Span], List[Span]]:
    """Remove overlaps among spans: longer spans win, then earlier ones.

    Like ``spacy.util.filter_spans``, but the losers are returned too so that
    nothing disappears silently. Exact duplicates (same tokens) count as
    overlapping: only the first one given is kept.

    spans (Sequence[Span]): Spans of one doc, in any order.
    RETURNS (Tuple[List[Span], List[Span]]): (kept, discarded); kept is sorted
        by position, discarded keeps the input order.

    Example:
        >>> import spacy
        >>> doc = spacy.blank("en")("New York City")
        >>> kept, dropped = resolve_overlaps([doc[0:2], doc[0:3]])
        >>> [s.text for s in kept], [s.text for s in dropped]
        (['New York City'], ['New York'])
    """
    kept_ids = _kept_indices(spans)
    kept = sorted((spans[i] for i in kept_ids), key=_span_key)
    discarded = [span for i, span in enumerate(spans) if i not in kept_ids]
    return kept, discarded


def _kept_indices(spans: Sequence[Span], occupied: Optional[Set[int]] = None) -> Set[int]:
    """Indices of the spans kept by the longest-then-earliest rule.

    occupied (Optional[Set[int]]): Token indices that are already taken.
    """
    taken = set(occupied) if occupied else set()
    kept: Set[int] = set()
    def longest_then_earliest(i: int) -> Tuple[int, int, int]:
        return (spans[i].start - spans[i].end, spans[i].start, i)

    order = sorted(range(len(spans)), key=longest_then_earliest)
    for i in order:
        span = spans[i]
        if span.end <= span.start or _occupies(taken, span):
            continue
        kept.add(i)
        taken.update(range(span.start, span.end))
    return kept


def merge_entities(
    existing: Sequence[Span], predicted: Sequence[Span], overwrite: bool
) -> Tuple[List[Span], List[Span], List[Span]]:
    """Combine existing ``doc.ents`` with predicted entity spans.

    existing (Sequence[Span]): The doc's current entities (non-overlapping).
    predicted (Sequence[Span]): Predicted spans, possibly overlapping.
    overwrite (bool): False keeps every existing entity and adds only
        predictions that overlap nothing; True lets predictions win and moves
        the existing entities they overlap to ``displaced_existing``.
    RETURNS (Tuple[List[Span], List[Span], List[Span]]): (ents,
        rejected_predicted, displaced_existing); ents is sorted and can be
        assigned to ``doc.ents``.

    Example:
        >>> import spacy
        >>> doc = spacy.blank("en")("Barack Obama visited Paris")
        >>> old = [doc.char_span(0, 12, label="PERSON")]
        >>> new = [doc.char_span(7, 12, label="PER"), doc.char_span(21, 26, label="LOC")]
        >>> ents, rejected, displaced = merge_entities(old, new, overwrite=False)
        >>> [(e.text, e.label_) for e in ents], [e.text for e in rejected]
        ([('Barack Obama', 'PERSON'), ('Paris', 'LOC')], ['Obama'])
    """
    if overwrite:
        kept, rejected = resolve_overlaps(predicted)
        occupied = {i for span in kept for i in range(span.start, span.end)}
        staying = [span for span in existing if not _occupies(occupied, span)]
        displaced = [span for span in existing if _occupies(occupied, span)]
        return sorted(staying + kept, key=_span_key), rejected, displaced
    occupied = {i for span in existing for i in range(span.start, span.end)}
    kept_ids = _kept_indices(predicted, occupied)
    kept = [span for i, span in enumerate(predicted) if i in kept_ids]
    rejected = [span for i, span in enumerate(predicted) if i not in kept_ids]
    return sorted(list(existing) + kept, key=_span_key), rejected, []
