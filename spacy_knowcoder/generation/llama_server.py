"""llama.cpp's ``llama-server`` as the served model: convert to GGUF, start, stop.

The OpenAI-compatible backend (``openai.py``) talks to any completions
server; this module runs the one that works on a CPU, for tests, benchmarks
and users without a GPU: ``bash bin/build-llama-server.sh`` builds it into
``.llama.cpp/``; ``convert_to_gguf`` turns a merged model directory (``knowcoder
prepare-model DIR --source knowcoder-smol``) into a GGUF file with llama.cpp's
own converter; ``running_llama_server`` starts the server on a free loopback
port, waits until it answers and stops it afterwards.

Where the binary and converter are found: ``$LLAMA_SERVER`` and
``$LLAMA_CPP_DIR`` (the llama.cpp source folder), else ``.llama.cpp/`` in the
working folder or the repository, else ``llama-server`` on ``PATH``.

Example:
    >>> gguf = convert_to_gguf("merged/", "model.gguf")  # doctest: +SKIP
    >>> with running_llama_server(gguf, parallel=2) as url:  # doctest: +SKIP
    ...     nlp.add_pipe("knowcoder", config={"model": {
    ...         "@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url}})
"""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, List, Optional, Union

from ..errors import Errors

PathLike = Union[str, Path]
SERVER_ENV = "LLAMA_SERVER"
SOURCE_ENV = "LLAMA_CPP_DIR"
BUILD_FOLDER = ".llama.cpp"


def _build_roots() -> List[Path]:
    here = Path(__file__).resolve().parents[2]  # the repository, for an editable install
    return [Path.cwd() / BUILD_FOLDER, here / BUILD_FOLDER]


def find_llama_server() -> Path:
    """The ``llama-server`` binary.

    RAISES: FileNotFoundError (E166) when there is none.
    """
    looked = []
    override = os.environ.get(SERVER_ENV)
    candidates = [Path(override)] if override else []
    candidates += [root / "build" / "bin" / "llama-server" for root in _build_roots()]
    for candidate in candidates:
        looked.append(str(candidate))
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    looked.append("PATH")
    raise FileNotFoundError(Errors.E166.format(what="llama-server", looked=", ".join(looked),
                                               env=SERVER_ENV))


def find_converter() -> Path:
    """llama.cpp's ``convert_hf_to_gguf.py``.

    RAISES: FileNotFoundError (E166) when there is none.
    """
    override = os.environ.get(SOURCE_ENV)
    roots = [Path(override)] if override else []
    roots += [root / "src" for root in _build_roots()]
    for root in roots:
        if (root / "convert_hf_to_gguf.py").is_file():
            return root / "convert_hf_to_gguf.py"
    raise FileNotFoundError(Errors.E166.format(
        what="convert_hf_to_gguf.py", looked=", ".join(map(str, roots)), env=SOURCE_ENV))


def convert_to_gguf(model_dir: PathLike, gguf_path: PathLike, outtype: str = "f32") -> Path:
    """Convert a merged HF model directory to one GGUF file (llama.cpp's converter).

    model_dir (PathLike): A safetensors model directory with its tokenizer.
    gguf_path (PathLike): The file to write (written atomically).
    outtype (str): ``f32`` (the same greedy output as the float32 HF model),
        ``bf16``, ``f16`` or ``q8_0``.
    RETURNS (Path): ``gguf_path``.
    RAISES: FileNotFoundError (E166); RuntimeError (E168) when conversion fails.
    """
    target = Path(gguf_path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    command = [sys.executable, str(find_converter()), str(model_dir), "--outtype", outtype,
               "--outfile", str(partial)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise RuntimeError(Errors.E168.format(model=model_dir, status=done.returncode,
                                              log=done.stderr[-600:]))
    os.replace(partial, target)
    return target


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_llama_server(gguf_path: PathLike, *, parallel: int = 1, ctx_size: int = 4096,
                         threads: Optional[int] = None, port: Optional[int] = None,
                         ready_timeout: float = 120.0,
                         extra_args: Optional[List[str]] = None) -> Iterator[str]:
    """Serve ``gguf_path`` with llama-server on loopback; yield its ``/v1`` URL.

    parallel (int): Slots, i.e. requests decoded together (continuous batching);
        each gets ``ctx_size / parallel`` tokens of context.
    ctx_size (int): Total context of all slots.
    threads (Optional[int]): CPU threads (default: llama.cpp's).
    port (Optional[int]): The port (default: a free one).
    ready_timeout (float): Seconds to wait for ``/health``.
    RAISES: FileNotFoundError (E166); RuntimeError (E167) when it does not start.
    """
    port = port or free_port()
    command = [str(find_llama_server()), "-m", str(gguf_path), "--host", "127.0.0.1",
               "--port", str(port), "--parallel", str(parallel), "--ctx-size", str(ctx_size),
               "--no-webui"]
    if threads:
        command += ["--threads", str(threads)]
    command += list(extra_args or [])
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, f"http://127.0.0.1:{port}/health", ready_timeout, log)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: "subprocess.Popen[bytes]", url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    reason = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            reason = f"it exited with status {process.returncode}"
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            reason = str(err)
        time.sleep(0.3)
    log.seek(0)
    tail = log.read()[-800:].decode("utf-8", "replace")
    raise RuntimeError(Errors.E167.format(seconds=timeout, reason=reason, log=tail))
