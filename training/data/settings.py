"""Settings of training-data construction (the ``[data]`` section of the training config).

The defaults are the *small* profile: a few hundred short SFT samples and
pretraining documents, so both training phases fit ~30 minutes on 2 CPU cores
with SmolLM2-135M. ``DataSettings.gpu()`` is the reference-sized profile
(NER 16 candidate classes, RE 8, ED 3-4; every record).

Example:
    >>> DataSettings().ner_candidates, DataSettings.gpu().ner_candidates
    (3, 16)
    >>> DataSettings(seed=-1)
    Traceback (most recent call last):
    ...
    ValueError: (spacy-knowcoder) [E255] Invalid data construction setting 'seed': ...
"""
from dataclasses import dataclass, fields, replace
from typing import Tuple

from spacy_knowcoder.corpora.catalog import CATALOG
from spacy_knowcoder.errors import Errors
from spacy_knowcoder.tasks import TASKS

HELD_OUT: Tuple[str, ...] = tuple(name for name, info in CATALOG.items() if info.held_out)
WIKIDATA_SETS: Tuple[str, ...] = ("rebel_sample", "fewrel", "re_docred")


@dataclass(frozen=True)
class DataSettings:
    """How much and which training data to build (all fields flat and typed).

    seed (int): Seed of every random choice; same seed -> byte-identical files.
    tasks (Tuple[str, ...]): SFT tasks to build.
    held_out (Tuple[str, ...]): Datasets never used for training.
    languages (Tuple[str, ...]): Languages (ISO 639-1) whose datasets train
        and whose held-out sets are written for evaluation: ("en",) for the
        English profiles, more for a multilingual (KnowCoder-X) one. Datasets
        of ``HELD_OUT_LANGUAGES`` are held out whatever is listed here.
    sft_datasets (Tuple[str, ...]): SFT sources; empty = every catalog dataset
        in ``languages`` that is not held out.
    train_splits (str): "train": each dataset's train split; "all": every split
        but its evaluation split (all of a single-file dataset).
    sft_per_dataset_task (int): Max SFT samples per (dataset, task); 0 = no cap.
    re_per_dataset (int): Max RE samples per dataset instead of
        ``sft_per_dataset_task`` (fewer datasets have relations than entities);
        0 = use ``sft_per_dataset_task``.
    dataset_caps (Tuple[str, ...]): "name:count" entries that replace the cap of
        every task of one dataset (to weight a many-type set such as
        ``pile_ner_types`` up in the mix).
    max_text_chars (int): Only texts up to this length; 0 = no limit.
    max_sample_chars (int): Skip SFT samples longer than this (prompt + response); 0 = no limit.
    max_description_chars (int): Cut class descriptions to their first sentence
        within this length; 0 = keep them whole.
    ner_candidates (int): Candidate entity classes per NER prompt (gold included).
    re_candidates (int): Candidate relation classes per RE prompt.
    ed_candidates_min / ed_candidates_max (int): Candidate event classes per ED prompt.
    negative_share (float): Share of NER/RE/ED prompts whose candidates exclude
        every gold class, so the answer is ``results = []``.
    gold_dropout (float): Chance that each gold class of a NER/RE/ED prompt is
        left out of its candidates (the answer keeps only listed classes).
    name_swap (float): Chance that a NER candidate list of two or more classes
        has its class names moved among its classes (every class gets another's
        name, the definitions stay), so that only the docstring tells which
        class a mention belongs to (``following.swap_names``).
    name_mask (float): Chance that a NER candidate list of two or more classes
        (not already name-swapped) shows neutral class names (``EntityA``...,
        letters in random order) instead of its own, so that only the docstring
        tells the classes apart (``following.mask_names``; GoLLIE's masking).
    per_class (float): Share of NER candidate lists rendered one class per
        prompt (``following.per_class_samples``): each listed class that occurs
        in the group asks about the records that hold it and as many that do
        not (answer ``results = []``), and some listed absent classes ask about
        one record each, so about half the answers are empty (UniversalNER's
        one-type queries with absent types). 0 keeps every list whole.
    negatives (str): How absent classes are drawn: "uniform", or "frequency"
        (by how often each class occurs in the dataset's records, so frequent
        classes are often listed without occurring).
    chunk_chars (int): Cut entity-only texts longer than this at sentence ends
        (``training/data/chunks.py``); 0 = keep texts whole.
    schema_group_size (int): Records of a dataset and task per candidate list:
        1 draws candidates per prompt (KnowCoder's recipe); N > 1 gives groups of
        up to N consecutive records one shared list (their gold classes plus
        negatives), so their prompts share the class-definition prefix and SFT
        computes it once per group (``[sft] share_prefix``).
    instance_datasets (Tuple[str, ...]): Sources of schema instance code.
    instances_per_dataset (int): Max instance documents per (dataset, kind); 0 = no cap.
    definition_docs (int): Max schema definition documents; 0 = no cap.
    classes_per_definition (int): Classes rendered per definition document.
    quoting (str): Sentence quoting of the prompts ("python" or "reference").
    eval_limit (int): Records per held-out dataset written for evaluation; 0 = all.
    dev_limit (int): Records per development set (``dev/``: the evaluation split
        of each training dataset that the profile does not train on), for tuning
        inference settings without touching the held-out sets; 0 = none written.
    """

    seed: int = 0
    tasks: Tuple[str, ...] = TASKS
    held_out: Tuple[str, ...] = HELD_OUT
    languages: Tuple[str, ...] = ("en",)
    sft_datasets: Tuple[str, ...] = ()
    train_splits: str = "train"
    sft_per_dataset_task: int = 30
    re_per_dataset: int = 0
    dataset_caps: Tuple[str, ...] = ()
    max_text_chars: int = 200
    max_sample_chars: int = 1500
    max_description_chars: int = 80
    ner_candidates: int = 3
    re_candidates: int = 2
    ed_candidates_min: int = 2
    ed_candidates_max: int = 3
    negative_share: float = 0.15
    gold_dropout: float = 0.0
    name_swap: float = 0.0
    name_mask: float = 0.0
    per_class: float = 0.0
    negatives: str = "uniform"
    chunk_chars: int = 0
    schema_group_size: int = 1
    instance_datasets: Tuple[str, ...] = WIKIDATA_SETS
    instances_per_dataset: int = 60
    definition_docs: int = 120
    classes_per_definition: int = 3
    quoting: str = "python"
    eval_limit: int = 100
    dev_limit: int = 50

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                _bad(f.name, "a number >= 0", value)
        for name in ("negative_share", "gold_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                _bad(name, "a share in [0, 1)", getattr(self, name))
        for name in ("name_swap", "name_mask", "per_class"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                _bad(name, "a share in [0, 1]", getattr(self, name))
        if self.negatives not in ("uniform", "frequency"):
            _bad("negatives", "'uniform' or 'frequency'", self.negatives)
        for name in ("ner_candidates", "re_candidates", "ed_candidates_min",
                     "classes_per_definition", "schema_group_size"):
            if getattr(self, name) < 1:
                _bad(name, "at least 1", getattr(self, name))
        if self.ed_candidates_max < self.ed_candidates_min:
            _bad("ed_candidates_max", f">= ed_candidates_min ({self.ed_candidates_min})",
                 self.ed_candidates_max)
        for task in self.tasks:
            if task not in TASKS:
                _bad("tasks", f"a subset of {TASKS}", self.tasks)
        for name in self.held_out + self.sft_datasets + self.instance_datasets:
            if name not in CATALOG:
                _bad("held_out/sft_datasets/instance_datasets",
                     f"catalog names ({', '.join(CATALOG)})", name)
        known = sorted({info.language for info in CATALOG.values()})
        if not self.languages or not set(self.languages) <= set(known):
            _bad("languages", f"language codes of catalog datasets ({', '.join(known)})",
                 self.languages)
        for entry in self.dataset_caps:
            name, _, count = entry.partition(":")
            if name not in CATALOG or not count.isdigit():
                _bad("dataset_caps", "'name:count' entries with catalog names", entry)
        if self.train_splits not in ("train", "all"):
            _bad("train_splits", "'train' or 'all'", self.train_splits)
        if self.quoting not in ("python", "reference"):
            _bad("quoting", "'python' or 'reference'", self.quoting)

    def cap_of(self, dataset: str, task: str) -> int:
        """The most SFT samples of ``task`` from ``dataset`` (0: no cap).

        Example:
            >>> DataSettings(dataset_caps=("wnut17:7",)).cap_of("wnut17", "ner")
            7
        """
        known = sorted({info.language for info in CATALOG.values()})
        if not self.languages or not set(self.languages) <= set(known):
            _bad("languages", f"language codes of catalog datasets ({', '.join(known)})",
                 self.languages)
        for entry in self.dataset_caps:
            name, _, count = entry.partition(":")
            if name == dataset:
                return int(count)
        if task == "re" and self.re_per_dataset:
            return self.re_per_dataset
        return self.sft_per_dataset_task

    @classmethod
    def gpu(cls, **overrides: object) -> "DataSettings":
        """The reference-sized profile: all records, reference candidate counts."""
        big = cls(sft_per_dataset_task=0, re_per_dataset=0, max_text_chars=0, max_sample_chars=0,
                  max_description_chars=0, ner_candidates=16, re_candidates=8,
                  ed_candidates_min=3, ed_candidates_max=4, instances_per_dataset=0,
                  definition_docs=0, classes_per_definition=8, eval_limit=0)
        return replace(big, **overrides)  # type: ignore[arg-type]


def _bad(name: str, expected: str, value: object) -> None:
    raise ValueError(Errors.E255.format(name=name, expected=expected, value=value))
