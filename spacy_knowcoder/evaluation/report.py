"""Summaries across datasets: ``report.json`` and ``report.md`` (+ ``report.png``).

Input: the ``scores.json`` files of ``knowcoder evaluate`` (one per dataset),
and optionally those of a baseline (e.g. the untrained model) for the same
datasets. For each dataset the report keeps the headline F1 of each task
(NER ``ner_strict``, RE ``re_strict``, ED ``ed_trigger_cls``, EAE
``eae_arg_cls``) plus every metric's F1; the average over datasets is the plain
mean of the per-dataset F1 (as the KnowCoder paper reports), per task over the
datasets that have the task. Each dataset keeps the language its scores
record (``en`` for scores written before languages were recorded); when the
datasets span several languages the report adds the mean per language, split
into the languages training saw and the held-out ones
(``corpora.catalog.HELD_OUT_LANGUAGES``), and ``languages.png``.

Example:
    >>> scores = {"dataset": "wikigold", "n_docs": 2, "tasks": ["ner"],
    ...           "headline": {"ner": 0.5}, "diagnostics": {"hallucinations": 1},
    ...           "metrics": {"ner_strict": {"f": 0.5}, "ner_text": {"f": 0.6}}}
    >>> report = build_report([scores])
    >>> report["mean"]["ner"], report["datasets"][0]["metrics"]["ner_text"]
    (0.5, 0.6)
    >>> print(render_markdown(report).splitlines()[4])
    | wikigold | 2 | 50.0 | – | – | – | 1 |
"""
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import srsly

from ..errors import Errors
from ..fileio import read_text, write_json, write_text
from ..tasks import TASKS
from .metrics import HEADLINE, macro_mean

PathLike = Union[str, Path]
REQUIRED = ("dataset", "n_docs", "tasks", "headline", "metrics")
TASK_TITLES = {"ner": "NER", "re": "RE", "ed": "ED", "eae": "EAE"}


def read_scores(path: PathLike) -> Dict[str, Any]:
    """Read one ``scores.json`` and check its shape (coded error E463)."""
    try:
        data = srsly.json_loads(read_text(path))
    except ValueError as err:
        raise ValueError(Errors.E463.format(path=path, reason=str(err))) from None
    missing = [key for key in REQUIRED if not isinstance(data, dict) or key not in data]
    if missing:
        raise ValueError(Errors.E463.format(path=path, reason=f"missing {missing}"))
    return data


def _dataset_entry(scores: Mapping[str, Any]) -> Dict[str, Any]:
    return {"name": scores["dataset"], "n_docs": scores["n_docs"],
            "tasks": list(scores["tasks"]), "f1": dict(scores["headline"]),
            "metrics": {m: v["f"] for m, v in scores["metrics"].items()},
            "diagnostics": dict(scores.get("diagnostics") or {}),
            "model": scores.get("model"), "language": scores.get("language") or "en"}


def _check_unique(entries: Sequence[Mapping[str, Any]], sources: Sequence[str]) -> None:
    seen: Dict[str, str] = {}
    for entry, source in zip(entries, sources):
        if entry["name"] in seen:
            raise ValueError(Errors.E465.format(name=entry["name"], first=seen[entry["name"]],
                                                second=source))
        seen[entry["name"]] = source


def _means(entries: Sequence[Mapping[str, Any]]) -> Dict[str, Optional[float]]:
    return {task: macro_mean(e["f1"].get(task) for e in entries)
            for task in TASKS if any(task in e["f1"] for e in entries)}


