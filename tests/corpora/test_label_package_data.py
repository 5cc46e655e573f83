"""The label files (DESIGN §5) are package data: an installed wheel has them."""
from importlib.resources import files
from pathlib import Path

from spacy_knowcoder.corpora import CATALOG, label_file
from spacy_knowcoder.corpora.benchmark import read_label_file
from spacy_knowcoder.corpora.catalog import LABELS_DIR


def test_catalog_finds_every_label_file_in_the_package():
    packaged = Path(str(files("spacy_knowcoder.corpora") / "labels"))
    assert (packaged / "re3d.json").is_file()
    assert LABELS_DIR.resolve() == packaged.resolve()
    assert label_file("re3d").resolve() == (packaged / "re3d.json").resolve()
    for name in CATALOG:
        assert label_file(name).is_file(), name
        read_label_file(label_file(name))
    assert sorted(p.stem for p in packaged.glob("*.json")) == sorted(
        {info.label_stem for info in CATALOG.values()})


def test_label_file_takes_another_folder(tmp_path):
    assert label_file("re3d", tmp_path) == tmp_path / "re3d.json"


def test_built_wheel_contains_the_label_files(wheel_files):
    names = wheel_files
    expected = {f"spacy_knowcoder/corpora/labels/{info.label_stem}.json"
                for info in CATALOG.values()}
    assert expected <= names
