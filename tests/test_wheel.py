"""The wheel: one top-level package, with the training package and its profiles inside.

Built with the real ``pip wheel`` (the ``built_wheel`` fixture, from a copy of
the sources), installed with ``pip install --target`` into an empty folder and
used from a fresh process whose working directory is not the repository, so
only the installed files count.
"""
import os
import subprocess
import sys


def run(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=300, **kwargs)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    return result


def test_the_wheel_installs_one_top_level_package(wheel_files):
    names = wheel_files
    assert {name.split("/")[0] for name in names if "dist-info" not in name} == \
        {"spacy_knowcoder"}  # no global 'training' package to clash with users' code
    assert "spacy_knowcoder/training/data/build.py" in names
    for profile in ("default.cfg", "long.cfg", "gpu.cfg", "multilingual.cfg",
                    "deepspeed/zero1.json", "models/Llama-2-7b-hf.json"):
        assert f"spacy_knowcoder/training/configs/{profile}" in names
    assert "spacy_knowcoder/corpora/labels/pile_ner_types.json" in names


def test_installed_training_finds_its_profiles(built_wheel, tmp_path):
    target = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target,
        built_wheel)
    env = dict(os.environ, PYTHONPATH=str(target))
    code = ("import spacy_knowcoder.training.config as c, importlib.util as u;"
            "cfg = c.load_config(c.CONFIG_DIR / 'long.cfg');"
            "print(c.__file__, cfg.sft.init_adapter, u.find_spec('training') is None)")
    shown = run(sys.executable, "-c", code, cwd=tmp_path, env=env).stdout.split()
    assert shown[0].startswith(str(target)) and shown[1] == "knowcoder-smol"
    assert shown[2] == "True"  # nothing named training is importable from the install
    config = target / "spacy_knowcoder" / "training" / "configs" / "default.cfg"
    printed = run(sys.executable, "-m", "spacy_knowcoder.training", "show-config", config,
                  cwd=tmp_path, env=env).stdout
    assert '"sft":' in printed and '"seq_length"' in printed
