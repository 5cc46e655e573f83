"""Build all training data: SFT samples, pretraining documents and held-out eval sets.

Output folder::

    sft.jsonl            {"prompt", "response", "task", "dataset"}
    sft.stats.json
    pretrain.jsonl       {"text", "kind": "definition"|"instance", "source"}
    pretrain.stats.json
    heldout/<name>.jsonl benchmark records (DESIGN §5) of each held-out dataset
    heldout/manifest.json  dataset, split, file, label file and tasks of each
    dev/<name>.jsonl     development records: the evaluation split of each
                         training dataset that no sample was drawn from
    dev/manifest.json    the same fields as heldout/manifest.json
    settings.json        the DataSettings used

Everything depends only on the settings (seed included) and the raw data:
the same seed gives byte-identical files.

Example:
    >>> result = build_training_data(DataSettings(), "../shared/data", "training/data-out")  # doctest: +SKIP
    >>> result.sft_count  # doctest: +SKIP
    412
"""
import warnings
from functools import lru_cache
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spacy_knowcoder.corpora.catalog import (CATALOG, get_dataset, label_file, read_dataset,
                                             type_definitions)
from spacy_knowcoder.errors import Warnings
from spacy_knowcoder.fileio import write_json, write_jsonl
from spacy_knowcoder.schema import Schema, schema_from_dict
from spacy_knowcoder.schema.library import SchemaLibrary

from .chunks import split_record
from .decontaminate import HeldOutIndex
from .following import task_samples
from .sampling import rng_for, sample_records
from .schemas import dataset_schema, load_labels, shorten
from .settings import WIKIDATA_SETS, DataSettings
from .stats import pretrain_stats, sft_stats
from .understanding import definition_documents, instance_document

Record = Dict[str, Any]
HAS_GOLD = {"ner": "entities", "re": "relations", "ed": "events", "eae": "events"}


@dataclass(frozen=True)
class BuildResult:
    """Where the data went and how much there is."""

    sft_path: Path
    pretrain_path: Path
    heldout_manifest: Path
    dev_manifest: Path
    sft_count: int
    pretrain_count: int


def build_training_data(settings: DataSettings, data_root: "str | Path",
                        output_dir: "str | Path",
                        schema_library: "Optional[Schema | SchemaLibrary]" = None,
                        labels_dir: Optional[Path] = None) -> BuildResult:
    """Construct the training data of both phases (DESIGN §7).

    settings (DataSettings): What to build; the seed fixes every choice.
    data_root (str | Path): Folder with the raw dataset folders (../shared/data).
    output_dir (str | Path): Folder to write to (created).
    schema_library (Optional[Schema | SchemaLibrary]): Classes for the
        definition documents; default: the Wikidata-aligned datasets' own labels.
        From a library, the classes that only a held-out dataset's ontology
        contributed are left out (:func:`training_library`).
    labels_dir (Optional[Path]): Folder of label files (default: the packaged ones).
    RETURNS (BuildResult): Paths and counts.
    """
    out = Path(output_dir)
    if isinstance(schema_library, SchemaLibrary):
        schema_library = training_library(schema_library, settings)
    cache: Dict[str, Tuple[List[Record], Schema]] = {}
    sft = build_sft(settings, data_root, cache, labels_dir)
    pretrain = build_pretraining(settings, data_root, cache, schema_library, labels_dir)
    write_jsonl(out / "sft.jsonl", sft)
    write_json(out / "sft.stats.json", sft_stats(sft))
    write_jsonl(out / "pretrain.jsonl", pretrain)
    write_json(out / "pretrain.stats.json", pretrain_stats(pretrain))
    manifest = write_heldout(settings, data_root, out / "heldout", labels_dir)
    dev = write_dev(settings, data_root, out / "dev", labels_dir)
    write_json(out / "settings.json", asdict(settings))
    return BuildResult(out / "sft.jsonl", out / "pretrain.jsonl", manifest, dev, len(sft),
                       len(pretrain))


def training_library(library: SchemaLibrary, settings: DataSettings) -> Schema:
    """The library's classes without those that only held-out ontologies contributed.

    The library builder reads some datasets' own ontology files (WikiEvents'
    KAIROS roles); a class whose every source is the ontology of a held-out
    dataset would teach the model the schema it is evaluated on as unseen.

    Example:
        >>> from spacy_knowcoder.schema.library import LibraryClass
        >>> lib = SchemaLibrary([LibraryClass("event", "kairos:Die", "Die", sources=("kairos",)),
        ...                      LibraryClass("event", "geneva:Die", "Dying", sources=("geneva",))])
        >>> [t.label for t in training_library(lib, DataSettings()).events]
        ['Dying']
    """
    held = {get_dataset(name).ontology for name in settings.held_out} - {""}
    return library.to_schema(cls.key for cls in library
                             if not (cls.sources and set(cls.sources) <= held))


