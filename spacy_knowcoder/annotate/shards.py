"""Annotate a corpus into DocBin shards that survive a kill (``knowcoder annotate``).

The documents of the input (``inputs.read_inputs``) are cut into shards of
``shard_size`` in input order; shard ``k`` holds documents ``k * shard_size``
to ``(k + 1) * shard_size - 1`` and goes to ``shard-0000k.spacy``
(``DocBin(store_user_data=True)``: entities, ``doc._.relations``,
``doc._.events`` and each input's ``id`` and ``meta`` in ``doc.user_data``).
Each shard file is written atomically, then recorded in ``manifest.json``
(also written atomically): so a killed run leaves complete shards only, and a
second run skips the recorded ones and annotates the rest. Shards are cut at
the same places every time, so the output equals an uninterrupted run's.

The manifest says what the folder is: the input's and the pipeline's
fingerprints and the shard size (a second run with others is refused, E467),
the shards done with their document counts, the document counts of input and
output, and the parts of the input that could not be read (``bad_inputs``).

Example:
    >>> manifest = annotate_corpus(nlp, "corpus.jsonl", "out/", shard_size=1000)  # doctest: +SKIP
    >>> manifest["docs"]  # doctest: +SKIP
    {'input': 2000, 'annotated': 2000}
"""
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..errors import Errors, Warnings, warn
from ..fileio import file_sha256, write_bytes, write_json
from .inputs import BadInput, InputDoc, input_files, read_inputs

PathLike = Union[str, Path]
MANIFEST = "manifest.json"
FORMAT = 1
#: ``doc.user_data`` keys of an input record's id and its other fields.
ID_KEY = "id"
META_KEY = "meta"


def shard_name(index: int) -> str:
    """The file of shard ``index``.

    Example:
        >>> shard_name(3)
        'shard-00003.spacy'
    """
    return f"shard-{index:05d}.spacy"


def input_fingerprint(path: PathLike, text_key: str = "text", id_key: str = "id") -> str:
    """sha256 over the input's file names and contents and how records are read."""
    root = Path(path)
    digest = hashlib.sha256(json.dumps([text_key, id_key]).encode())
    for file in input_files(root):
        name = file.name if root.is_file() else file.relative_to(root).as_posix()
        digest.update(f"{name}\0{file_sha256(file)}\0".encode())
    return digest.hexdigest()


def pipeline_fingerprint(nlp: Language) -> str:
    """sha256 over the pipeline's config and its components' data (schema, library)."""
    digest = hashlib.sha256(nlp.config.to_str().encode())
    for name, pipe in nlp.pipeline:
        to_bytes = getattr(pipe, "to_bytes", None)
        if callable(to_bytes):
            digest.update(name.encode() + b"\0" + to_bytes())
    return digest.hexdigest()


@dataclass
class ShardResult:
    """What a runner gives back for one shard.

    index (int): The shard's index (``shard_name(index)``).
    data (bytes): The annotated docs as DocBin bytes (empty when it failed).
    seconds (float): Time spent annotating it.
    error (str): Why it failed; empty when it did not.
    """

    index: int
    data: bytes
    seconds: float
    error: str = ""


#: Annotates pending shards (index, documents) and yields their results, in any order.
ShardRunner = Callable[[Iterator[Tuple[int, List[InputDoc]]]], Iterator[ShardResult]]


