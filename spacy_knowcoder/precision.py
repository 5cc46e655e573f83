"""One place that decides the torch dtype a model runs in.

``dtype = "auto"`` (the component's default) means: bfloat16 on a CPU that
multiplies bfloat16 matrices natively (Intel AMX ``amx_bf16`` or
``avx512_bf16``), bfloat16 on a CUDA device that supports it (else float16),
and float32 everywhere else. On a CPU without native bfloat16, float32 is used
and a one-line warning (W101) says so, once per process. An explicit
"float32", "bfloat16" or "float16" is used as given.

Why: on this project's 2-core AMX machine a 2048x576 @ 576x1536 matmul runs at
~110 GFLOP/s in float32 and ~1,000 GFLOP/s in bfloat16 (docs/inference.md);
without AMX/AVX512-BF16, torch emulates bfloat16 and is *slower* than float32.
torch's own ``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is not used as the
test: it is true on any AVX-512 CPU, including those that only emulate bf16.

The environment variable ``KNOWCODER_CPU_BF16`` overrides the CPU check
("1": treat the CPU as bf16-capable, "0": as not), e.g. to test the float32
fallback on an AMX machine. The training package uses the same functions.

Example:
    >>> import torch
    >>> resolve_dtype("bfloat16", "cpu") is torch.bfloat16
    True
    >>> resolve_dtype("auto", "cpu") in (torch.bfloat16, torch.float32)
    True
    >>> isinstance(cpu_supports_bf16(), bool)
    True
"""
import functools
import os
import platform
from pathlib import Path
from typing import Any, FrozenSet, Optional

from .errors import Errors, Warnings, warn

#: The dtype settings every backend accepts.
DTYPE_NAMES = ("auto", "float32", "bfloat16", "float16")
#: "0" or "1" overrides the CPU check of ``cpu_supports_bf16``.
CPU_BF16_ENV = "KNOWCODER_CPU_BF16"
#: /proc/cpuinfo flags that mean native bfloat16 matrix arithmetic.
NATIVE_BF16_FLAGS: FrozenSet[str] = frozenset({"amx_bf16", "avx512_bf16"})
_CPUINFO = Path("/proc/cpuinfo")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_warned_float32 = False


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively.

    Reads the ``flags`` of /proc/cpuinfo on Linux (``amx_bf16`` or
    ``avx512_bf16``); elsewhere asks torch's CPU feature checks. The
    environment variable ``KNOWCODER_CPU_BF16`` ("0"/"1") overrides both.

    RETURNS (bool): True when bfloat16 is the fast choice on this CPU.
    RAISES: ValueError (E111) for an override other than 0/1.

    Example:
        >>> isinstance(cpu_supports_bf16(), bool)
        True
    """
    override = os.environ.get(CPU_BF16_ENV, "").strip().lower()
    if override:
        if override not in _TRUE + _FALSE:
            raise ValueError(Errors.E111.format(name=CPU_BF16_ENV, value=override))
        return override in _TRUE
    return _detect_native_bf16()


@functools.lru_cache(maxsize=1)
def _detect_native_bf16() -> bool:
    flags = cpu_flags()
    if flags is not None:
        return bool(flags & NATIVE_BF16_FLAGS)
    return _torch_reports_native_bf16()


def cpu_flags(cpuinfo: Path = _CPUINFO) -> Optional[FrozenSet[str]]:
    """The x86 feature flags of /proc/cpuinfo, or None where there are none.

    cpuinfo (Path): The file to read (for tests).
    RETURNS (Optional[FrozenSet[str]]): The flags of the first CPU; None off
        Linux, or on a CPU whose cpuinfo has no ``flags`` line (e.g. ARM).

    Example:
        >>> cpu_flags(Path("/no/such/cpuinfo")) is None
        True
    """
    try:
        text = cpuinfo.read_text(encoding="utf8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return None


def _torch_reports_native_bf16() -> bool:
    """torch's own (private, hence guarded) checks, for non-Linux x86 hosts."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    for name in checks:
        check = getattr(torch.cpu, name, None)
        try:
            if check is not None and check():
                return True
        except Exception:  # a private API; absence or failure means "unknown": no
            continue
    return False


def resolve_dtype(setting: str, device: str) -> Any:
    """The torch dtype for a dtype setting on a (resolved) device.

    setting (str): "auto", "float32", "bfloat16" or "float16".
    device (str): A torch device name such as "cpu", "cuda", "cuda:1", "mps".
    RETURNS (torch.dtype): The explicit dtype; for "auto": bfloat16 on a CPU
        with native bfloat16 (see ``cpu_supports_bf16``), else float32 (with
        warning W101, once per process); on CUDA bfloat16 where supported,
        else float16; float32 on other devices.
    RAISES: ValueError (E104) for an unknown setting.

    Example:
        >>> resolve_dtype("float32", "cuda")
        torch.float32
    """
    import torch

    if setting not in DTYPE_NAMES:
        raise ValueError(Errors.E104.format(
            name="dtype", expected=f"one of {', '.join(DTYPE_NAMES)}", value=setting))
    if setting != "auto":
        return getattr(torch, setting)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("cpu"):
        if cpu_supports_bf16():
            return torch.bfloat16
        _warn_float32_once()
    return torch.float32


def _warn_float32_once() -> None:
    global _warned_float32
    if not _warned_float32:
        _warned_float32 = True
        warn(Warnings.W101.format(env=CPU_BF16_ENV), stacklevel=3)
