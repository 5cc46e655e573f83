"""Plot held-out NER F1 against SFT samples seen, one point per training chunk.

Reads ``benchmarks/results/training_chunks/chunks.json`` (one entry per chunk,
written by hand from ``knowcoder evaluate`` runs; see its ``note``) and writes
``chunks.png`` beside it: one line per held-out set and their mean.

Usage:
    python benchmarks/plot_training_chunks.py
"""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDER = REPO / "benchmarks" / "results" / "training_chunks"
SETS = ("re3d", "anem", "gum", "wnut17")


def main(folder: Path = FOLDER) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chunks = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))["chunks"]
    seen = [c["samples_seen"] for c in chunks]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name in SETS:
        ax.plot(seen, [c[name] for c in chunks], marker="o", linewidth=1, label=name)
    mean = [sum(c[name] for name in SETS) / len(SETS) for c in chunks]
    ax.plot(seen, mean, marker="s", color="black", linewidth=2.5, label="NER mean")
    ax.set_xlabel("SFT samples seen")
    ax.set_ylabel("held-out strict F1 (%)")
    ax.set_title("knowcoder-smol: held-out NER F1 per training chunk")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    out = folder / "chunks.png"
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER))
