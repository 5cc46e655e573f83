"""Learned selection: a trained ranker's top classes, then lexical hits, then priors.

The rankers (one per class kind, ``schema.ranker.ClassRanker``, trained by
``knowcoder schema train-ranker``) are read from a folder once and saved with
the pipeline, so a packaged pipeline needs no path on another machine.

Example:
    >>> policy = learned_selection("rankers/")  # doctest: +SKIP
    >>> policy.bind(library).candidates("ner", "The striker left the club.")  # doctest: +SKIP
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import srsly
from spacy.util import registry

from ...errors import Errors
from ..library import SchemaLibrary
from ..ranker import ClassRanker
from .lexical import LibrarySelector
from .policy import SelectionPolicy
from ...tasks import TASK_KINDS
from .settings import SelectionSettings


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


@dataclass(frozen=True)
class LearnedPolicy(SelectionPolicy):
    """A learned ranker's top classes, lexical hits, priors (``learned_selection.v1``).

    rankers (Optional[str]): The ranker folder (``save_rankers``).
    """

    rankers: Optional[str] = None
    uses_rankers = True

    def load_rankers(self) -> Optional[Dict[str, ClassRanker]]:
        """The rankers of the ``rankers`` folder.

        RAISES: ValueError (E210) if the folder is not given, missing or damaged.
        """
        if not self.rankers:
            raise ValueError(Errors.E210.format(path="(none)", reason="learned selection "
                                                "needs the 'rankers' folder"))
        return load_rankers(self.rankers)

    def bind(self, library: SchemaLibrary,
             rankers: Optional[Dict[str, ClassRanker]] = None) -> LearnedSelector:
        rankers = rankers if rankers is not None else self.load_rankers()
        return LearnedSelector(library, self.settings, rankers or {})


@registry.misc("spacy_knowcoder.learned_selection.v1")
def learned_selection(rankers: str, budget: int = 16, max_candidates: int = 96,
                      learned_share: float = 0.5, lexical_share: float = 0.25,
                      ancestor_depth: int = 2, max_df: float = 0.05) -> LearnedPolicy:
    """A learned ranker's top classes (``knowcoder schema train-ranker``), then
    lexical hits (each with ancestors), then priors. The knowcoder component
    reads the ``rankers`` folder once and saves the rankers with the pipeline."""
    return LearnedPolicy(
        SelectionSettings(budget, max_candidates, lexical_share, ancestor_depth, max_df,
                          learned_share=learned_share), rankers=str(rankers))
