"""KnowCoder-X: held-out F1 and docs/s per language, English default against a multilingual model.

For each model, every held-out set of a multilingual build's manifest
(``training/multilingual/data/heldout/manifest.json``, written by ``python -m
training build-data training/configs/multilingual.cfg``; never trained on) is
evaluated with ``knowcoder evaluate --lang <the set's language>`` on its first
``--limit`` records, in its own process, one model after the other (two
torch processes at once would slow each other). Then ``knowcoder report``
summarises each model: F1 per dataset, the mean per language, over the seen
and over the held-out languages (nl, pt, sv, tr), and ``languages.png``; the
first model is the baseline of the others' reports. ``scores.json`` of each
set holds its docs/s, which is the throughput per language.

``--throughput-sets`` adds catalog datasets in other languages (German
WikiNEuRal, say) for docs/s only: they may be training data, so their F1 is
not a quality number and is not reported.

Writes ``<out>/<model tag>/<dataset>/{predictions.jsonl,scores.json}``,
``<out>/<model tag>/report/`` and ``<out>/summary.md``.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/multilingual_heldout.py --limit 100 \\
        --models knowcoder-smol training/multilingual/knowcoder-x-smol
    python benchmarks/multilingual_heldout.py --limit 5 --sets weibo_ner --models knowcoder-smol
    python benchmarks/multilingual_heldout.py --sets re3d weibo_ner --throughput-sets wikineural_de
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "training" / "multilingual" / "data" / "heldout" / "manifest.json"
OUT = REPO / "benchmarks" / "results" / "multilingual"


def tags_of(models: Sequence[str]) -> List[str]:
    """A distinct folder name per model argument: its name, or a path's last part;
    where two would be the same (a shipped ``knowcoder-x-smol`` and a freshly
    merged ``training/multilingual/knowcoder-x-smol``), the path's parts joined."""
    tags = [Path(model).name or model for model in models]
    return [tag if tags.count(tag) == 1 or "/" not in model
            else "_".join(Path(model).parts[-3:]) for model, tag in zip(models, tags)]


def catalog_entry(name: str, folder: Path, limit: int) -> Dict[str, Any]:
    """A manifest-like entry for a catalog dataset's eval split, written as JSONL."""
    sys.path.insert(0, str(REPO))
    from spacy_knowcoder.corpora import get_dataset, label_file, read_dataset
    from spacy_knowcoder.corpora.benchmark import write_benchmark

    info = get_dataset(name)
    path = folder / f"{name}.jsonl"
    write_benchmark(path, read_dataset(name, info.eval_split, REPO.parent / "shared" / "data",
                                       limit=limit))
    return {"dataset": name, "file": str(path), "label_file": str(label_file(name)),
            "language": info.language}


def evaluate(model: str, entry: Dict[str, Any], folder: Path, args: argparse.Namespace) -> None:
    data = MANIFEST.parent / entry["file"]  # an absolute file stays as it is
    command = [sys.executable, "-m", "spacy_knowcoder.cli", "evaluate", model, str(data),
               entry["label_file"], "--output", str(folder / entry["dataset"]),
               "--name", entry["dataset"], "--limit", str(args.limit),
               "--batch-size", str(args.batch_size), "--max-new-tokens",
               str(args.max_new_tokens), "--lang", entry["language"]]
    if args.close_penalty is not None:
        command += ["--close-penalty", str(args.close_penalty)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def report(folder: Path, sets: Sequence[str], baseline: Path = None) -> None:
    command = [sys.executable, "-m", "spacy_knowcoder.cli", "report",
               *[str(folder / name / "scores.json") for name in sets],
               "--output", str(folder / "report")]
    for name in sets if baseline else ():
        command += ["--baseline", str(baseline / name / "scores.json")]
    subprocess.run(command, check=True, cwd=REPO)


def throughput(out: Path, tags: Sequence[str], sets: Sequence[Dict[str, Any]]) -> str:
    lines = ["\n| docs/s only | language | " + " | ".join(tags) + " |",
             "|---|---|" + "---:|" * len(tags)]
    for entry in sets:
        speeds = [json.loads((out / tag / entry["dataset"] / "scores.json").read_text())
                  .get("docs_per_second") or 0.0 for tag in tags]
        cells = [f"{speed:.2f}" for speed in speeds]
        lines.append(f"| {entry['dataset']} | {entry['language']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary(out: Path, tags: Sequence[str], sets: Sequence[Dict[str, Any]]) -> str:
    lines = ["| dataset | language | " + " | ".join(f"{t} F1 | {t} docs/s" for t in tags) + " |",
             "|---|---|" + "---:|---:|" * len(tags)]
    for entry in sets:
        cells = []
        for tag in tags:
            scores = json.loads((out / tag / entry["dataset"] / "scores.json").read_text())
            task = scores["tasks"][0]
            cells += [f"{100 * scores['headline'][task]:.1f}",
                      f"{scores.get('docs_per_second') or 0:.2f}"]
        lines.append(f"| {entry['dataset']} | {entry['language']} | " + " | ".join(cells) + " |")
    for tag in tags:
        languages = json.loads((out / tag / "report" / "report.json").read_text()).get(
            "languages", {})
        for group in ("seen", "held_out"):
            means = languages.get(group) or {}
            lines.append(f"\n{tag}, {group.replace('_', '-')} languages: " + ", ".join(
                f"{task.upper()} {100 * value:.1f}" for task, value in means.items()
                if value is not None))
    return "\n".join(lines) + "\n"


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["knowcoder-smol"])
    parser.add_argument("--sets", nargs="*", default=None,
                        help="Datasets of the manifest (default: every non-English one).")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--throughput-sets", nargs="*", default=[],
                        help="Catalog datasets measured for docs/s only.")
    parser.add_argument("--close-penalty", type=float, default=None,
                        help="For every model (default: what a shipped model recommends, else 0).")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    chosen = [e for e in entries if (e["dataset"] in args.sets if args.sets
                                     else e["language"] != "en")]
    (args.out / "throughput").mkdir(parents=True, exist_ok=True)
    speed_only = [catalog_entry(name, args.out / "throughput", args.limit)
                  for name in args.throughput_sets]
    tags = tags_of(args.models)
    for model, tag in zip(args.models, tags):
        for entry in chosen + speed_only:
            evaluate(model, entry, args.out / tag, args)
    names = [e["dataset"] for e in chosen]
    for i, tag in enumerate(tags):
        report(args.out / tag, names, args.out / tags[0] if i else None)
    text = summary(args.out, tags, chosen)
    if speed_only:
        text += throughput(args.out, tags, speed_only)
    (args.out / "summary.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
