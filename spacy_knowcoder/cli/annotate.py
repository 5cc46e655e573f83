"""``knowcoder annotate``: annotate a corpus into resumable DocBin shards.

Reads JSONL (``--text-key``, ``--id-key``), DocBin and plain-text files (a
file or a folder of them), runs the pipeline and writes ``shard-NNNNN.spacy``
files of ``--shard-size`` docs plus ``manifest.json`` into OUTPUT_DIR. After
a kill, the same command skips the finished shards (see
``spacy_knowcoder.annotate.shards``). Exits with status 1 and a coded message
when the folder belongs to another run or a shard fails.

Example:
    $ knowcoder annotate my_pipeline corpus.jsonl out/ --shard-size 1000
    $ python -c "import spacy; from spacy_knowcoder.annotate import read_shards; \\
        docs = list(read_shards('out/', spacy.blank('en')))"
"""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("annotate")
def annotate_cli(
    pipeline: str = typer.Argument(..., help="Pipeline directory or installed package."),
    input_path: Path = typer.Argument(..., help="A .jsonl, .spacy or text file, or a folder."),
    output_dir: Path = typer.Argument(..., help="Folder for the shards and manifest.json."),
    shard_size: int = typer.Option(1000, "--shard-size", "-s", min=1,
                                   help="Documents per shard."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1,
                                             help="Docs per nlp.pipe batch."),
    text_key: str = typer.Option("text", "--text-key", "-tk", help="JSONL field of the text."),
    id_key: str = typer.Option("id", "--id-key", help="JSONL field of the record id."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress."),
) -> None:
    """Annotate a corpus into DocBin shards; rerun to resume after a stop."""
    import spacy

    from ..annotate.shards import MANIFEST, annotate_corpus

    try:
        nlp = spacy.load(pipeline)
        manifest = annotate_corpus(nlp, input_path, output_dir, shard_size=shard_size,
                                   batch_size=batch_size, text_key=text_key, id_key=id_key,
                                   progress=progress)
    except (OSError, ValueError, RuntimeError) as err:
        msg.fail(str(err), exits=1)
    docs = manifest["docs"]
    msg.good(f"Annotated {docs['annotated']} of {docs['input']} docs into "
             f"{len(manifest['shards'])} shard(s) in {output_dir} ({MANIFEST}); "
             f"{len(manifest['bad_inputs'])} unreadable part(s) listed there.")