def annotate_corpus(nlp: Language, input_path: PathLike, output_dir: PathLike, *,
                    shard_size: int = 1000, batch_size: Optional[int] = None,
                    text_key: str = "text", id_key: str = "id",
                    progress: bool = True) -> Dict[str, Any]:
    """Annotate every document of ``input_path`` into shards in ``output_dir``.

    nlp (Language): The pipeline.
    input_path (PathLike): A ``.jsonl``, ``.spacy`` or text file, or a folder of them.
    output_dir (PathLike): Where the shards and ``manifest.json`` go.
    shard_size (int): Documents per shard.
    batch_size (Optional[int]): ``nlp.pipe`` batch size (default: spaCy's).
    text_key / id_key (str): The JSONL fields of the text and the id.
    progress (bool): Show a progress bar (docs/s and the time left).
    RETURNS (Dict[str, Any]): The final manifest.
    RAISES: ValueError (E467) when ``output_dir`` holds another run's shards;
        RuntimeError (E468) when a shard fails (finished shards are kept).
    """
    check_counts(shard_size=shard_size, batch_size=batch_size)

    def run_here(pending: Iterator[Tuple[int, List[InputDoc]]]) -> Iterator[ShardResult]:
        for index, items in pending:
            started = time.perf_counter()
            try:
                data = annotate_shard(nlp, items, batch_size)
            except Exception as err:
                yield ShardResult(index, b"", 0.0, f"{type(err).__name__}: {err}")
                return
            yield ShardResult(index, data, time.perf_counter() - started)

    return run_sharded(pipeline_fingerprint(nlp), input_path, output_dir, run_here,
                       shard_size=shard_size, text_key=text_key, id_key=id_key,
                       progress=progress)


def run_sharded(pipeline_id: str, input_path: PathLike, output_dir: PathLike,
                runner: ShardRunner, *, shard_size: int = 1000, text_key: str = "text",
                id_key: str = "id", progress: bool = True) -> Dict[str, Any]:
    """Cut the input into shards, let ``runner`` annotate those not done, keep the manifest.

    The one home of the manifest, the shard cuts and the atomic writes: the
    local ``annotate_corpus`` and ``distributed.annotate_with_ray`` differ only
    in their runner. Results may arrive in any order; each is written and
    recorded as it comes, and the first failed one stops the run (E468).

    pipeline_id (str): The pipeline's fingerprint (``pipeline_fingerprint``).
    runner (ShardRunner): Annotates pending shards.
    RETURNS (Dict[str, Any]): The final manifest.
    """
    folder = Path(output_dir)
    run = {"format": FORMAT, "shard_size": shard_size, "text_key": text_key, "id_key": id_key,
           "input_fingerprint": input_fingerprint(input_path, text_key, id_key),
           "pipeline_fingerprint": pipeline_id}
    manifest = _open_manifest(folder, run, str(input_path))
    total, bad = _count(input_path, text_key, id_key)
    manifest["bad_inputs"] = [b.to_dict() for b in bad]
    manifest["docs"] = {"input": total, "annotated": _annotated(manifest)}
    write_json(folder / MANIFEST, manifest)
    if bad:
        warn(Warnings.W452.format(count=len(bad), where=bad[0].where, reason=bad[0].reason,
                                  manifest=folder / MANIFEST))
    from tqdm import tqdm

    pending_items: Dict[int, List[InputDoc]] = {}

    def pending() -> Iterator[Tuple[int, List[InputDoc]]]:
        for index, items in _shards(read_inputs(input_path, text_key, id_key), shard_size):
            if shard_name(index) not in manifest["shards"]:
                pending_items[index] = items
                yield index, items

    with tqdm(total=total, initial=_annotated(manifest), unit="doc", desc="knowcoder annotate",
              disable=not progress, smoothing=0.1) as bar:
        for result in runner(pending()):
            items = pending_items.pop(result.index)
            name = shard_name(result.index)
            error = result.error
            if not error:
                try:
                    write_bytes(folder / name, result.data)
                except Exception as err:
                    error = f"{type(err).__name__}: {err}"
            if error:
                manifest["errors"].append({"shard": name, "reason": error})
                write_json(folder / MANIFEST, manifest)
                raise RuntimeError(Errors.E468.format(
                    shard=name, folder=folder, done=len(manifest["shards"]), reason=error))
            manifest["shards"][name] = {
                "docs": len(items), "first_id": items[0].id, "last_id": items[-1].id,
                "seconds": round(result.seconds, 2)}
            manifest["docs"]["annotated"] = _annotated(manifest)
            write_json(folder / MANIFEST, manifest)
            bar.update(len(items))
    manifest["complete"] = manifest["docs"]["annotated"] == total
    write_json(folder / MANIFEST, manifest)
    return manifest


