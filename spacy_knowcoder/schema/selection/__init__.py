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
config can name them (``[components.knowcoder.selection]``); each is its own
``SelectionPolicy`` subclass in its own module: ``lexical``, ``embedding``
(hybrid and embedding-only), ``learned`` and ``split``; ``settings`` holds
their numbers.

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
from typing import Callable, List, Sequence

from ..selection_text import normalize_token, tokenize
from ..types import Schema
from .embedding import EmbeddingIndex, HybridPolicy, HybridSelector, embedding_selection
from .embedding import hybrid_selection
from .learned import LearnedPolicy, LearnedSelector, learned_selection, load_rankers
from .learned import rankers_from_bytes, rankers_to_bytes, save_rankers
from .lexical import LexicalIndex, LexicalPolicy, LibrarySelector, lexical_selection
from .policy import SelectionPolicy
from .settings import EmbeddingSettings, SelectionSettings
from .split import SplitPolicy, SplitSelector, split_selection

CandidateFn = Callable[[str, Schema, str], List[Schema]]
__all__: Sequence[str] = ("EmbeddingIndex", "EmbeddingSettings", "HybridPolicy",
                          "HybridSelector", "LearnedPolicy", "LearnedSelector", "LexicalIndex",
                          "LexicalPolicy", "LibrarySelector", "SelectionPolicy",
                          "SelectionSettings", "SplitPolicy", "SplitSelector",
                          "embedding_selection", "hybrid_selection", "learned_selection",
                          "lexical_selection", "load_rankers", "normalize_token",
                          "rankers_from_bytes", "rankers_to_bytes", "save_rankers",
                          "split_selection", "tokenize")
