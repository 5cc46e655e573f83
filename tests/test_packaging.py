"""``spacy package`` of a knowcoder pipeline that carries its model weights.

A tiny random Llama (SmolLM2's tokenizer, one layer) stands in for the trained
model so the package stays small. The pipeline is packaged with the real
``python -m spacy package``, pip-installed (no deps, no build isolation) into a
fresh venv layered over the test environment, and loaded by name in a fresh
process after the original model folder is deleted.
"""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import spacy

from spacy_knowcoder.generation.blocks import model_block_config

pytestmark = pytest.mark.model
SCHEMA = {"entities": {"person": "A human being."}}


def run(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=300, **kwargs)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    return result


@pytest.fixture(scope="module")
def tiny_model(smollm2_dir, tmp_path_factory):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    path = tmp_path_factory.mktemp("tiny") / "tiny-llama"
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "optimizer.pt").write_bytes(b"not part of the model")
    return path


def test_to_disk_copies_the_model_and_from_disk_uses_it(tiny_model, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": str(tiny_model), "schema": SCHEMA,
                                      "package_model": True})
    nlp.to_disk(tmp_path / "pipe")
    copied = tmp_path / "pipe" / "knowcoder" / "model"
    assert (copied / "model.safetensors").is_file() and (copied / "tokenizer.json").is_file()
    assert not (copied / "optimizer.pt").exists()
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.get_pipe("knowcoder").cfg["model"] == str(copied)
    plain = spacy.blank("en")
    plain.add_pipe("knowcoder", config={"model": str(tiny_model), "schema": SCHEMA})
    plain.to_disk(tmp_path / "plain")
    assert not (tmp_path / "plain" / "knowcoder" / "model").exists()


def test_a_model_override_wins_over_the_packaged_copy(tiny_model, tmp_path):
    other = Path(shutil.copytree(tiny_model, tmp_path / "other-model"))
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": str(tiny_model), "schema": SCHEMA,
                                      "package_model": True})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe", config={"components": {"knowcoder": {
        "model": str(other)}}})
    assert loaded.get_pipe("knowcoder").cfg["model"] == str(other)
    loaded.to_disk(tmp_path / "again")  # copies the override, and records it
    again = spacy.load(tmp_path / "again")
    assert again.get_pipe("knowcoder").cfg["model"] == str(tmp_path / "again" / "knowcoder"
                                                           / "model")


def test_a_name_override_of_a_model_block_keeps_its_settings(tiny_model, tmp_path):
    other = Path(shutil.copytree(tiny_model, tmp_path / "other-model"))
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(tiny_model),
                                                                  max_new_tokens=9),
                                      "schema": SCHEMA, "package_model": True})
    nlp.to_disk(tmp_path / "pipe")
    packaged = spacy.load(tmp_path / "pipe").get_pipe("knowcoder")
    assert packaged.model_block.name == str(tmp_path / "pipe" / "knowcoder" / "model")
    loaded = spacy.load(tmp_path / "pipe", config={"components": {"knowcoder": {
        "model": {"name": str(other)}}}}).get_pipe("knowcoder")
    assert loaded.model_block.name == str(other) and loaded.generation.max_new_tokens == 9


def test_package_installs_and_loads_offline_in_a_fresh_process(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": model_block_config(str(model), max_new_tokens=8),
                                      "schema": SCHEMA, "package_model": True})
    nlp.to_disk(tmp_path / "pipe")
    (tmp_path / "dist").mkdir()
    run(sys.executable, "-m", "spacy", "package", tmp_path / "pipe", tmp_path / "dist",
        "--name", "knowcoder_pkgtest", "--version", "0.0.1", "--build", "sdist")
    sdist, = (tmp_path / "dist").glob("*/dist/*.tar.gz")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # Layer the venv over this environment (spaCy, torch, this plugin, pip).
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    parent = sysconfig.get_paths()["purelib"]
    Path(site.stdout.strip(), "_parent_env.pth").write_text(
        f"import site; site.addsitedir({parent!r})\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
        "--quiet", sdist)
    shutil.rmtree(model)  # the package must not need the original folder
    code = ("import spacy\n"
            "nlp = spacy.load('en_knowcoder_pkgtest')\n"
            "pipe = nlp.get_pipe('knowcoder')\n"
            "assert 'site-packages' in pipe.cfg['model'], pipe.cfg['model']\n"
            "doc = nlp('Ada Lovelace met Charles Babbage.')\n"
            "print('windows', doc._.knowcoder_diagnostics['windows'])\n")
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = run(python, "-c", code, cwd=tmp_path, env=env)
    assert "windows 1" in result.stdout
