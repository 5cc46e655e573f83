"""The one place that picks a dtype: bf16 where the CPU computes it natively."""
import warnings
from pathlib import Path

import pytest
import torch

from spacy_knowcoder import precision
from spacy_knowcoder.precision import (
    CPU_BF16_ENV,
    cpu_flags,
    cpu_supports_bf16,
    resolve_dtype,
)

AMX_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu vme sse avx2 avx512f avx512bw amx_bf16 amx_tile amx_int8
"""
OLD_AVX512_CPUINFO = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw avx512vl\n"
ARM_CPUINFO = "processor\t: 0\nFeatures\t: fp asimd bf16\n"


@pytest.fixture
def fresh(monkeypatch):
    """No override, a fresh CPU check and a fresh once-per-process flag."""
    monkeypatch.delenv(CPU_BF16_ENV, raising=False)
    monkeypatch.setattr(precision, "_warned_float32", False)
    precision._detect_native_bf16.cache_clear()
    yield monkeypatch
    precision._detect_native_bf16.cache_clear()


@pytest.mark.parametrize("text,expected", [
    (AMX_CPUINFO, True), (OLD_AVX512_CPUINFO, False), (ARM_CPUINFO, None)])
def test_cpu_flags_from_cpuinfo(tmp_path: Path, text: str, expected) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    flags = cpu_flags(path)
    if expected is None:
        assert flags is None  # no x86 flags line: torch's checks decide
    else:
        assert bool(flags & precision.NATIVE_BF16_FLAGS) is expected


def test_detection_agrees_with_this_machine(fresh) -> None:
    flags = cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo flags here")
    assert cpu_supports_bf16() is bool({"amx_bf16", "avx512_bf16"} & flags)


@pytest.mark.parametrize("value,expected", [("1", True), ("0", False), ("true", True),
                                            ("off", False)])
def test_env_override(fresh, value: str, expected: bool) -> None:
    fresh.setenv(CPU_BF16_ENV, value)
    assert cpu_supports_bf16() is expected


def test_bad_env_override_is_e111(fresh) -> None:
    fresh.setenv(CPU_BF16_ENV, "maybe")
    with pytest.raises(ValueError, match=r"\[E111\].*KNOWCODER_CPU_BF16"):
        cpu_supports_bf16()


@pytest.mark.parametrize("setting", ["float32", "bfloat16", "float16"])
def test_explicit_setting_wins_everywhere(fresh, setting: str) -> None:
    fresh.setenv(CPU_BF16_ENV, "0")
    for device in ("cpu", "cuda", "mps"):
        assert resolve_dtype(setting, device) is getattr(torch, setting)


def test_auto_is_bf16_on_a_native_bf16_cpu(fresh) -> None:
    fresh.setenv(CPU_BF16_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_dtype("auto", "cpu") is torch.bfloat16


def test_auto_falls_back_to_float32_with_one_notice(fresh) -> None:
    fresh.setenv(CPU_BF16_ENV, "0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dtypes = [resolve_dtype("auto", "cpu") for _ in range(3)]
    assert dtypes == [torch.float32] * 3
    notices = [w for w in caught if "[W101]" in str(w.message)]
    assert len(notices) == 1
    assert "KNOWCODER_CPU_BF16=1" in str(notices[0].message)
    assert "\n" not in str(notices[0].message)


def test_auto_on_other_devices_has_no_cpu_notice(fresh) -> None:
    fresh.setenv(CPU_BF16_ENV, "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_dtype("auto", "mps") is torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_on_cuda() -> None:
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert resolve_dtype("auto", "cuda") is expected


def test_unknown_setting_is_e104() -> None:
    with pytest.raises(ValueError, match=r"\[E104\].*dtype"):
        resolve_dtype("float64", "cpu")


def test_the_hf_backend_uses_this_decision() -> None:
    from spacy_knowcoder.generation import sources

    assert sources.resolve_dtype is resolve_dtype  # one definition, imported by the loader
