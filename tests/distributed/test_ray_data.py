"""annotate_with_ray on a real local Ray cluster (2 CPUs, no network): the same
shards and manifest as ``knowcoder annotate``, resumable by either, a failing
shard stops the run with E468."""
import json

import pytest
import spacy

from spacy_knowcoder.annotate.shards import MANIFEST, annotate_corpus, read_shards
from tests.annotate.test_shards import make_pipeline, summary, write_corpus

ray = pytest.importorskip("ray", reason="the [ray] extra")
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pipeline(shipped_home, tmp_path_factory):
    return make_pipeline(tmp_path_factory.mktemp("pipe") / "pipe")


def test_ray_gives_the_shards_of_knowcoder_annotate_and_either_resumes_the_other(
        cluster, pipeline, tmp_path):
    from spacy_knowcoder.distributed import annotate_with_ray

    corpus = write_corpus(tmp_path / "corpus.jsonl", n=9)
    with pytest.warns(UserWarning, match="W452"):
        on_ray = annotate_with_ray(pipeline, corpus, tmp_path / "ray", shard_size=2,
                                   actors=2, progress=False)
    nlp = spacy.load(pipeline)
    with pytest.warns(UserWarning, match="W452"):
        local = annotate_corpus(nlp, corpus, tmp_path / "local", shard_size=2, progress=False)
    assert on_ray["docs"] == local["docs"] == {"input": 9, "annotated": 9}
    assert on_ray["complete"] and on_ray["pipeline_fingerprint"] == local["pipeline_fingerprint"]
    assert sorted(on_ray["shards"]) == sorted(local["shards"])
    assert on_ray["bad_inputs"] == local["bad_inputs"]
    ray_docs = summary(read_shards(tmp_path / "ray", nlp), scores=False)
    assert ray_docs == summary(read_shards(tmp_path / "local", nlp), scores=False)
    assert [d[0] for d in ray_docs] == [f"doc-{i}" for i in range(9)]
    assert any(d[2] for d in ray_docs) and any(d[3] for d in ray_docs)
    # a folder left unfinished by one is finished by the other, redoing nothing else
    (tmp_path / "local" / "shard-00003.spacy").unlink()
    with pytest.warns(UserWarning, match="W452"):
        resumed = annotate_with_ray(pipeline, corpus, tmp_path / "local", shard_size=2,
                                    progress=False)
    assert resumed["complete"]
    for name, entry in local["shards"].items():
        if name != "shard-00003.spacy":
            assert resumed["shards"][name] == entry
    assert summary(read_shards(tmp_path / "local", nlp), scores=False) == ray_docs


def test_a_failing_shard_on_ray_stops_the_run_with_e468(cluster, pipeline, tmp_path):
    from spacy_knowcoder.distributed import annotate_with_ray

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Ann met Bob {i}."}) + "\n" for i in range(4)))
    dead_server = {"components.knowcoder.model": {
        "@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": "http://127.0.0.1:9/v1",
        "retries": 0, "timeout": 1.0}}
    with pytest.raises(RuntimeError, match="E468.*E163"):
        annotate_with_ray(pipeline, corpus, tmp_path / "out", shard_size=2,
                          overrides=dead_server, progress=False)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["shards"] == {} and "E163" in manifest["errors"][0]["reason"]


def test_bad_settings_are_coded(pipeline, tmp_path):
    from spacy_knowcoder.distributed import annotate_with_ray

    with pytest.raises(ValueError, match="E469.*actors"):
        annotate_with_ray(pipeline, tmp_path, tmp_path / "out", actors=0)


def test_ray_actors_share_one_served_model(cluster, pipeline, shipped_gguf, tmp_path):
    """Part 4: every actor calls one llama-server (two slots); the shards equal
    ``knowcoder annotate``'s against the same server."""
    from spacy_knowcoder.distributed import annotate_with_ray
    from spacy_knowcoder.generation.llama_server import running_llama_server

    corpus = write_corpus(tmp_path / "corpus.jsonl", n=8)
    with running_llama_server(shipped_gguf, parallel=2, threads=2) as url:
        served = {"components.knowcoder.model": {
            "@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url,
            "max_new_tokens": 24, "batch_size": 2, "concurrency": 2}}
        with pytest.warns(UserWarning, match="W452"):
            on_ray = annotate_with_ray(pipeline, corpus, tmp_path / "ray", shard_size=2,
                                       actors=2, cpus_per_actor=0.5, overrides=served,
                                       progress=False)
        nlp = spacy.load(pipeline, config=served)
        with pytest.warns(UserWarning, match="W452"):
            local = annotate_corpus(nlp, corpus, tmp_path / "local", shard_size=2,
                                    progress=False)
    assert on_ray["docs"] == local["docs"] == {"input": 8, "annotated": 8}
    ray_docs = summary(read_shards(tmp_path / "ray", nlp))
    assert ray_docs == summary(read_shards(tmp_path / "local", nlp))
    assert sum(len(d[2]) for d in ray_docs) >= 8
