"""Hypothesis profiles and a guard that proves no code ran, for the fuzz tests.

Profiles (choose with ``KNOWCODER_FUZZ=ci|thorough``; default ``ci``):

- ``ci``: bounded example counts (thousands per target, all fuzz tests together
  well under two minutes on two cores), derandomized so CI runs are repeatable;
- ``thorough``: ten times the examples, random seeds, for a local soak run.

``no_code_runs()`` installs a (process-wide, permanent, but dormant outside the
block) audit hook and fails if, inside the block, anything executes code
(``exec``/``eval`` of a code object), starts a process, or opens the sentinel path.
"""
import contextlib
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator, List, Tuple

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("KNOWCODER_FUZZ", "ci")
SCALE = {"ci": 1, "thorough": 10}[PROFILE]
# A single example that needs this long means a hang or a quadratic blow-up.
DEADLINE = timedelta(seconds=10)

settings.register_profile(
    "knowcoder-fuzz-ci", derandomize=True, database=None, deadline=DEADLINE,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "knowcoder-fuzz-thorough", deadline=DEADLINE, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz_settings(max_examples: int) -> settings:
    """Settings of the active profile with ``max_examples`` (times the profile's scale).

    Example:
        >>> fuzz_settings(100).max_examples >= 100
        True
    """
    parent = settings.get_profile(f"knowcoder-fuzz-{PROFILE}")
    return settings(parent, max_examples=max_examples * SCALE)


SENTINEL = Path(tempfile.gettempdir()) / f"knowcoder-fuzz-pwned-{os.getpid()}"
_WATCHED = ("exec", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
            "subprocess.Popen", "ctypes.dlopen", "socket.connect", "shutil.rmtree")
_state: dict = {"active": False, "events": [], "installed": False}


def _hook(event: str, args: Tuple[Any, ...]) -> None:
    if not _state["active"]:
        return
    if event.startswith(_WATCHED) or (event == "open" and args and
                                      str(SENTINEL) in str(args[0])):
        _state["events"].append((event, repr(args)[:200]))


@contextlib.contextmanager
def no_code_runs() -> Iterator[List[Tuple[str, str]]]:
    """Fail if code is executed, a process is started or SENTINEL is touched."""
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True
    _state["events"] = []
    _state["active"] = True
    try:
        yield _state["events"]
    finally:
        _state["active"] = False
    events = list(_state["events"])
    assert not events, f"code ran while parsing untrusted text: {events}"
    assert not SENTINEL.exists(), f"{SENTINEL} was created"


# Payloads that would run code if anything evaluated them; {path} is SENTINEL.
INJECTIONS = [
    '__import__("os").system("touch {path}")',
    'open("{path}", "w").write("x")',
    '(lambda: __import__("os").system("touch {path}"))()',
    'eval(\'__import__("os").system("touch {path}")\')',
    'exec(\'open("{path}", "w")\')',
    '[open("{path}", "w") for _ in "x"]',
    '"x".__class__.__mro__[1].__subclasses__()',
    'Person.__init__.__globals__["os"].system("touch {path}")',
    'getattr(__builtins__, "exec")("open(\\"{path}\\", \\"w\\")")',
    'f"{{open(\'{path}\', \'w\')}}"',
    '__import__("subprocess").Popen(["touch", "{path}"])',
    'breakpoint()',
    '(yield open("{path}", "w"))',
    'compile("1", "x", "exec")',
    '__import__("importlib").import_module("os").system("touch {path}")',
]


def injections() -> List[str]:
    """The payloads with the sentinel path filled in."""
    return [payload.format(path=SENTINEL) for payload in INJECTIONS]
