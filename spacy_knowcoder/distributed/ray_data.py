"""``knowcoder annotate`` on a Ray cluster: the same shards, an actor pool of pipelines.

The driver reads the input and keeps the manifest exactly as ``knowcoder
annotate`` does (``annotate.shards.run_sharded``: same shard cuts, fingerprints,
atomic writes, resume after a kill); only the annotation of each pending shard
runs elsewhere, as a Ray Data ``map_batches`` over an actor pool. Each actor
loads the pipeline once (``spacy.load`` of a path or package every node can
read, with ``overrides``) and annotates whole shards with
``annotate.shards.annotate_shard``; the DocBin bytes come back to the driver,
which writes them, so only the driver needs the output folder.

The model either runs inside each actor (``cpus_per_actor`` threads each) or
is one served model that every actor calls: point the pipeline's model block at
the server (``overrides={"components.knowcoder.model": {"@llm_models":
"spacy_knowcoder.OpenAIModel.v1", "url": ...}}``), see docs/annotation.md.

Example:
    >>> import ray
    >>> ray.init(address="auto")  # doctest: +SKIP
    >>> manifest = annotate_with_ray("my_pipeline", "corpus.jsonl", "out/", actors=8)  # doctest: +SKIP
"""
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import srsly

from ..annotate.inputs import InputDoc
from ..annotate.shards import (ShardResult, annotate_shard, check_counts,
                               pipeline_fingerprint, run_sharded)
from ..errors import Errors

PathLike = Union[str, Path]


def annotate_with_ray(pipeline: PathLike, input_path: PathLike, output_dir: PathLike, *,
                      shard_size: int = 1000, batch_size: Optional[int] = None,
                      text_key: str = "text", id_key: str = "id", actors: int = 2,
                      cpus_per_actor: float = 1.0,
                      overrides: Optional[Dict[str, Any]] = None,
                      progress: bool = True) -> Dict[str, Any]:
    """Annotate ``input_path`` into shards in ``output_dir`` on a Ray actor pool.

    Uses the running Ray cluster (``ray.init(address=...)`` first), or starts a
    local one. The output and the manifest equal ``knowcoder annotate``'s with
    the same pipeline, input and ``shard_size``, and either can resume the other.

    pipeline (PathLike): A pipeline directory or installed package, readable on every node.
    input_path (PathLike): A ``.jsonl``, ``.spacy`` or text file, or a folder (read on the driver).
    output_dir (PathLike): Where the shards and ``manifest.json`` go (on the driver).
    shard_size (int): Documents per shard (the unit of work of an actor).
    batch_size (Optional[int]): ``nlp.pipe`` batch size inside an actor.
    text_key / id_key (str): The JSONL fields of the text and the id.
    actors (int): Pipelines in the pool (each loads the model once, unless it is served).
    cpus_per_actor (float): CPUs Ray reserves per actor; its torch threads
        (at least 1).
    overrides (Optional[Dict[str, Any]]): ``spacy.load`` config overrides, dot notation.
    progress (bool): Show the progress bar (docs/s and the time left).
    RETURNS (Dict[str, Any]): The final manifest.
    RAISES: ImportError (E470) without Ray Data; ValueError (E467, E469);
        RuntimeError (E468) when a shard fails (finished shards are kept).
    """
    check_counts(shard_size=shard_size, batch_size=batch_size, actors=actors)
    try:
        import ray
        from ray.data import DataContext
    except ImportError as err:
        raise ImportError(Errors.E470.format(reason=err)) from err
    import spacy

    settings = {"pipeline": str(pipeline), "overrides": dict(overrides or {}),
                "batch_size": batch_size, "threads": max(1, round(cpus_per_actor))}
    # Loading is cheap: the component loads its model on the first doc only.
    driver_nlp = spacy.load(settings["pipeline"], config=settings["overrides"])
    DataContext.get_current().enable_progress_bars = False

    def run_on_ray(pending: Iterator[Tuple[int, List[InputDoc]]]) -> Iterator[ShardResult]:
        rows = [{"index": index, "payload": _pack(items)} for index, items in pending]
        if not rows:
            return
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        annotated = dataset.map_batches(
            ShardAnnotator, fn_constructor_kwargs=settings, batch_size=1,
            concurrency=min(actors, len(rows)), num_cpus=cpus_per_actor)
        for row in annotated.iter_rows():
            yield ShardResult(int(row["index"]), bytes(row["data"]), float(row["seconds"]),
                              str(row["error"]))

    return run_sharded(pipeline_fingerprint(driver_nlp), input_path, output_dir, run_on_ray,
                       shard_size=shard_size, text_key=text_key, id_key=id_key,
                       progress=progress)


class ShardAnnotator:
    """A Ray Data actor: one loaded pipeline that annotates whole shards.

    Example:
        >>> annotator = ShardAnnotator("my_pipeline", {}, None, threads=2)  # doctest: +SKIP
        >>> annotator({"index": [0], "payload": [_pack(items)]})["error"]  # doctest: +SKIP
        ['']
    """

    def __init__(self, pipeline: str, overrides: Dict[str, Any],
                 batch_size: Optional[int], threads: int = 1) -> None:
        import spacy
        import torch

        # As many torch threads as CPUs Ray reserved (an inherited OMP_NUM_THREADS
        # would otherwise oversubscribe the node's cores).
        torch.set_num_threads(threads)
        self.nlp = spacy.load(pipeline, config=overrides)
        self.batch_size = batch_size

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        out: Dict[str, List[Any]] = {"index": [], "data": [], "seconds": [], "error": []}
        for index, payload in zip(batch["index"], batch["payload"]):
            started = time.perf_counter()
            try:
                data, error = annotate_shard(self.nlp, _unpack(payload), self.batch_size), ""
            except Exception as err:  # reported per shard; the driver stops the run (E468)
                data, error = b"", f"{type(err).__name__}: {err}"
            out["index"].append(int(index))
            out["data"].append(data)
            out["seconds"].append(time.perf_counter() - started)
            out["error"].append(error)
        return out


def _pack(items: List[InputDoc]) -> bytes:
    return srsly.msgpack_dumps([[i.id, i.text, i.meta, i.doc_bytes] for i in items])


def _unpack(payload: bytes) -> List[InputDoc]:
    return [InputDoc(id_, text, meta, doc_bytes)
            for id_, text, meta, doc_bytes in srsly.msgpack_loads(bytes(payload))]
