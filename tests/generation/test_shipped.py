"""Loading shipped models: the user cache, the base preparation, source warnings.

The full load (real base + real LoRA adapter) is in tests/test_component_shipped.py.
"""
import warnings
from pathlib import Path

import pytest

from spacy_knowcoder.generation import shipped, smollm2
from spacy_knowcoder.generation.shipped import HOME_ENV, base_dir, knowcoder_home, prepare_base
from spacy_knowcoder.models import ShippedModel


def test_home_and_base_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert knowcoder_home() == (tmp_path / "xdg" / "spacy-knowcoder").resolve()
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "kc"))
    assert base_dir("smollm2-135m") == (tmp_path / "kc" / "models" / "smollm2-135m").resolve()


def test_unknown_base_is_e116(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    with pytest.raises(ValueError, match=r"\[E116\].*'llama-9t'.*smollm2-135m"):
        prepare_base("llama-9t", "my-model")


@pytest.mark.model
def test_a_prepared_base_is_reused_without_work(smollm2_dir: Path, tmp_path: Path,
                                                monkeypatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    target = base_dir(smollm2.BASE_ID)
    target.parent.mkdir(parents=True)
    target.symlink_to(smollm2_dir.resolve(), target_is_directory=True)
    assert prepare_base(smollm2.BASE_ID) == target
    assert target.is_symlink()  # not converted again


@pytest.mark.model
def test_a_base_from_another_gguf_warns_w102(smollm2_dir: Path) -> None:
    marker = smollm2.read_marker(smollm2_dir)
    same = ShippedModel("m", Path("m"), "smollm2-135m", "f", base_source=marker["source"])
    other = ShippedModel("m", Path("m"), "smollm2-135m", "f",
                         base_source={**marker["source"], "sha256": "0" * 64})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shipped._warn_if_other_source(same, smollm2_dir)
        shipped._warn_if_other_source(ShippedModel("m", Path("m"), "b", "f"), smollm2_dir)
    with pytest.warns(UserWarning, match=r"\[W102\].*SmolLM2-135M-Instruct"):
        shipped._warn_if_other_source(other, smollm2_dir)
