"""``spacy apply`` with a knowcoder pipeline: one and two processes, relations kept."""
import json
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from tests.annotate.test_shards import SENTENCES, make_pipeline, summary

pytestmark = pytest.mark.model


@pytest.mark.parametrize("n_process", [1, 2])
def test_spacy_apply_writes_the_docs_the_pipeline_makes(shipped_home, tmp_path, n_process):
    pipeline = make_pipeline(tmp_path / "pipe")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES))
    done = subprocess.run([sys.executable, "-m", "spacy", "apply", str(pipeline), str(corpus),
                           str(tmp_path / "out.spacy"), "--batch-size", "2",
                           "--n-process", str(n_process)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    nlp = spacy.load(pipeline)
    applied = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(nlp.vocab))
    direct = list(nlp.pipe(SENTENCES, batch_size=2))
    assert [d.text for d in applied] == SENTENCES
    assert [s[2:] for s in summary(applied, scores=False)] == [
        s[2:] for s in summary(direct, scores=False)]
    assert any(d._.relations for d in applied) and all("score" in r for d in applied
                                                         for r in d._.relations)
