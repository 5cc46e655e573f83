"""``knowcoder annotate``: shards of a real pipeline (the shipped default, float32),
a real kill and resume, another pipeline's folder, a full disk and a dying server."""
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import spacy
from typer.testing import CliRunner

from spacy_knowcoder.annotate import shards as shards_module
from spacy_knowcoder.annotate.shards import MANIFEST, annotate_corpus, read_shards
from spacy_knowcoder.cli import app
from spacy_knowcoder.fileio import atomic_output
from spacy_knowcoder.generation.blocks import model_block_config

pytestmark = pytest.mark.model
SCHEMA = {"entities": {"person": "A human being.", "city": "A large town."},
          "relations": {"born in": {"description": "Where a person was born.",
                                    "head": ["person"], "tail": ["city"]}}}
SENTENCES = ["Barack Obama was born in Honolulu.", "Marie Curie was born in Warsaw.",
             "Angela Merkel visited Berlin.", "Ada Lovelace lived in London.",
             "Pablo Picasso was born in Malaga.", "Frida Kahlo lived in Mexico City.",
             "Nelson Mandela was born in Mvezo."]


def make_pipeline(path, max_new_tokens=24):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "schema": SCHEMA, "tasks": ["ner", "re"],
        "model": model_block_config(None, max_new_tokens=max_new_tokens, dtype="float32")})
    nlp.to_disk(path)
    return path


def write_corpus(path, n=7):
    with path.open("w") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"doc-{i}", "text": SENTENCES[i % len(SENTENCES)],
                                     "source": "test"}) + "\n")
        handle.write("{broken\n")
    return path


def summary(docs, scores=True):
    """Ids, metadata, entities and relations (with their scores, or without: scores
    of different batchings agree to about 1e-3 only)."""
    def relations(doc):
        return [r if scores else {k: v for k, v in r.items() if k != "score"}
                for r in doc._.relations]

    return [(d.user_data.get("id"), d.user_data.get("meta"),
             [(e.start_char, e.end_char, e.label_) for e in d.ents], relations(d))
            for d in docs]


@pytest.fixture(scope="module")
def pipeline(shipped_home, tmp_path_factory):
    return make_pipeline(tmp_path_factory.mktemp("pipe") / "pipe")


def test_shards_hold_every_doc_with_ids_meta_and_relations(pipeline, tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    nlp = spacy.load(pipeline)
    with pytest.warns(UserWarning, match=r"W452.*corpus.jsonl:8"):
        manifest = annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=3, progress=False)
    assert sorted(manifest["shards"]) == ["shard-00000.spacy", "shard-00001.spacy",
                                          "shard-00002.spacy"]
    assert [e["docs"] for _, e in sorted(manifest["shards"].items())] == [3, 3, 1]
    assert manifest["docs"] == {"input": 7, "annotated": 7} and manifest["complete"]
    assert manifest["bad_inputs"][0]["where"] == "corpus.jsonl:8"
    docs = list(read_shards(tmp_path / "out", nlp))
    direct = list(nlp.pipe(SENTENCES))
    assert [d.text for d in docs] == SENTENCES
    assert [s[2:] for s in summary(docs, scores=False)] == [
        s[2:] for s in summary(direct, scores=False)]
    assert docs[0].user_data["id"] == "doc-0" and docs[0].user_data["meta"] == {"source": "test"}
    assert any(d._.relations for d in docs), "the shipped default relates someone"
    # a finished folder is not annotated again
    again = annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=3, progress=False)
    assert again["shards"] == manifest["shards"]


