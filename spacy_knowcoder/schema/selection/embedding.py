"""Embedding selection: the classes closest to the text in a sentence-embedding space.

``EmbeddingIndex`` holds the class-embedding matrix of one kind (computed once
per library and model, kept on disk by ``embeddings.TextEncoder.encode_cached``).
``HybridSelector`` takes lexical hits, then embedding neighbours (each with
ancestors), then priors: it finds classes a text never names ("Paris" ->
``city``). ``embedding_selection.v1`` is the same with no lexical share.

Example:
    >>> hybrid = hybrid_selection(budget=2, max_candidates=2).bind(lib)  # doctest: +SKIP
    >>> hybrid.candidates("ner", "She moved to Paris.")[0]  # doctest: +SKIP
    'Q515'
"""
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from spacy.util import registry

from ..library import SchemaLibrary
from .lexical import LibrarySelector
from .policy import SelectionPolicy
from ...tasks import TASK_KINDS
from .settings import EmbeddingSettings, SelectionSettings

if TYPE_CHECKING:
    from ..embeddings import TextEncoder

QUERY_CACHE_SIZE = 8192  # texts whose prepared neighbours a selector keeps


class EmbeddingIndex:
    """The class-embedding matrix of one kind of a library, and cosine scores.

    library (SchemaLibrary): The library (same class order as ``LexicalIndex``).
    kind (str): "entity", "relation" or "event".
    encoder (TextEncoder): Embeds class texts and queries.
    settings (EmbeddingSettings): Where the matrix is cached.
    """

    def __init__(self, library: SchemaLibrary, kind: str, encoder: "TextEncoder",
                 settings: Optional[EmbeddingSettings] = None) -> None:
        from ..embeddings import class_text

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
        from ..embeddings import split_for_embedding

        vectors = self.encoder.encode_queries(split_for_embedding(text))
        if len(vectors) == 1:
            return self.matrix @ vectors[0]
        return (vectors @ self.matrix.T).max(axis=0)

    def neighbours(self, text: str, k: int) -> List[int]:
        """Positions of the ``k`` classes closest to a text, closest first."""
        from ..embeddings import top_k

        if k <= 0:
            return []
        return top_k(self.scores(text), k)

    def neighbours_many(self, texts: Sequence[str], k: int, chunk: int = 256) -> List[List[int]]:
        """``neighbours`` of many texts: embedded in batches, one matrix product per
        ``chunk`` pieces (a long text is scored by its best piece, as in ``scores``)."""
        from ..embeddings import split_for_embedding, top_k

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
        from ..embeddings import TextEncoder

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


@dataclass(frozen=True)
class HybridPolicy(SelectionPolicy):
    """Lexical hits, embedding neighbours, priors (``hybrid_selection.v1``,
    ``embedding_selection.v1``).

    embedding (EmbeddingSettings): The encoder and its cache.
    """

    embedding: EmbeddingSettings = EmbeddingSettings()

    def bind(self, library: SchemaLibrary, rankers: Optional[dict] = None) -> HybridSelector:
        embedding = self.embedding

        def load() -> "TextEncoder":
            from ..embeddings import load_encoder

            return load_encoder(embedding.model, embedding.device, embedding.batch_size)

        return HybridSelector(library, self.settings, embedding, load)


@registry.misc("spacy_knowcoder.hybrid_selection.v1")
def hybrid_selection(budget: int = 16, max_candidates: int = 96, lexical_share: float = 0.25,
                     embedding_share: float = 0.5, ancestor_depth: int = 2,
                     max_df: float = 0.05, model: str = "all-MiniLM-L6-v2",
                     device: str = "cpu", batch_size: int = 64,
                     cache_dir: Optional[str] = None, cache: bool = True) -> HybridPolicy:
    """Lexical hits, embedding neighbours (each with ancestors), then priors."""
    return HybridPolicy(
        SelectionSettings(budget, max_candidates, lexical_share, ancestor_depth, max_df,
                          embedding_share),
        EmbeddingSettings(model, device, batch_size, cache_dir, cache))


@registry.misc("spacy_knowcoder.embedding_selection.v1")
def embedding_selection(budget: int = 16, max_candidates: int = 96,
                        embedding_share: float = 0.5, ancestor_depth: int = 2,
                        model: str = "all-MiniLM-L6-v2", device: str = "cpu",
                        batch_size: int = 64, cache_dir: Optional[str] = None,
                        cache: bool = True) -> HybridPolicy:
    """Embedding neighbours (each with ancestors), then priors; no lexical hits."""
    return hybrid_selection(budget, max_candidates, 0.0, embedding_share, ancestor_depth,
                            model=model, device=device, batch_size=batch_size,
                            cache_dir=cache_dir, cache=cache)
