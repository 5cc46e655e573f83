"""``knowcoder evaluate`` and ``knowcoder score``: benchmark evaluation commands.

``evaluate`` runs a pipeline (directory or installed package with a knowcoder
component) or a model directory over a dataset in the benchmark JSONL format
with its label file, and writes ``OUTPUT/predictions.jsonl`` and
``OUTPUT/scores.json``. ``score`` scores an existing predictions file. Bad input
(a label file that does not match the data, missing prediction ids, an empty
dataset, a missing file) exits with status 1 and a coded message.

Example:
    $ knowcoder evaluate training/knowcoder-smol data/wikigold.jsonl \\
        data/wikigold.labels.json --output eval/wikigold --limit 200
    $ knowcoder score data/wikigold.jsonl eval/wikigold/predictions.jsonl \\
        data/wikigold.labels.json --output eval/wikigold/rescored.json
"""
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from . import app
from ..evaluation.metrics import TASK_METRICS

_FAILURES = (OSError, ValueError, RuntimeError)


def _split_selection(budget: Optional[int]) -> Optional[Dict[str, Any]]:
    if budget is None:
        return None
    return {"@misc": "spacy_knowcoder.split_selection.v1", "budget": budget}


def _settings(**values: Any) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _tasks(value: Optional[str]) -> Optional[List[str]]:
    return [t.strip() for t in value.split(",") if t.strip()] if value else None


@app.command("evaluate")
def evaluate_cli(
    model: str = typer.Argument(..., help="Pipeline directory or package, or model directory."),
    data: Path = typer.Argument(..., help="Dataset in the benchmark JSONL format."),
    labels: Path = typer.Argument(..., help="Label file with descriptions (JSON)."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for the results."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                        help="Evaluate only the first N records."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t",
                                        help="Comma-separated tasks (ner,re,ed,eae); "
                                        "default: all the label file supports."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1,
                                             help="Prompts decoded together."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1,
                                                 help="Most new tokens per prompt."),
    name: Optional[str] = typer.Option(None, "--name", help="Dataset name in reports "
                                       "(default: the data file's stem)."),
    typing: Optional[str] = typer.Option(None, "--typing", help="How items get their "
                                         "class: 'generate' or 'score' (default: the "
                                         "component's)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                              help="With --typing score: drop items "
                                              "scored below this."),
    split: Optional[int] = typer.Option(None, "--split", min=1, help="Split the candidate "
                                        "classes into prompts of at most this many "
                                        "(1: one class per prompt; split_selection)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Language of the texts (a "
                                       "spaCy code such as zh or de) for a model name or "
                                       "directory: the blank pipeline that tokenizes them "
                                       "(default: en)."),
    device: Optional[str] = typer.Option(None, "--device", help="For a model run in "
                                         "process: cpu, cuda, cuda:N, mps or auto "
                                         "(default: the model block's, cpu)."),
    close_penalty: Optional[float] = typer.Option(None, "--close-penalty", min=0.0,
                                                  help="Under constraints, the log-"
                                                  "probability margin by which ending "
                                                  "the results list must beat going on "
                                                  "(0: greedy; more: more recall)."),
) -> None:
    """Predict a benchmark dataset and score the predictions."""
    from ..evaluation.evaluate import PREDICTIONS, SCORES, evaluate_dataset

    try:
        scores = evaluate_dataset(model, data, labels, output, limit=limit, tasks=_tasks(tasks),
                                  batch_size=batch_size, max_new_tokens=max_new_tokens,
                                  name=name, settings=_settings(
                                      typing=typing, threshold=threshold,
                                      selection=_split_selection(split),
                                      close_penalty=close_penalty, device=device),
                                  lang=lang)
    except _FAILURES as err:
        msg.fail(str(err), exits=1)
    print_scores(scores)
    msg.good(f"Saved {output / PREDICTIONS} and {output / SCORES}")


@app.command("score")
def score_cli(
    data: Path = typer.Argument(..., help="Gold dataset in the benchmark JSONL format."),
    predictions: Path = typer.Argument(..., help="Predictions in the same format."),
    labels: Path = typer.Argument(..., help="Label file with descriptions (JSON)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write the scores JSON here."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t",
                                        help="Comma-separated tasks (ner,re,ed,eae)."),
    name: Optional[str] = typer.Option(None, "--name", help="Dataset name in reports."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                        help="Score against the first N gold records."),
) -> None:
    """Score an existing predictions file against a benchmark dataset."""
    from ..evaluation.evaluate import score_files
    from ..fileio import write_json

    try:
        scores = score_files(data, predictions, labels, tasks=_tasks(tasks), name=name,
                             limit=limit)
        if output is not None:
            write_json(output, scores)
    except _FAILURES as err:
        msg.fail(str(err), exits=1)
    print_scores(scores)
    if output is not None:
        msg.good(f"Saved {output}")


def print_scores(scores: Dict[str, Any]) -> None:
    """Print the metrics and diagnostics of a scores report as tables."""
    rows = []
    for task in scores["tasks"]:
        for metric in TASK_METRICS[task]:
            m = scores["metrics"][metric]
            rows.append((metric, f"{m['p'] * 100:.2f}", f"{m['r'] * 100:.2f}",
                         f"{m['f'] * 100:.2f}", m["tp"], m["fp"], m["fn"]))
    msg.table(rows, header=("metric", "P", "R", "F1", "TP", "FP", "FN"),
              aligns=("l", "r", "r", "r", "r", "r", "r"),
              title=f"{scores['dataset']} ({scores['n_docs']} docs)")
    msg.table(scores["diagnostics"], title="Model output problems")
    for task, rows in (scores.get("threshold_curve") or {}).items():
        msg.table([(f"{r['threshold']:g}", f"{r['p'] * 100:.2f}", f"{r['r'] * 100:.2f}",
                    f"{r['f'] * 100:.2f}", r["kept"]) for r in rows],
                  header=("score >=", "P", "R", "F1", "kept"), aligns=("r",) * 5,
                  title=f"{task}: precision and recall over the score threshold")
