"""Resume after kill -9: a real training process is killed mid-run and restarted."""
import json
import os
import signal
import subprocess
import sys
import time

from .conftest import clean_env
from .test_pipeline import write_cfg


def test_kill_nine_then_resume_reaches_the_same_final_step(tmp_path, tiny_llama_dir, training_data):
    out = tmp_path / "run"
    total = 16
    cfg = write_cfg(tmp_path / "resume.cfg", tiny_llama_dir, training_data["pretrain"], out,
                    seq_length=32, micro_batch_size=2, max_steps=total, lr=3e-3, checkpoint_every=3,
                    keep_checkpoints=2, progress=False)
    command = [sys.executable, "-m", "training", "pretrain", str(cfg)]
    env = clean_env()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if any((out / "checkpoints").glob("step_*/trainer_state.json")):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (out / "summary.json").exists() and not (out / "model").exists()

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["total_steps"] == total and 3 <= summary["resumed_from"] < total
    assert summary["steps_run"] == total - summary["resumed_from"]
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, total + 1))  # no gaps, no duplicates from the killed run
    assert len(list((out / "checkpoints").glob("step_*"))) <= 2
    assert (out / "model" / "config.json").is_file()