def training_records(name: str, settings: DataSettings, data_root: "str | Path",
                     cache: Dict[str, Tuple[List[Record], Schema]],
                     labels_dir: Optional[Path] = None) -> Tuple[List[Record], Schema]:
    """The training records of a dataset (short texts only) and its schema."""
    if name not in cache:
        records = [chunk for split in training_splits(name, settings)
                   for r in read_dataset(name, split, data_root)
                   for chunk in split_record(r, settings.chunk_chars)]
        records = _decontaminated(name, records, settings, data_root)
        schema = dataset_schema(name, records, labels_dir=labels_dir,
                                max_description_chars=settings.max_description_chars,
                                definitions=type_definitions(name, data_root))
        limit = settings.max_text_chars
        cache[name] = ([r for r in records if not limit or len(r["text"]) <= limit], schema)
    return cache[name]


def _decontaminated(name: str, records: List[Record], settings: DataSettings,
                    data_root: "str | Path") -> List[Record]:
    """``records`` without those that contain a held-out text (W252 says how many)."""
    index = held_out_index(settings.held_out, str(Path(data_root).resolve()))
    kept = [r for r in records if not index.contains(r["text"])]
    if len(kept) < len(records):
        warnings.warn(Warnings.W252.format(count=len(records) - len(kept), dataset=name,
                                           held_out=", ".join(settings.held_out)))
    return kept


@lru_cache(maxsize=2)
def held_out_index(held_out: Tuple[str, ...], data_root: str) -> HeldOutIndex:
    """Every text of every split of the held-out sets, indexed."""
    return HeldOutIndex(r["text"] for name in held_out for split in get_dataset(name).splits
                        for r in read_dataset(name, split, data_root))


def training_splits(name: str, settings: DataSettings) -> List[str]:
    """The splits a dataset trains on: its train split, or (``train_splits =
    "all"``) every split but the evaluation split (every split where the two
    are one file, as for FewRel's val_wiki).

    Example:
        >>> training_splits("multiconer2_en", DataSettings(train_splits="all"))
        ['train', 'train10']
        >>> training_splits("fewrel", DataSettings(train_splits="all"))
        ['val_wiki', 'val_pubmed']
    """
    info = get_dataset(name)
    if settings.train_splits == "train":
        return [info.train_split]
    if info.train_split == info.eval_split:
        return list(info.splits)
    return [split for split in info.splits if split != info.eval_split]


def sft_sources(settings: DataSettings) -> List[str]:
    """Datasets used for SFT: the chosen ones (or all in the settings' languages)
    minus the held-out ones.

    Example:
        >>> "universal_ner_zh" in sft_sources(DataSettings())
        False
        >>> "universal_ner_zh" in sft_sources(DataSettings(languages=("en", "zh")))
        True
    """
    names = settings.sft_datasets or tuple(
        name for name, info in CATALOG.items() if info.language in settings.languages)
    return [n for n in names if n not in settings.held_out]


def build_sft(settings: DataSettings, data_root: "str | Path",
              cache: Dict[str, Tuple[List[Record], Schema]],
              labels_dir: Optional[Path] = None) -> List[Dict[str, Any]]:
    """All SFT samples, shuffled with the seed."""
    samples: List[Dict[str, Any]] = []
    for name in sft_sources(settings):
        tasks = _tasks_of(name, settings)
        if not tasks:
            continue
        records, schema = training_records(name, settings, data_root, cache, labels_dir)
        for task in tasks:
            rng = rng_for(settings.seed, "sft", name, task)
            pool = sample_records(rng, [r for r in records if r[HAS_GOLD[task]]], 0)
            cap = settings.cap_of(name, task)
            kept = _capped(task_samples(task, pool, schema, name, rng, settings), settings,
                           cap, f"{name}/{task}")
            samples.extend(kept)
    rng_for(settings.seed, "sft-order").shuffle(samples)
    return samples


def _tasks_of(name: str, settings: DataSettings) -> List[str]:
    return [task for task in get_dataset(name).tasks if task in settings.tasks]


