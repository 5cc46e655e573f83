"""A class ranker learned from annotated texts: which library classes does a text need?

Lexical and embedding retrieval match a text against class *names and
descriptions*, but texts rarely name the types of their mentions ("Ada
Lovelace wrote notes" never says ``Person``). ``ClassRanker`` instead learns,
from annotated records (the benchmark JSONL of DESIGN §5, e.g. the training
splits the model was fine-tuned on), which words go with which classes: a
multinomial naive Bayes model over word unigrams and bigrams, one score per
class that has training data. ``learned_selection`` puts its top classes
first and lets lexical hits and priors fill the rest, so classes without
training data can still be chosen.

Scoring a text costs one dictionary look-up per word and a vector sum over
the classes with training data (a few hundred), so it stays well under a
millisecond per sentence (``benchmarks/schema_selection.py``).

Example:
    >>> ranker = ClassRanker.train("entity", [
    ...     ("the striker scored twice for the club", ["athlete", "sports team"]),
    ...     ("the band released a new album", ["musical group"]),
    ...     ("fans cheered the striker", ["athlete"])])
    >>> ranker.top("a striker for the national club", 2)
    ['athlete', 'sports team']
"""
import math
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
import srsly

from ..errors import Errors
from .selection_text import STOPWORDS, tokenize

FORMAT = "spacy-knowcoder.class-ranker.v1"
KINDS = ("entity", "relation", "event")


