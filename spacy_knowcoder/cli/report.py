"""``knowcoder report``: one summary of several ``knowcoder evaluate`` runs.

Writes ``OUTPUT/report.md``, ``OUTPUT/report.json`` and ``OUTPUT/report.png``
(headline F1 per dataset and task, the plain mean over datasets, and with
``--baseline`` the scores before training next to those after).

Example:
    $ knowcoder report eval/*/scores.json --baseline eval-base/*/scores.json \\
        --output reports/
"""
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from . import app


@app.command("report")
def report_cli(
    scores: List[Path] = typer.Argument(..., help="scores.json files, one per dataset."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for the report."),
    baseline: Optional[List[Path]] = typer.Option(
        None, "--baseline", help="scores.json of the baseline (repeat per dataset)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Also draw report.png."),
) -> None:
    """Summarize evaluation scores across datasets (markdown, JSON, PNG)."""
    from ..evaluation.report import render_markdown, write_report

    try:
        report = write_report(scores, output, baseline_files=baseline or [], plot=plot)
    except (OSError, ValueError) as err:
        msg.fail(str(err), exits=1)
    print(render_markdown(report))
    msg.good(f"Saved the report to {output}")