def read_shards(output_dir: PathLike, nlp_or_vocab: Any) -> Iterator[Doc]:
    """The annotated docs of a finished folder, in input order (shards of the manifest).

    Example:
        >>> docs = list(read_shards("out/", nlp))  # doctest: +SKIP
        >>> docs[0].user_data["id"], docs[0]._.relations  # doctest: +SKIP
    """
    from ..extensions import register_extensions

    register_extensions()
    folder = Path(output_dir)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    vocab = getattr(nlp_or_vocab, "vocab", nlp_or_vocab)
    for name in sorted(manifest["shards"]):
        yield from DocBin().from_disk(folder / name).get_docs(vocab)


def _open_manifest(folder: Path, run: Dict[str, Any], source: str) -> Dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        return {**run, "input": source, "shards": {}, "errors": [], "complete": False}
    for stale in folder.glob(".*.part"):  # a write cut short by a kill
        stale.unlink()
    saved = json.loads(path.read_text(encoding="utf-8"))
    for key in ("format", "shard_size", "text_key", "id_key", "input_fingerprint",
                "pipeline_fingerprint"):
        if saved.get(key) != run[key]:
            raise ValueError(Errors.E467.format(folder=folder, what=key.replace("_", " "),
                                                saved=saved.get(key), now=run[key]))
    # A shard recorded but whose file is gone (deleted by hand) is annotated again.
    saved["shards"] = {name: entry for name, entry in saved["shards"].items()
                       if (folder / name).is_file()}
    saved.setdefault("errors", [])
    return saved


def _count(input_path: PathLike, text_key: str, id_key: str) -> Tuple[int, List[BadInput]]:
    total, bad = 0, []
    for item in read_inputs(input_path, text_key, id_key):
        if isinstance(item, BadInput):
            bad.append(item)
        else:
            total += 1
    return total, bad


def check_counts(**settings: Optional[int]) -> None:
    """E469 for a setting that is not an integer >= 1 (``None`` means its default)."""
    for name, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(Errors.E469.format(name=name, value=value))


def _annotated(manifest: Dict[str, Any]) -> int:
    return sum(entry["docs"] for entry in manifest["shards"].values())


def _shards(items: Iterator[Any], size: int) -> Iterator[Tuple[int, List[InputDoc]]]:
    shard: List[InputDoc] = []
    index = 0
    for item in items:
        if isinstance(item, BadInput):
            continue
        shard.append(item)
        if len(shard) == size:
            yield index, shard
            shard, index = [], index + 1
    if shard:
        yield index, shard


def annotate_shard(nlp: Language, items: List[InputDoc],
                   batch_size: Optional[int] = None) -> bytes:
    """Annotate one shard's documents; the DocBin bytes of its file.

    The unit every runner calls (here, on Ray actors, in a Spark pandas UDF):
    ids go to ``doc.user_data["id"]``, other fields to ``doc.user_data["meta"]``.

    Example:
        >>> data = annotate_shard(nlp, [InputDoc("a", "Ann met Bob.")])  # doctest: +SKIP
        >>> DocBin().from_bytes(data).get_docs(nlp.vocab)  # doctest: +SKIP
    """
    docs = []
    for item in items:
        doc = (Doc(nlp.vocab).from_bytes(item.doc_bytes) if item.doc_bytes is not None
               else nlp.make_doc(item.text))
        doc.user_data[ID_KEY] = item.id
        if item.meta:
            doc.user_data[META_KEY] = item.meta
        docs.append(doc)
    kwargs = {"batch_size": batch_size} if batch_size else {}
    annotated = list(nlp.pipe(docs, **kwargs))
    return DocBin(store_user_data=True, docs=annotated).to_bytes()
