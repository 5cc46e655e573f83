"""Choose the decoder's ``close_penalty`` on development data, then measure it on the held-out sets.

A small model often closes its ``results`` list after the first item ("Barack
Obama" found, "Honolulu" not). ``close_penalty`` (docs/inference.md) makes the
constrained decoder go on unless ending the list beats the best other valid
token by that many nats. Whether that pays is a recall/precision trade that
must be chosen on data the model never trained on *and* that is not held out:

1. **Development sets** (``<data_dir>/dev/manifest.json``, written by ``python -m
   training build-data CONFIG``): the evaluation split of training datasets whose
   profile trains on their other splits only (``training.data.build.dev_sources``).
   Every penalty is run on them; the best mean strict NER F1 picks the penalty
   (ties go to the smaller one).
2. **Held-out sets** (``<data_dir>/heldout/manifest.json``): run once with penalty 0
   and once with the chosen one, and only reported.

One process, one model at a time (each penalty loads its own generator).
Writes ``<out>/close_penalty.json``, ``<out>/summary.md`` and ``<out>/dev.png``.
With ``--record``, each shipped model's choice becomes its recommended
``close_penalty`` (``inference`` in its ``knowcoder_model.json``, with the dev
scores it was chosen on), which the component uses when the setting is unset.

Usage:
    python -m training build-data training/configs/long.cfg      # dev/ and heldout/
    OMP_NUM_THREADS=2 python benchmarks/close_penalty.py --models knowcoder-x-smol knowcoder-smol --record
    python benchmarks/close_penalty.py --record-from benchmarks/results/close_penalty/close_penalty.json
    python benchmarks/close_penalty.py --models knowcoder-smol --dev-limit 3 --penalties 0 2 \\
        --dev-sets sec_filings --heldout-sets re3d --heldout-limit 3    # quick check
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATA_DIR = REPO / "training" / "long" / "data"
OUT = REPO / "benchmarks" / "results" / "close_penalty"
#: General, web, finance and biomedical NER: one set per kind of text.
DEV_SETS = ("broad_twitter_corpus", "multiconer2_en", "sec_filings", "bc5cdr", "bionlp11id")
HELDOUT_SETS = ("re3d", "anem", "gum", "wnut17")


def entries(manifest: Path, names: Sequence[str]) -> List[Dict[str, Any]]:
    """The manifest's entries for ``names``, in that order (a missing one is an error)."""
    found = {e["dataset"]: e for e in json.loads(manifest.read_text(encoding="utf8"))}
    missing = [n for n in names if n not in found]
    if missing:
        sys.exit(f"{manifest} has no {', '.join(missing)}: rebuild the data "
                 f"(python -m training build-data CONFIG) or pick other sets")
    return [dict(found[n], file=str(manifest.parent / found[n]["file"])) for n in names]


def ner_f1(model: str, entry: Dict[str, Any], penalty: Optional[float], limit: int,
           args: argparse.Namespace, settings: Optional[Dict[str, Any]] = None
           ) -> Dict[str, Any]:
    """Strict NER F1 and seconds of one set at one penalty (None: the model's
    recommended one), with any other component ``settings``."""
    from spacy_knowcoder.evaluation.evaluate import evaluate_dataset

    settings = dict(settings or {})
    if penalty is not None:
        settings["close_penalty"] = penalty

    with tempfile.TemporaryDirectory() as out:
        scores = evaluate_dataset(model, entry["file"], entry["label_file"], out, limit=limit,
                                  tasks=["ner"], batch_size=args.batch_size,
                                  max_new_tokens=args.max_new_tokens, progress=False,
                                  settings=settings, lang=entry["language"])
    strict = scores["metrics"]["ner_strict"]
    return {"f": round(100 * strict["f"], 1), "p": round(100 * strict["p"], 1),
            "r": round(100 * strict["r"], 1), "seconds": round(scores["seconds"], 1)}


def run_sets(model: str, sets: Sequence[Dict[str, Any]], penalty: Optional[float], limit: int,
             args: argparse.Namespace, settings: Optional[Dict[str, Any]] = None
             ) -> Dict[str, Any]:
    from spacy_knowcoder.generation.blocks import release_shared_generators

    per_set = {e["dataset"]: ner_f1(model, e, penalty, limit, args, settings) for e in sets}
    release_shared_generators()  # one loaded model at a time
    mean = round(sum(s["f"] for s in per_set.values()) / len(per_set), 1)
    print(f"{model} penalty {penalty} {settings or ''}: mean {mean} {per_set}", flush=True)
    return {"penalty": penalty, "mean_f": mean, "sets": per_set}


