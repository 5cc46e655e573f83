"""The label files (DESIGN §5) are package data: an installed wheel has them."""
import shutil
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

from spacy_knowcoder.corpora import CATALOG, label_file
from spacy_knowcoder.corpora.benchmark import read_label_file
from spacy_knowcoder.corpora.catalog import LABELS_DIR

REPO = Path(__file__).resolve().parents[2]


def test_catalog_finds_every_label_file_in_the_package():
    packaged = Path(str(files("spacy_knowcoder.corpora") / "labels"))
    assert (packaged / "re3d.json").is_file()
    assert LABELS_DIR.resolve() == packaged.resolve()
    assert label_file("re3d").resolve() == (packaged / "re3d.json").resolve()
    for name in CATALOG:
        assert label_file(name).is_file(), name
        read_label_file(label_file(name))
    assert sorted(p.stem for p in packaged.glob("*.json")) == sorted(CATALOG)


def test_label_file_takes_another_folder(tmp_path):
    assert label_file("re3d", tmp_path) == tmp_path / "re3d.json"


def test_built_wheel_contains_the_label_files(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    # Build from a copy of the sources, so the checkout gets no build/ folder.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "out", "out-gpu")
    for name in ("spacy_knowcoder", "training"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", str(src), "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    wheel, = (tmp_path / "dist").glob("spacy_knowcoder-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"spacy_knowcoder/corpora/labels/{name}.json" for name in CATALOG}
    assert expected <= names
