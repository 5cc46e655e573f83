"""Choose ``calibrate`` on development data: the default path's strict NER F1 with and without.

``benchmarks/typing_scores.py`` compares typing scores on gold mentions; this
runs the whole default path (generation, then typing by score) with
``calibrate`` on and off over the development sets (evaluation splits of
training sets the profile does not train on; never the held-out ones), with
the model's recommended ``close_penalty``. Writes ``calibrate_dev.json``.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/calibrate_dev.py --model knowcoder-x-smol --limit 40
    python benchmarks/calibrate_dev.py --sets sec_filings --limit 3   # quick check
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from close_penalty import entries  # noqa: E402  (benchmarks/ is on sys.path)

#: The five English development sets that chose ``close_penalty``.
DEV_SETS = ("multiconer2_en", "broad_twitter_corpus", "sec_filings", "bc5cdr", "bionlp11id")


def main() -> None:
    from spacy_knowcoder.evaluation.evaluate import evaluate_dataset
    from spacy_knowcoder.generation.blocks import release_shared_generators

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="knowcoder-x-smol")
    parser.add_argument("--data-dir", type=Path, default=REPO / "training/multilingual/data")
    parser.add_argument("--sets", nargs="+", default=list(DEV_SETS))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/calibrate_dev")
    args = parser.parse_args()
    sets = entries(args.data_dir / "dev" / "manifest.json", args.sets)
    rows = []
    for calibrate in (True, False):
        per_set = {}
        for entry in sets:
            with tempfile.TemporaryDirectory() as out:
                scores = evaluate_dataset(args.model, entry["file"], entry["label_file"], out,
                                          limit=args.limit, tasks=["ner"], batch_size=8,
                                          max_new_tokens=96, progress=False,
                                          settings={"calibrate": calibrate},
                                          lang=entry["language"])
            strict = scores["metrics"]["ner_strict"]
            per_set[entry["dataset"]] = {"f": round(100 * strict["f"], 1),
                                         "seconds": round(scores["seconds"], 1)}
        release_shared_generators()  # one loaded model at a time
        mean = round(sum(s["f"] for s in per_set.values()) / len(per_set), 1)
        rows.append({"calibrate": calibrate, "mean_f": mean, "sets": per_set})
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibrate_dev.json").write_text(json.dumps(
        {"model": args.model, "limit": args.limit, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