def language_means(entries: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Plain means per language, and over the held-out and the seen languages.

    Example:
        >>> entries = [{"language": "zh", "f1": {"ner": 0.4}}, {"language": "pt", "f1": {"ner": 0.2}},
        ...            {"language": "sv", "f1": {"ner": 0.1}}]
        >>> means = language_means(entries)
        >>> means["per_language"]["zh"], round(means["held_out"]["ner"], 2), means["held_out_languages"]
        ({'ner': 0.4}, 0.15, ['pt', 'sv'])
    """
    from ..corpora.catalog import HELD_OUT_LANGUAGES

    languages = sorted({e["language"] for e in entries})
    held = [lang for lang in languages if lang in HELD_OUT_LANGUAGES]
    return {"per_language": {lang: _means([e for e in entries if e["language"] == lang])
                             for lang in languages},
            "held_out_languages": held,
            "seen": _means([e for e in entries if e["language"] not in HELD_OUT_LANGUAGES]),
            "held_out": _means([e for e in entries if e["language"] in HELD_OUT_LANGUAGES])}


def build_report(scores: Sequence[Mapping[str, Any]],
                 baseline: Sequence[Mapping[str, Any]] = (),
                 sources: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """The report: per-dataset F1 per task, plain means, and the baseline's
    (and the means per language when the datasets have several)."""
    entries = [_dataset_entry(s) for s in scores]
    _check_unique(entries, sources or [e["name"] for e in entries])
    base = [_dataset_entry(s) for s in baseline]
    _check_unique(base, [e["name"] for e in base])
    report: Dict[str, Any] = {"headline_metrics": dict(HEADLINE), "datasets": entries,
                              "mean": _means(entries)}
    if len({e["language"] for e in entries}) > 1:
        report["languages"] = language_means(entries)
    if base:
        report["baseline"] = {"datasets": base, "mean": _means(base)}
        if "languages" in report:
            report["baseline"]["languages"] = language_means(base)
    return report


def _pct(value: Optional[float]) -> str:
    return "–" if value is None else f"{value * 100:.1f}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as markdown tables (F1 in %, "–" where a task was not run)."""
    lines = ["# KnowCoder evaluation", "",
             "| dataset | docs | NER | RE | ED | EAE | hallucinations |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for e in report["datasets"]:
        cells = [_pct(e["f1"].get(t)) for t in TASKS]
        lines.append(f"| {e['name']} | {e['n_docs']} | " + " | ".join(cells)
                     + f" | {e['diagnostics'].get('hallucinations', '–')} |")
    mean = report["mean"]
    lines.append("| **mean** | | " + " | ".join(_pct(mean.get(t)) for t in TASKS) + " | |")
    if "baseline" in report:
        lines += ["", "## Before / after (F1, baseline → model)", "",
                  "| dataset | NER | RE | ED | EAE |", "|---|---:|---:|---:|---:|"]
        before = {e["name"]: e for e in report["baseline"]["datasets"]}
        for e in report["datasets"]:
            b = before.get(e["name"], {"f1": {}})
            lines.append(f"| {e['name']} | " + " | ".join(
                _arrow(b["f1"].get(t), e["f1"].get(t)) for t in TASKS) + " |")
    if "languages" in report:
        lines += _language_lines(report)
    lines += ["", "Headline metrics: " + ", ".join(
        f"{TASK_TITLES[t]} = `{m}`" for t, m in HEADLINE.items())
        + ". Mean = plain mean of per-dataset F1.", ""]
    return "\n".join(lines)


def _language_lines(report: Mapping[str, Any]) -> List[str]:
    languages = report["languages"]
    before = (report.get("baseline") or {}).get("languages")
    held = set(languages["held_out_languages"])
    lines = ["", "## Per language (plain mean of the datasets' F1"
             + (", baseline → model" if before else "") + ")", "",
             "| language | held out | NER | RE | ED | EAE |", "|---|---|---:|---:|---:|---:|"]
    rows = [(lang, "yes" if lang in held else "", means, (before or {}).get(
        "per_language", {}).get(lang, {})) for lang, means in languages["per_language"].items()]
    rows += [("**seen languages**", "", languages["seen"], (before or {}).get("seen", {})),
             ("**held-out languages**", "", languages["held_out"],
              (before or {}).get("held_out", {}))]
    for lang, flag, means, base in rows:
        cells = [_arrow(base.get(t), means.get(t)) if before else _pct(means.get(t))
                 for t in TASKS]
        lines.append(f"| {lang} | {flag} | " + " | ".join(cells) + " |")
    return lines


def _arrow(before: Optional[float], after: Optional[float]) -> str:
    if before is None and after is None:
        return "–"
    return f"{_pct(before)} → {_pct(after)}"


def write_report(score_files: Sequence[PathLike], output: PathLike, *,
                 baseline_files: Sequence[PathLike] = (), plot: bool = True) -> Dict[str, Any]:
    """Read scores files and write ``report.json``, ``report.md`` and ``report.png``.

    RETURNS (Dict[str, Any]): The report.
    """
    if not score_files:
        raise ValueError(Errors.E463.format(path="(none)", reason="no scores files given"))
    report = build_report([read_scores(p) for p in score_files],
                          [read_scores(p) for p in baseline_files],
                          sources=[str(p) for p in score_files])
    output = Path(output)
    write_json(output / "report.json", report)
    write_text(output / "report.md", render_markdown(report))
    if plot:
        from .plot import plot_report

        plot_report(report, output / "report.png")
        if "languages" in report:
            from .plot import plot_languages

            plot_languages(report, output / "languages.png")
    return report