def choose(rows: Sequence[Dict[str, Any]]) -> float:
    """The penalty with the best mean F1; ties go to the smaller penalty.

    Example:
        >>> choose([{"penalty": 0, "mean_f": 5.0}, {"penalty": 2, "mean_f": 7.0},
        ...         {"penalty": 4, "mean_f": 7.0}])
        2
    """
    return max(rows, key=lambda r: (r["mean_f"], -r["penalty"]))["penalty"]


def summary(results: Dict[str, Any]) -> str:
    lines = ["| model | close_penalty | dev NER mean | " + " | ".join(results["dev_sets"])
             + " | held-out NER mean | " + " | ".join(results["heldout_sets"]) + " |",
             "|---|---:|---:|" + "---:|" * len(results["dev_sets"]) + "---:|"
             + "---:|" * len(results["heldout_sets"])]
    for model, result in results["models"].items():
        heldout = {r["penalty"]: r for r in result["heldout"]}
        for row in result["dev"]:
            held = heldout.get(row["penalty"])
            mark = " (chosen)" if row["penalty"] == result["chosen"] else ""
            cells = [model, f"{row['penalty']}{mark}", str(row["mean_f"])]
            cells += [str(row["sets"][n]["f"]) for n in results["dev_sets"]]
            cells += [str(held["mean_f"]) if held else "-"]
            cells += [str(held["sets"][n]["f"]) if held else "-" for n in results["heldout_sets"]]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(results: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for model, result in results["models"].items():
        xs = [r["penalty"] for r in result["dev"]]
        ax.plot(xs, [r["mean_f"] for r in result["dev"]], marker="o", label=f"{model} (dev)")
        held = result["heldout"]
        ax.plot([r["penalty"] for r in held], [r["mean_f"] for r in held], marker="s",
                linestyle="--", label=f"{model} (held-out)")
    ax.set_xlabel("close_penalty (nats)")
    ax.set_ylabel("mean strict NER F1")
    ax.set_title("Choosing close_penalty on development sets")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["knowcoder-smol"])
    parser.add_argument("--penalties", nargs="+", type=float, default=[0.0, 1.5, 3.0, 4.5])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--dev-sets", nargs="+", default=list(DEV_SETS))
    parser.add_argument("--heldout-sets", nargs="+", default=list(HELDOUT_SETS))
    parser.add_argument("--dev-limit", type=int, default=40)
    parser.add_argument("--heldout-limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--record", action="store_true",
                        help="record each shipped model's chosen penalty in its metadata")
    parser.add_argument("--record-from", type=Path, default=None,
                        help="only record the choices of an earlier run's close_penalty.json")
    args = parser.parse_args(list(argv) or None)
    if args.record_from is not None:
        record(json.loads(args.record_from.read_text(encoding="utf8")))
        return

    dev = entries(args.data_dir / "dev" / "manifest.json", args.dev_sets)
    heldout = entries(args.data_dir / "heldout" / "manifest.json", args.heldout_sets)
    results: Dict[str, Any] = {"dev_sets": args.dev_sets, "heldout_sets": args.heldout_sets,
                               "dev_limit": args.dev_limit,
                               "heldout_limit": args.heldout_limit, "models": {}}
    for model in args.models:
        rows = [run_sets(model, dev, p, args.dev_limit, args) for p in args.penalties]
        chosen = choose(rows)
        held = [run_sets(model, heldout, p, args.heldout_limit, args)
                for p in dict.fromkeys([0.0, chosen])]
        results["models"][model] = {"dev": rows, "chosen": chosen, "heldout": held}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "close_penalty.json").write_text(json.dumps(results, indent=2) + "\n",
                                                 encoding="utf8")
    (args.out / "summary.md").write_text(summary(results), encoding="utf8")
    plot(results, args.out / "dev.png")
    print(summary(results))
    if args.record:
        record(results)


def record(results: Dict[str, Any]) -> None:
    """Write each shipped model's chosen penalty into its metadata."""
    import subprocess
    import time

    from spacy_knowcoder.models import is_shipped_name, record_inference_setting

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    for model, result in results["models"].items():
        if not is_shipped_name(model):
            continue
        chosen = {"by": "benchmarks/close_penalty.py", "commit": commit,
                  "date": time.strftime("%Y-%m-%d"), "dev_sets": results["dev_sets"],
                  "dev_limit": results["dev_limit"],
                  "dev_mean_f": {str(r["penalty"]): r["mean_f"] for r in result["dev"]}}
        path = record_inference_setting(model, "close_penalty", result["chosen"], chosen)
        print(f"{model}: close_penalty {result['chosen']} recorded in {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
