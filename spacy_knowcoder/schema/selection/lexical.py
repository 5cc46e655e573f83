"""Lexical selection: words of the text matched against the classes, then priors.

``LexicalIndex`` is an inverted index over one kind of a library's classes
(labels weigh 3, aliases and examples 2, descriptions 1, times inverse document
frequency, plus a bonus for multi-word labels found as a phrase); each hit
brings its ancestors, and the classes seen most often in data fill the rest.
``LibrarySelector`` is the selector the other policies build on.

Example:
    >>> from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
    >>> lib = SchemaLibrary([LibraryClass("entity", "Q5", "human", aliases=("person",)),
    ...                      LibraryClass("entity", "Q169470", "physicist", parents=("Q5",))])
    >>> LexicalIndex(lib, "entity").select("The physicist.")
    ['Q169470', 'Q5']
"""
import math
import re
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
from spacy.util import registry

from ..library import SchemaLibrary
from ..render import render_entity, render_event_eae, render_relation
from ..selection_text import STOPWORDS, tokenize
from ..types import Schema
from .policy import SelectionPolicy
from ...tasks import TASK_KINDS
from .settings import SelectionSettings

FIELD_WEIGHTS = {"label": 3.0, "alias": 2.0, "example": 2.0, "description": 1.0}
PHRASE_BONUS = 4.0
MAX_PHRASE = 4


class LexicalIndex:
    """An inverted index over the classes of one kind of a library.

    library (SchemaLibrary): The library.
    kind (str): "entity", "relation" or "event".
    settings (SelectionSettings): Used for ``max_df`` and the quotas.
    """

    def __init__(self, library: SchemaLibrary, kind: str,
                 settings: Optional[SelectionSettings] = None) -> None:
        self.library = library
        self.kind = kind
        self.settings = settings or SelectionSettings()
        self.keys: List[str] = library.keys(kind)
        self._position = {key: i for i, key in enumerate(self.keys)}
        self._postings: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self._phrases: Dict[Tuple[str, ...], List[int]] = {}
        self._built = False
        self.prior_order = self._prior_order()
        self._ancestors: Dict[int, List[int]] = {}

    def build(self) -> None:
        """Index the words of the classes (done on the first ``scores`` call)."""
        if not self._built:
            self._build()
            self._built = True

    def _build(self) -> None:
        weights: Dict[str, Dict[int, float]] = {}
        for i, key in enumerate(self.keys):
            for field_name, text in _fields(self.library, key):
                tokens = tokenize(text)
                for token in set(tokens):
                    if token not in STOPWORDS:
                        slot = weights.setdefault(token, {})
                        slot[i] = max(slot.get(i, 0.0), FIELD_WEIGHTS[field_name])
                if field_name in ("label", "alias") and 1 < len(tokens) <= MAX_PHRASE:
                    self._phrases.setdefault(tuple(tokens), []).append(i)
        n = max(1, len(self.keys))
        limit = max(1, int(self.settings.max_df * n))
        for token, by_class in weights.items():
            if len(by_class) > limit and len(self.keys) > 20:
                continue
            idf = math.log(1.0 + n / len(by_class))
            idx = np.fromiter(by_class, dtype=np.int64, count=len(by_class))
            w = np.fromiter(by_class.values(), dtype=np.float64, count=len(by_class)) * idf
            self._postings[token] = (idx, w)

    def _prior_order(self) -> np.ndarray:
        library = self.library
        n_desc = {key: len(library.descendants(key, max_depth=3)) for key in self.keys}
        order = sorted(range(len(self.keys)), key=lambda i: (
            -library[self.keys[i]].count, -n_desc[self.keys[i]], i))
        return np.asarray(order, dtype=np.int64)

    def scores(self, text: str) -> np.ndarray:
        """Lexical score of every class for a text."""
        self.build()
        scores = np.zeros(len(self.keys))
        tokens = tokenize(text)
        for token in set(tokens):
            posting = self._postings.get(token)
            if posting is not None:
                scores[posting[0]] += posting[1]
        if self._phrases:
            for n in range(2, MAX_PHRASE + 1):
                for start in range(len(tokens) - n + 1):
                    hits = self._phrases.get(tuple(tokens[start:start + n]))
                    if hits:
                        scores[hits] += PHRASE_BONUS * n
        return scores

    def _ancestors_of(self, i: int) -> List[int]:
        if i not in self._ancestors:
            keys = self.library.ancestors(self.keys[i], self.settings.ancestor_depth)
            self._ancestors[i] = [self._position[k] for k in keys if k in self._position]
        return self._ancestors[i]

    def limit(self) -> int:
        """Candidates per text: ``max_candidates``, at most the number of classes."""
        return min(self.settings.max_candidates, len(self.keys))

    def hits(self, text: str, k: int) -> List[int]:
        """Positions of the (at most ``k``) best lexical hits, best first."""
        if k <= 0:
            return []
        scores = self.scores(text)
        hits = np.flatnonzero(scores)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        return sorted(hits.tolist(), key=lambda i: (-scores[i], i))

    def expand(self, chosen: Dict[int, None], ranked: Iterable[int], quota: int) -> None:
        """Add ranked classes to ``chosen``, each followed by its ancestors, up to ``quota``."""
        for i in ranked:
            if len(chosen) >= quota:
                return
            chosen.setdefault(int(i), None)
            for ancestor in self._ancestors_of(int(i)):
                if len(chosen) >= quota:
                    return
                chosen.setdefault(ancestor, None)

    def fill_priors(self, chosen: Dict[int, None], limit: int) -> None:
        """Fill ``chosen`` up to ``limit`` with the classes of highest prior."""
        for i in self.prior_order:
            if len(chosen) >= limit:
                break
            chosen.setdefault(int(i), None)

    def select(self, text: str) -> List[str]:
        """The candidate keys for a text: lexical hits with their ancestors, then priors."""
        limit = self.limit()
        quota = int(self.settings.lexical_share * limit)
        chosen: Dict[int, None] = {}
        self.expand(chosen, self.hits(text, quota), quota)
        self.fill_priors(chosen, limit)
        return [self.keys[i] for i in chosen]


