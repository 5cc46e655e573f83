"""``knowcoder convert-benchmark``: benchmark JSONL -> DocBin of gold docs.

The DocBin is what ``spacy benchmark accuracy`` reads: entities in
``doc.ents``, relations in ``doc._.relations`` and events in ``doc._.events``
(user data is stored).

Example:
    $ knowcoder convert-benchmark data/test.jsonl corpus/test.spacy --lang en
    $ python -m spacy benchmark accuracy my_pipeline corpus/test.spacy -sk knowcoder
"""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from . import app


@app.command("convert-benchmark")
def convert_benchmark_cli(
    data: Path = typer.Argument(..., help="Dataset in the benchmark JSONL format."),
    output: Path = typer.Argument(..., help="The .spacy file to write."),
    lang: str = typer.Option("en", "--lang", "-l", help="Language of the tokenizer."),
    labels: Optional[Path] = typer.Option(None, "--labels",
                                          help="Label file to check the data against."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                        help="Convert only the first N records."),
) -> None:
    """Convert a benchmark JSONL file into a DocBin of gold docs."""
    import spacy

    from ..corpora.benchmark import check_labels, read_benchmark, read_label_file
    from ..evaluation.gold_docs import records_to_docbin
    from ..fileio import write_bytes

    try:
        records = read_benchmark(data, limit=limit)
        if labels is not None:
            check_labels(records, read_label_file(labels), data=data, labels_path=labels)
        docbin = records_to_docbin(spacy.blank(lang), records, path=str(data))
        write_bytes(output, docbin.to_bytes())
    except (OSError, ValueError) as err:
        msg.fail(str(err), exits=1)
    msg.good(f"Saved {len(records)} gold docs to {output}")
