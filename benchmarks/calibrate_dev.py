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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from close_penalty import entries, run_sets  # noqa: E402  (benchmarks/ is on sys.path)

#: The five English development sets that chose ``close_penalty``.
DEV_SETS = ("multiconer2_en", "broad_twitter_corpus", "sec_filings", "bc5cdr", "bionlp11id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="knowcoder-x-smol")
    parser.add_argument("--data-dir", type=Path, default=REPO / "training/multilingual/data")
    parser.add_argument("--sets", nargs="+", default=list(DEV_SETS))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/calibrate_dev")
    args = parser.parse_args()
    sets = entries(args.data_dir / "dev" / "manifest.json", args.sets)
    rows = [dict(calibrate=calibrate, **run_sets(args.model, sets, None, args.limit, args,
                                                 {"calibrate": calibrate}))
            for calibrate in (True, False)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibrate_dev.json").write_text(json.dumps(
        {"model": args.model, "limit": args.limit, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