def _capped(samples: Iterable[Dict[str, Any]], settings: DataSettings,
            cap: int, where: str) -> List[Dict[str, Any]]:
    """At most ``cap`` samples no longer than ``max_sample_chars`` (W251 if none is)."""
    kept: List[Dict[str, Any]] = []
    too_long = 0
    for sample in samples:
        size = len(sample["prompt"]) + len(sample["response"])
        if settings.max_sample_chars and size > settings.max_sample_chars:
            too_long += 1
            continue
        kept.append(sample)
        if cap and len(kept) >= cap:
            break
    if too_long and not kept:
        dataset, task = where.split("/")
        warnings.warn(Warnings.W251.format(count=too_long, task=task.upper(), dataset=dataset,
                                         limit=settings.max_sample_chars))
    return kept


def build_pretraining(settings: DataSettings, data_root: "str | Path",
                      cache: Dict[str, Tuple[List[Record], Schema]],
                      schema_library: Optional[Schema] = None,
                      labels_dir: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Definition and instance documents, shuffled with the seed."""
    library = schema_library or wikidata_schema(settings, labels_dir)
    rng = rng_for(settings.seed, "definitions")
    docs = [{"text": text, "kind": "definition", "source": "schema_library"}
            for text in definition_documents(library, rng, settings.classes_per_definition,
                                             settings.definition_docs)]
    for name in settings.instance_datasets:
        if name in settings.held_out:
            continue
        records, schema = training_records(name, settings, data_root, cache, labels_dir)
        for task in ("ner", "re", "eae"):
            rng = rng_for(settings.seed, "instances", name, task)
            pool = sample_records(rng, [r for r in records if r[HAS_GOLD[task]]], 0)
            texts = (instance_document(task, r, schema) for r in pool)
            kept = [t for t in texts if t is not None]
            cap = settings.instances_per_dataset
            docs.extend({"text": t, "kind": "instance", "source": name}
                        for t in (kept[:cap] if cap else kept))
    rng_for(settings.seed, "pretrain-order").shuffle(docs)
    return docs


def wikidata_schema(settings: DataSettings, labels_dir: Optional[Path] = None) -> Schema:
    """A fallback library: the labels of the Wikidata-aligned datasets, merged by label."""
    merged: Dict[str, Dict[str, str]] = {"entities": {}, "relations": {}}
    for name in WIKIDATA_SETS:
        labels = load_labels(name, labels_dir)
        for section, key in (("entities", "entity_labels"), ("relations", "relation_labels")):
            for label, description in (labels.get(key) or {}).items():
                merged[section].setdefault(label, shorten(description,
                                                          settings.max_description_chars))
    return schema_from_dict(merged)


def write_heldout(settings: DataSettings, data_root: "str | Path", folder: Path,
                  labels_dir: Optional[Path] = None) -> Path:
    """Benchmark JSONL of each held-out dataset's eval split, plus a manifest."""
    names = [n for n in settings.held_out if get_dataset(n).language in settings.languages]
    return _write_eval_sets(names, settings.eval_limit, data_root, folder, labels_dir)


def dev_sources(settings: DataSettings) -> List[str]:
    """The training datasets with an evaluation split that trains nothing.

    These are the development sets: in-domain data the model never saw, on which
    inference settings (a threshold, ``close_penalty``) may be tuned, since the
    held-out sets may not be.

    Example:
        >>> "multiconer2_en" in dev_sources(DataSettings(train_splits="all"))
        True
        >>> "wikigold" in dev_sources(DataSettings(train_splits="all"))  # one split, trained
        False
    """
    return [name for name in sft_sources(settings)
            if get_dataset(name).eval_split not in training_splits(name, settings)]


def write_dev(settings: DataSettings, data_root: "str | Path", folder: Path,
              labels_dir: Optional[Path] = None) -> Path:
    """Benchmark JSONL of each development set (``dev_sources``), plus a manifest."""
    names = dev_sources(settings) if settings.dev_limit else []
    return _write_eval_sets(names, settings.dev_limit, data_root, folder, labels_dir)


def _write_eval_sets(names: List[str], limit: int, data_root: "str | Path", folder: Path,
                     labels_dir: Optional[Path]) -> Path:
    entries = []
    for name in names:
        info = get_dataset(name)
        count = write_jsonl(folder / f"{name}.jsonl",
                            read_dataset(name, info.eval_split, data_root, limit=limit or None))
        entries.append({"dataset": name, "split": info.eval_split, "records": count,
                        "file": f"{name}.jsonl", "tasks": list(info.tasks),
                        "language": info.language,
                        "label_file": str(label_file(name, labels_dir)), "note": info.note})
    write_json(folder / "manifest.json", entries)
    return folder / "manifest.json"
