"""Make the raw datasets available under the project's data folder.

With a local mirror (a folder laid out like the project's assets, e.g.
``../shared/data``), each dataset folder is symlinked from it; otherwise the
folders must already be there from ``spacy project assets``. Missing data
stops the workflow with a message naming the folders and how to get them.

Example:
    python scripts/link_data.py ../../../shared/data assets/data fewrel re_docred
"""
import json
import os
import sys
from pathlib import Path
from typing import List

import typer


def main(
    mirror: Path = typer.Argument(..., help="Local mirror folder (need not exist)."),
    data_dir: Path = typer.Argument(..., help="The project's data folder."),
    datasets: List[str] = typer.Argument(..., help="Dataset folders the workflow needs."),
) -> None:
    """Link each dataset folder from the mirror, or check it was fetched."""
    data_dir.mkdir(parents=True, exist_ok=True)
    found, missing = {}, []
    for name in datasets:
        target = data_dir / name
        source = mirror / name
        if not target.exists() and source.is_dir():
            if target.is_symlink():  # a dangling link from an old mirror
                target.unlink()
            target.symlink_to(os.path.relpath(source.resolve(), target.parent.resolve()))
        if target.is_dir() and any(target.iterdir()):
            found[name] = str(target.resolve())
        else:
            missing.append(name)
    if missing:
        typer.echo(
            f"Missing dataset folders under {data_dir}: {', '.join(missing)}.\n"
            f"The mirror {mirror} has no such folders (or does not exist). Fix: run "
            "'spacy project assets' with network access (each asset names its public "
            "source), or set --vars.data_mirror to a folder with the same layout.",
            err=True)
        raise typer.Exit(1)
    manifest = {"mirror": str(mirror), "datasets": found}
    tmp = data_dir / ".manifest.json.part"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    tmp.replace(data_dir / "manifest.json")
    typer.echo(f"{len(found)} dataset folders ready in {data_dir}")


if __name__ == "__main__":
    typer.run(main)
    sys.exit(0)
