"""The report's PNG: headline F1 per dataset and task, before vs after training.

One panel per task; in each, one group of bars per dataset plus the mean, the
baseline (when given) in grey next to the model in colour, values written on
the bars. matplotlib runs with the Agg backend (no display needed).

Example:
    >>> report = {"datasets": [{"name": "a", "f1": {"ner": 0.5}}],
    ...           "mean": {"ner": 0.5}}
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.png"
    >>> plot_report(report, out)
    >>> out.stat().st_size > 1000
    True
"""
from pathlib import Path
from typing import Any, List, Mapping, Optional, Union

from ..fileio import atomic_output
from ..tasks import TASKS

TITLES = {"ner": "NER (strict F1)", "re": "RE (strict F1)",
          "ed": "ED (trigger classification F1)", "eae": "EAE (argument classification F1)"}


def _values(entries: List[Mapping[str, Any]], mean: Mapping[str, Any], task: str,
            names: List[str]) -> List[Optional[float]]:
    by_name = {e["name"]: e["f1"].get(task) for e in entries}
    return [by_name.get(n) for n in names[:-1]] + [mean.get(task)]


def plot_report(report: Mapping[str, Any], path: Union[str, Path]) -> None:
    """Draw the report's chart to ``path`` (PNG, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in TASKS if t in report["mean"]]
    baseline = report.get("baseline")
    fig, axes = plt.subplots(len(tasks), 1, squeeze=False,
                             figsize=(max(6.0, 1.3 * len(report["datasets"]) + 3),
                                      3.2 * len(tasks)))
    for ax, task in zip(axes[:, 0], tasks):
        entries = [e for e in report["datasets"] if task in e["f1"]]
        names = [e["name"] for e in entries] + ["mean"]
        after = _values(entries, report["mean"], task, names)
        width = 0.38 if baseline else 0.6
        xs = list(range(len(names)))
        if baseline:
            before = _values(baseline["datasets"], baseline["mean"], task, names)
            _bars(ax, [x - width / 2 for x in xs], before, width, "#9e9e9e", "before (baseline)")
            xs = [x + width / 2 for x in xs]
        _bars(ax, xs, after, width, "#1f77b4", "after (model)" if baseline else "model")
        ax.set_title(TITLES[task], loc="left", fontsize=11, fontweight="bold")
        ax.set_xticks(range(len(names)), names, rotation=20 if len(names) > 6 else 0,
                      ha="right" if len(names) > 6 else "center")
        ax.set_ylim(0, 105)
        ax.set_ylabel("F1 (%)")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        if baseline:
            ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    with atomic_output(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)


def plot_languages(report: Mapping[str, Any], path: Union[str, Path]) -> None:
    """Draw the headline F1 per language, seen languages first, then the held-out
    ones (hatched), baseline in grey beside the model when given (PNG, atomic).

    Example:
        >>> report = {"languages": {"per_language": {"zh": {"ner": 0.4}, "pt": {"ner": 0.2}},
        ...                         "held_out_languages": ["pt"]}}
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "languages.png"
        >>> plot_languages(report, out)
        >>> out.stat().st_size > 1000
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    languages = report["languages"]
    held = set(languages["held_out_languages"])
    per_language = languages["per_language"]
    order = sorted(per_language, key=lambda lang: (lang in held, lang))
    before = ((report.get("baseline") or {}).get("languages") or {}).get("per_language")
    tasks = [t for t in TASKS if any(t in per_language[lang] for lang in order)]
    fig, axes = plt.subplots(len(tasks), 1, squeeze=False,
                             figsize=(max(6.0, 0.9 * len(order) + 3), 3.2 * len(tasks)))
    width = 0.38 if before else 0.6
    for ax, task in zip(axes[:, 0], tasks):
        xs = list(range(len(order)))
        if before:
            _bars(ax, [x - width / 2 for x in xs],
                  [before.get(lang, {}).get(task) for lang in order], width, "#9e9e9e",
                  "baseline")
            xs = [x + width / 2 for x in xs]
        bars = ax.bar(xs, [100 * (per_language[lang].get(task) or 0.0) for lang in order],
                      width, color="#1f77b4", label="model")
        for bar, lang in zip(bars, order):
            if lang in held:
                bar.set_hatch("//")
                bar.set_edgecolor("white")
            value = per_language[lang].get(task)
            ax.annotate("n/a" if value is None else f"{100 * value:.1f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
        ax.set_xticks(range(len(order)),
                      [f"{lang}\n(held out)" if lang in held else lang for lang in order])
        ax.set_title(f"{TITLES[task]} per language: seen, then held-out (hatched)",
                     loc="left", fontsize=11, fontweight="bold")
        ax.set_ylim(0, 105)
        ax.set_ylabel("F1 (%)")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    with atomic_output(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)


def _bars(ax: Any, xs: List[float], values: List[Optional[float]], width: float,
          color: str, label: str) -> None:
    heights = [100 * v if v is not None else 0.0 for v in values]
    bars = ax.bar(xs, heights, width, color=color, label=label)
    for bar, value in zip(bars, values):
        text = "n/a" if value is None else f"{100 * value:.1f}"
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)


def plot_threshold_curve(curves: Mapping[str, List[Mapping[str, Any]]], path: Union[str, Path],
                         title: str = "") -> None:
    """Draw precision against recall over the score threshold, one line per task.

    curves (Mapping[str, List[Mapping]]): Task -> rows of
        ``metrics.threshold_curve`` (threshold, p, r, f, kept).
    path (Union[str, Path]): The PNG to write (atomically).
    title (str): The dataset's name, for the title.

    Example:
        >>> rows = [{"threshold": 0.0, "p": 0.4, "r": 0.5, "f": 0.44, "kept": 10},
        ...         {"threshold": 0.5, "p": 0.6, "r": 0.3, "f": 0.4, "kept": 4}]
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "curve.png"
        >>> plot_threshold_curve({"ner": rows}, out, title="re3d")
        >>> out.stat().st_size > 1000
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for task, rows in curves.items():
        recall = [100 * row["r"] for row in rows]
        precision = [100 * row["p"] for row in rows]
        ax.plot(recall, precision, marker="o", label=TITLES.get(task, task))
        for row, x, y in zip(rows, recall, precision):
            ax.annotate(f"{row['threshold']:g}", (x, y), xytext=(3, 3),
                        textcoords="offset points", fontsize=7)
    ax.set_xlabel("recall (%)")
    ax.set_ylabel("precision (%)")
    ax.set_title(f"{title}: precision and recall over the score threshold".strip(": "),
                 loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    with atomic_output(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