def test_a_killed_run_resumes_to_the_same_output(pipeline, tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", n=14)
    command = [sys.executable, "-m", "spacy_knowcoder.cli", "annotate", str(pipeline),
               str(corpus), str(tmp_path / "killed"), "--shard-size", "2", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest_path = tmp_path / "killed" / MANIFEST
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None:
        if manifest_path.is_file() and len(json.loads(manifest_path.read_text())["shards"]) >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = json.loads(manifest_path.read_text())
    assert 2 <= len(done["shards"]) < 7 and not done["complete"]
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    nlp = spacy.load(pipeline)
    uninterrupted = annotate_corpus(nlp, corpus, tmp_path / "whole", shard_size=2,
                                    progress=False)
    final = json.loads(manifest_path.read_text())
    assert final["docs"] == uninterrupted["docs"] == {"input": 14, "annotated": 14}
    killed_docs = summary(read_shards(tmp_path / "killed", nlp))
    assert killed_docs == summary(read_shards(tmp_path / "whole", nlp))
    assert [d[0] for d in killed_docs] == [f"doc-{i}" for i in range(14)]  # none twice, none lost
    for name, entry in done["shards"].items():  # finished shards were not redone
        assert final["shards"][name]["seconds"] == entry["seconds"]


def test_another_pipelines_folder_is_refused(pipeline, tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", n=2)
    annotate_corpus(spacy.load(pipeline), corpus, tmp_path / "out", shard_size=2, progress=False)
    other = spacy.load(make_pipeline(tmp_path / "other", max_new_tokens=12))
    with pytest.raises(ValueError, match="E467.*pipeline fingerprint"):
        annotate_corpus(other, corpus, tmp_path / "out", shard_size=2, progress=False)
    with pytest.raises(ValueError, match="E467.*shard size"):
        annotate_corpus(spacy.load(pipeline), corpus, tmp_path / "out", shard_size=1,
                        progress=False)
    result = CliRunner().invoke(app, ["annotate", str(tmp_path / "other"), str(corpus),
                                      str(tmp_path / "out"), "--shard-size", "2"])
    assert result.exit_code == 1 and "E467" in result.output


def test_a_full_disk_leaves_no_half_shard_and_the_next_run_redoes_it(pipeline, tmp_path,
                                                                    monkeypatch):
    corpus = write_corpus(tmp_path / "corpus.jsonl", n=4)
    nlp = spacy.load(pipeline)
    real_write = shards_module.write_bytes

    def full_disk_on_the_second_shard(path, data):
        if path.name != "shard-00001.spacy":
            return real_write(path, data)
        with atomic_output(path, "wb") as handle:  # the real atomic write, and the disk
            handle.write(data[: len(data) // 2])    # fills up half way through
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shards_module, "write_bytes", full_disk_on_the_second_shard)
    with pytest.raises(RuntimeError, match="E468.*shard-00001.*No space left"):
        annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=2, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MANIFEST, "shard-00000.spacy"]
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert list(manifest["shards"]) == ["shard-00000.spacy"]
    assert manifest["errors"][0]["shard"] == "shard-00001.spacy"
    monkeypatch.setattr(shards_module, "write_bytes", real_write)
    finished = annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=2, progress=False)
    assert finished["complete"] and finished["docs"]["annotated"] == 4


def test_a_model_server_that_dies_stops_the_run_and_the_rerun_finishes(tmp_path):
    from tests.generation.test_openai import Handler

    Handler.requests, Handler.failures_left = [], 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "schema": {"entities": {"person": "A human."}}, "tasks": ["ner"],
        "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url,
                  "retries": 1, "timeout": 2.0}})
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Ann met Bob number {i}."}) + "\n"
                              for i in range(6)))
    real_pipe = nlp.pipe
    served = []

    def pipe_then_stop_the_server(docs, **kwargs):
        if len(served) == 1:  # the server goes away after the first shard
            httpd.shutdown()
            httpd.server_close()
        served.append(1)
        return real_pipe(docs, **kwargs)

    nlp.pipe = pipe_then_stop_the_server
    with pytest.raises(RuntimeError, match="E468.*shard-00001"):
        annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=3, progress=False)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert list(manifest["shards"]) == ["shard-00000.spacy"] and "E163" in manifest["errors"][0]["reason"]
    # the server comes back on the same port
    server2 = ThreadingHTTPServer(("127.0.0.1", httpd.server_address[1]), Handler)
    threading.Thread(target=server2.serve_forever, daemon=True).start()
    try:
        nlp.pipe = real_pipe
        finished = annotate_corpus(nlp, corpus, tmp_path / "out", shard_size=3, progress=False)
    finally:
        server2.shutdown()
        server2.server_close()
    assert finished["complete"] and finished["docs"] == {"input": 6, "annotated": 6}
    docs = list(read_shards(tmp_path / "out", nlp))
    assert [[e.text for e in d.ents] for d in docs][:2] == [["Ann", "Bob"], ["Ann", "Bob"]]
