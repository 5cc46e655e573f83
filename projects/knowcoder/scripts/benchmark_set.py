"""Combine held-out datasets into one gold set and one label file.

The packaged pipeline is checked with ``spacy benchmark accuracy`` on gold
docs from several held-out datasets at once (entities from one, relations
from another), so its schema is the union of their label files. Labels that
two files share must agree (same description), or this stops with a message.

Example:
    python scripts/benchmark_set.py corpus/benchmark.jsonl configs/pipeline_labels.json \
        training/data/heldout/re3d.jsonl ../../spacy_knowcoder/corpora/labels/re3d.json \
        training/data/heldout/semeval2010_task8.jsonl ../../spacy_knowcoder/corpora/labels/semeval2010_task8.json \
        --limit 20
"""
import json
from pathlib import Path
from typing import Dict, List

import typer

from spacy_knowcoder.corpora.benchmark import read_benchmark, read_label_file
from spacy_knowcoder.fileio import write_json, write_jsonl

SECTIONS = ("entity_labels", "relation_labels", "event_types")


def main(
    output_data: Path = typer.Argument(..., help="The combined JSONL to write."),
    output_labels: Path = typer.Argument(..., help="The combined label file to write."),
    pairs: List[Path] = typer.Argument(..., help="DATA.jsonl LABELS.json, repeated."),
    limit: int = typer.Option(20, "--limit", "-n", help="Records taken from each dataset."),
) -> None:
    """Take the first LIMIT records of each dataset and merge the label files."""
    if len(pairs) % 2:
        typer.echo("Expected DATA.jsonl LABELS.json pairs, got an odd number of paths.", err=True)
        raise typer.Exit(1)
    records, merged = [], {section: {} for section in SECTIONS}
    for data_path, label_path in zip(pairs[::2], pairs[1::2]):
        labels = read_label_file(label_path)
        for section in SECTIONS:
            for label, value in getattr(labels, section).items():
                seen: Dict = merged[section]
                if label in seen and seen[label] != value:
                    typer.echo(f"Label {label!r} ({section}) differs between label files; "
                               f"rename it in {label_path}.", err=True)
                    raise typer.Exit(1)
                seen[label] = value
        for record in read_benchmark(data_path, limit=limit):
            records.append({**record, "id": f"{data_path.stem}/{record['id']}"})
    write_jsonl(output_data, records)
    write_json(output_labels, {k: v for k, v in merged.items() if v})
    typer.echo(f"{len(records)} records, labels: "
               + json.dumps({k: len(v) for k, v in merged.items()}))


if __name__ == "__main__":
    typer.run(main)