def text_features(text: str) -> List[str]:
    """The features of a text: its content words and adjacent word pairs.

    Example:
        >>> text_features("The Cities of Italy")
        ['city', 'italy', 'the city', 'city of', 'of italy']
    """
    tokens = tokenize(text)
    words = [t for t in tokens if t not in STOPWORDS and not t.isdigit()]
    pairs = [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
    return list(dict.fromkeys(words + pairs))


class ClassRanker:
    """Naive Bayes scores of the classes seen in training, for any text.

    kind (str): "entity", "relation" or "event".
    keys (Sequence[str]): The classes with training data (library keys).
    log_prior (np.ndarray): log P(class) over training texts, shape (C,).
    unseen (np.ndarray): log P(feature | class) of a feature never seen with
        the class, shape (C,).
    postings (Dict[str, Tuple[np.ndarray, np.ndarray]]): feature -> (class
        positions, log P(feature | class) - unseen) for the classes it was seen with.
    """

    def __init__(self, kind: str, keys: Sequence[str], log_prior: np.ndarray,
                 unseen: np.ndarray,
                 postings: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> None:
        if kind not in KINDS:
            raise ValueError(Errors.E210.format(path="(in memory)", reason=f"kind {kind!r} "
                                                f"is not one of {', '.join(KINDS)}"))
        self.kind = kind
        self.keys = list(keys)
        self.log_prior = np.asarray(log_prior, dtype=np.float64)
        self.unseen = np.asarray(unseen, dtype=np.float64)
        self.postings = postings

    @classmethod
    def train(cls, kind: str, examples: Iterable[Tuple[str, Iterable[str]]],
              alpha: float = 0.1, min_count: int = 1) -> "ClassRanker":
        """Learn from ``(text, class keys)`` pairs (keys repeated in a text count once).

        alpha (float): Additive smoothing of the word counts.
        min_count (int): Ignore features seen in fewer texts than this.
        """
        feature_docs: Counter = Counter()
        per_class: Dict[str, Counter] = {}
        class_docs: Counter = Counter()
        n_texts = 0
        for text, keys in examples:
            n_texts += 1
            classes = sorted(set(keys))
            features = text_features(text)
            feature_docs.update(features)
            for key in classes:
                class_docs[key] += 1
                per_class.setdefault(key, Counter()).update(features)
        vocab = {f for f, n in feature_docs.items() if n >= min_count}
        keys = sorted(per_class)
        size = max(1, len(vocab))
        totals = np.array([sum(n for f, n in per_class[k].items() if f in vocab)
                           for k in keys], dtype=np.float64)
        denominators = totals + alpha * size
        unseen = np.log(alpha / denominators) if keys else np.zeros(0)
        by_feature: Dict[str, Dict[int, float]] = {}
        for i, key in enumerate(keys):
            for feature, n in per_class[key].items():
                if feature in vocab:
                    by_feature.setdefault(feature, {})[i] = \
                        math.log((n + alpha) / denominators[i]) - unseen[i]
        postings = {f: (np.fromiter(w, dtype=np.int64, count=len(w)),
                        np.fromiter(w.values(), dtype=np.float64, count=len(w)))
                    for f, w in sorted(by_feature.items())}
        log_prior = np.log(np.array([class_docs[k] for k in keys], dtype=np.float64)
                           / max(1, n_texts))
        return cls(kind, keys, log_prior, unseen, postings)

    def __len__(self) -> int:
        return len(self.keys)

    def scores(self, text: str) -> np.ndarray:
        """The log-score of every trained class for a text (higher: more likely)."""
        scores = self.log_prior.copy()
        for feature in text_features(text):
            posting = self.postings.get(feature)
            if posting is not None:
                scores += self.unseen
                scores[posting[0]] += posting[1]
        return scores

    def best(self, text: str, k: int) -> np.ndarray:
        """Positions (in ``keys``) of the ``k`` best classes, best first (ties: key order)."""
        if k <= 0 or not self.keys:
            return np.zeros(0, dtype=np.int64)
        scores = self.scores(text)
        return np.lexsort((np.arange(len(scores)), -scores))[:k]

    def top(self, text: str, k: int) -> List[str]:
        """The ``k`` classes with the highest scores, best first (ties: key order)."""
        return [self.keys[i] for i in self.best(text, k)]

    def positions_in(self, library_keys: Sequence[str]) -> np.ndarray:
        """Each trained class's position in ``library_keys``; E211 if any is missing."""
        position = {key: i for i, key in enumerate(library_keys)}
        missing = [key for key in self.keys if key not in position]
        if missing:
            raise KeyError(Errors.E211.format(count=len(missing), kind=self.kind,
                                              examples=", ".join(map(repr, missing[:5]))))
        return np.array([position[key] for key in self.keys], dtype=np.int64)

    # -- serialization -------------------------------------------------------

    def to_dict(self) -> Dict[str, object]:
        features = list(self.postings)
        return {"format": FORMAT, "kind": self.kind, "keys": self.keys,
                "log_prior": self.log_prior.tolist(), "unseen": self.unseen.tolist(),
                "features": features,
                "classes": [self.postings[f][0].tolist() for f in features],
                "weights": [self.postings[f][1].tolist() for f in features]}

    @classmethod
    def from_dict(cls, data: Dict[str, object], where: str = "(in memory)") -> "ClassRanker":
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            keys = list(data["keys"])  # type: ignore[call-overload]
            postings = {}
            for feature, idx, weights in zip(data["features"], data["classes"],  # type: ignore[call-overload]
                                              data["weights"], strict=True):
                idx_arr = np.asarray(idx, dtype=np.int64)
                if idx_arr.size and (idx_arr.min() < 0 or idx_arr.max() >= len(keys)):
                    raise ValueError(f"feature {feature!r} names a class position out of range")
                postings[str(feature)] = (idx_arr, np.asarray(weights, dtype=np.float64))
            log_prior = np.asarray(data["log_prior"], dtype=np.float64)
            unseen = np.asarray(data["unseen"], dtype=np.float64)
            if log_prior.shape != (len(keys),) or unseen.shape != (len(keys),):
                raise ValueError("'log_prior' and 'unseen' need one value per class")
            return cls(str(data["kind"]), keys, log_prior, unseen, postings)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(Errors.E210.format(path=where, reason=err)) from None

    def to_disk(self, path: Union[str, Path]) -> None:
        """Write the ranker as one msgpack file."""
        srsly.write_msgpack(path, self.to_dict())

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "ClassRanker":
        """Read a ranker written by ``to_disk``; E210 if the file is not one."""
        try:
            data = srsly.read_msgpack(path)
        except (OSError, ValueError) as err:
            raise ValueError(Errors.E210.format(path=path, reason=err)) from None
        if not isinstance(data, dict):
            raise ValueError(Errors.E210.format(path=path, reason="not a mapping"))
        return cls.from_dict(data, str(path))
