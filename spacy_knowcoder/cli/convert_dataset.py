"""``knowcoder convert-dataset``: a raw dataset split -> benchmark JSONL (DESIGN §5).

Example:
    $ knowcoder convert-dataset wnut17 test corpus/wnut17-test.jsonl --limit 200
"""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app
from ..corpora.catalog import label_file
from ..corpora.convert import DEFAULT_DATA_ROOT, convert


@app.command("convert-dataset")
def convert_dataset_cli(
    name: str = typer.Argument(..., help="Catalog name, e.g. wnut17, fewrel, geneva."),
    split: str = typer.Argument(..., help="Split name, e.g. train, dev, test."),
    output: Path = typer.Argument(..., help="JSONL file to write."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                        help="Keep at most N records."),
    data_root: Path = typer.Option(DEFAULT_DATA_ROOT, "--data-root", "-d",
                                   help="Folder with the raw dataset folders."),
) -> None:
    """Convert a raw dataset split into benchmark JSONL."""
    try:
        count = convert(name, split, output, limit=limit, data_root=data_root)
    except (OSError, ValueError) as err:
        msg.fail(str(err), exits=1)
    msg.good(f"Wrote {count} records to {output}")
    msg.info(f"Label file: {label_file(name)}")
