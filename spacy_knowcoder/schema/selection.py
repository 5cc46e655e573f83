"""Choose the candidate classes of a schema library for a text, and split them over prompts.

A library of thousands of classes does not fit in one prompt. For each text
and task, ``LibrarySelector`` picks at most ``max_candidates`` classes and
splits them into prompts of at most ``budget`` classes each (the extractor
runs every prompt and merges the results). The candidates are, in order:

1. lexical hits: words of the text matched against class labels (weight 3),
   aliases and examples (2) and descriptions (1), weighted by inverse
   document frequency, plus a bonus for multi-word labels found as a phrase;
   each hit is followed by its ancestors (up to ``ancestor_depth`` levels), so
   a text about a "physicist" also gets ``Person``; hits and ancestors take
   at most ``lexical_share`` of the candidates;
2. priors: the remaining room is filled with the classes seen most often in
   data (``count``), then the most general ones (most descendants).

On this machine's data the priors carry most of the recall and lexical hits
add the rare classes a text names (see ``benchmarks/schema_selection.py``).

The policies are registered in ``spacy.util.registry.misc`` so the component
config can name them (``[components.knowcoder.selection]``).

Example:
    >>> from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
    >>> lib = SchemaLibrary([LibraryClass("entity", "Q5", "human", aliases=("person",)),
    ...                      LibraryClass("entity", "Q169470", "physicist", parents=("Q5",)),
    ...                      LibraryClass("entity", "Q515", "city", "large settlement")])
    >>> select = lexical_selection(budget=2, max_candidates=2, lexical_share=0.5).bind(lib)
    >>> [[t.class_name for t in s.entities] for s in select("ner", None, "The physicist.")]
    [['Physicist', 'Human']]
"""
import math
import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from spacy.util import registry

from ..errors import Errors
from .library import SchemaLibrary
from .render import render_entity, render_event_eae, render_relation
from .types import Schema

TASK_KINDS = {"ner": "entity", "re": "relation", "ed": "event", "eae": "event"}
STOPWORDS = frozenset(
    "a an and are as at be been but by for from has have he her his i in into is it its "
    "of on or she that the their them they this to was were which who will with".split())
FIELD_WEIGHTS = {"label": 3.0, "alias": 2.0, "example": 2.0, "description": 1.0}
PHRASE_BONUS = 4.0
MAX_PHRASE = 4
_TOKEN = re.compile(r"[^\W_]+")


def normalize_token(token: str) -> str:
    """Lowercase and strip a plural ending: "Cities" -> "city", "cars" -> "car"."""
    word = token.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> List[str]:
    """Normalized word tokens of a text (stopwords kept; the index skips them)."""
    return [normalize_token(t) for t in _TOKEN.findall(text)]


@dataclass(frozen=True)
class SelectionSettings:
    """How many classes a text gets and how they are split.

    budget (int): Classes per prompt.
    max_candidates (int): Classes per text and task, over all its prompts.
    lexical_share (float): Share of ``max_candidates`` for lexical hits and their
        ancestors; the rest (and any room they leave) goes to the priors.
    ancestor_depth (int): Taxonomy levels added above each lexical hit.
    max_df (float): Words in more than this share of the classes are not indexed.
    """

    budget: int = 16
    max_candidates: int = 96
    lexical_share: float = 0.5
    ancestor_depth: int = 2
    max_df: float = 0.05

    def __post_init__(self) -> None:
        _check("budget", self.budget, self.budget >= 1, "an integer >= 1")
        _check("max_candidates", self.max_candidates, self.max_candidates >= 1,
               "an integer >= 1")
        _check("lexical_share", self.lexical_share, 0.0 <= self.lexical_share <= 1.0,
               "a number from 0 to 1")
        _check("ancestor_depth", self.ancestor_depth, self.ancestor_depth >= 0,
               "an integer >= 0")
        _check("max_df", self.max_df, 0.0 < self.max_df <= 1.0, "a number in (0, 1]")


def _check(name: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(Errors.E206.format(name=name, value=value, expected=expected))


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
        self._build()
        self.prior_order = self._prior_order()
        self._ancestors: Dict[int, List[int]] = {}

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

    def select(self, text: str) -> List[str]:
        """The candidate keys for a text: lexical hits with their ancestors, then priors."""
        settings = self.settings
        limit = min(settings.max_candidates, len(self.keys))
        quota = int(settings.lexical_share * limit)
        chosen: Dict[int, None] = {}
        if quota:
            scores = self.scores(text)
            hits = np.flatnonzero(scores)
            if len(hits) > quota:
                hits = hits[np.argpartition(-scores[hits], quota - 1)[:quota]]
            for i in sorted(hits.tolist(), key=lambda i: (-scores[i], i)):
                if len(chosen) >= quota:
                    break
                chosen.setdefault(i, None)
                for ancestor in self._ancestors_of(i):
                    if len(chosen) >= quota:
                        break
                    chosen.setdefault(ancestor, None)
        for i in self.prior_order:
            if len(chosen) >= limit:
                break
            chosen.setdefault(int(i), None)
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


class SplitSelector(LibrarySelector):
    """No retrieval: every class of the kind, split into prompts of ``budget`` classes."""

    def candidates(self, task: str, text: str) -> List[str]:
        return self.library.keys(TASK_KINDS[task])


@dataclass(frozen=True)
class SelectionPolicy:
    """A configured selection method; ``bind`` applies it to a library.

    settings (SelectionSettings): Budget and quotas.
    method (str): "lexical" or "split".
    """

    settings: SelectionSettings
    method: str = "lexical"

    def __call__(self, library: SchemaLibrary) -> LibrarySelector:
        return self.bind(library)

    def bind(self, library: SchemaLibrary) -> LibrarySelector:
        """A selector over ``library``."""
        if self.method == "split":
            return SplitSelector(library, self.settings)
        return LibrarySelector(library, self.settings)

    def bind_schema(self, schema: Schema) -> LibrarySelector:
        """A selector over the classes of a plain schema."""
        return self.bind(SchemaLibrary.from_schema(schema))


@registry.misc("spacy_knowcoder.lexical_selection.v1")
def lexical_selection(budget: int = 16, max_candidates: int = 96, lexical_share: float = 0.5,
                      ancestor_depth: int = 2, max_df: float = 0.05) -> SelectionPolicy:
    """Lexical retrieval + taxonomy expansion + priors, split into prompts of ``budget``."""
    return SelectionPolicy(SelectionSettings(budget, max_candidates, lexical_share,
                                             ancestor_depth, max_df), "lexical")


@registry.misc("spacy_knowcoder.split_selection.v1")
def split_selection(budget: int = 16) -> SelectionPolicy:
    """Every class, split into prompts of at most ``budget`` classes."""
    return SelectionPolicy(SelectionSettings(budget=budget, max_candidates=budget), "split")


CandidateFn = Callable[[str, Schema, str], List[Schema]]
__all__: Sequence[str] = ("LexicalIndex", "LibrarySelector", "SelectionPolicy",
                          "SelectionSettings", "lexical_selection", "split_selection",
                          "tokenize")