def _fields(library: SchemaLibrary, key: str) -> Iterable[Tuple[str, str]]:
    cls = library[key]
    yield "label", cls.label
    yield "label", " ".join(re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+",
                                       library.class_name(key)))
    for alias in cls.aliases:
        yield "alias", alias
    for example in cls.examples:
        yield "example", " ".join(example) if isinstance(example, tuple) else str(example)
    if cls.description:
        yield "description", cls.description


class LibrarySelector:
    """A ``CandidateSelector`` over a library: ``(task, schema, text) -> [Schema, ...]``.

    The ``schema`` argument (the extractor's full schema) is not needed: the
    selector returns schemas built from its own library.
    """

    def __init__(self, library: SchemaLibrary, settings: SelectionSettings) -> None:
        self.library = library
        self.settings = settings
        self._indexes: Dict[str, LexicalIndex] = {}
        self._largest: Dict[str, Schema] = {}

    def index(self, kind: str) -> LexicalIndex:
        """The lexical index of one kind (built on first use)."""
        if kind not in self._indexes:
            self._indexes[kind] = LexicalIndex(self.library, kind, self.settings)
        return self._indexes[kind]

    def candidates(self, task: str, text: str) -> List[str]:
        """The candidate keys of a task for a text, all prompts together."""
        return self.index(TASK_KINDS[task]).select(text)

    def __call__(self, task: str, schema: Optional[Schema], text: str) -> List[Schema]:
        keys = self.candidates(task, text)
        size = self.settings.budget
        return [self.library.to_schema(keys[i:i + size]) for i in range(0, len(keys), size)]

    def largest_prompt_schema(self, task: str) -> Schema:
        """The ``budget`` classes with the longest definitions: a prompt-size bound."""
        kind = TASK_KINDS[task]
        render = {"entity": render_entity, "relation": render_relation,
                  "event": render_event_eae}[kind]
        if kind not in self._largest:
            keys = self.library.keys(kind)
            sizes = sorted(keys, key=lambda k: -len(render(self.library.schema_type(k))))  # type: ignore[operator]
            self._largest[kind] = self.library.to_schema(sizes[:self.settings.budget])
        return self._largest[kind]


class LexicalPolicy(SelectionPolicy):
    """Lexical hits (each with ancestors), then priors (``lexical_selection.v1``)."""

    def bind(self, library: SchemaLibrary, rankers: Optional[dict] = None) -> LibrarySelector:
        return LibrarySelector(library, self.settings)


@registry.misc("spacy_knowcoder.lexical_selection.v1")
def lexical_selection(budget: int = 16, max_candidates: int = 96, lexical_share: float = 0.5,
                      ancestor_depth: int = 2, max_df: float = 0.05) -> LexicalPolicy:
    """Lexical retrieval + taxonomy expansion + priors, split into prompts of ``budget``."""
    return LexicalPolicy(SelectionSettings(budget, max_candidates, lexical_share,
                                           ancestor_depth, max_df))
