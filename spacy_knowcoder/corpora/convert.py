"""Convert a raw dataset split into benchmark JSONL (DESIGN §5).

Example:
    >>> convert("wnut17", "dev", "/tmp/wnut17-dev.jsonl", limit=5)  # doctest: +SKIP
    5
"""
from pathlib import Path
from typing import Optional

from ..fileio import write_jsonl
from .catalog import read_dataset

DEFAULT_DATA_ROOT = Path("../shared/data")


def convert(dataset: str, split: str, output: "str | Path", limit: Optional[int] = None,
            data_root: "str | Path" = DEFAULT_DATA_ROOT) -> int:
    """Write a dataset split as benchmark JSONL, atomically.

    dataset (str): Catalog name, e.g. "wnut17".
    split (str): Split name, e.g. "test".
    output (str | Path): The JSONL file to write.
    limit (Optional[int]): Keep at most this many records.
    data_root (str | Path): Folder with the raw dataset folders.
    RETURNS (int): The number of records written.
    """
    return write_jsonl(output, read_dataset(dataset, split, data_root, limit=limit))
