"""The one-GPU recipe (training/gpu/train.sh), checked on CPU with its dry run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "training" / "gpu" / "train.sh"


def _run(args, **env):
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable, **env}, timeout=1800)


@pytest.mark.model
def test_the_dry_run_builds_trains_merges_and_evaluates(gemma3_dir, tmp_path):
    """Real data, two real LoRA steps on the real base, a real merge and evaluation."""
    out = tmp_path / "run"
    done = _run([str(out), "--dry-run"], BASE_MODEL=str(gemma3_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    timings = json.loads((out / "timings.json").read_text())
    assert (timings["steps"], timings["micro_batch"], timings["device"]) == (2, 2, "cpu")
    assert timings["samples"] == sum(1 for _ in (out / "data" / "sft.jsonl").open())
    assert timings["samples"] > 1000  # all of the profile's data is built
    assert (out / "sft" / "adapter" / "adapter_model.safetensors").is_file()
    assert [json.loads(line)["step"] for line in (out / "sft" / "metrics.jsonl").open()] == [1, 2]
    assert (out / "knowcoder-x-smol" / "config.json").is_file()
    for name in ("re3d", "universal_ner_pt"):
        scores = json.loads((out / "scores" / name / "scores.json").read_text())
        assert scores["n_docs"] == 2 and "ner" in scores["tasks"]
    assert (out / "report" / "report.json").is_file()


def test_without_a_gpu_it_says_so_and_how_to_check_on_cpu(tmp_path):
    done = _run([str(tmp_path / "run")], CUDA_VISIBLE_DEVICES="")
    assert done.returncode == 1
    assert "no CUDA GPU" in done.stderr and "--dry-run" in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_stray_argument_gets_the_usage(tmp_path):
    done = _run([str(tmp_path / "run"), "--fast"])
    assert done.returncode == 2 and "usage: training/gpu/train.sh OUTDIR" in done.stderr
