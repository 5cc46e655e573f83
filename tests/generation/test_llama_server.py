"""The component on a real serving engine: llama.cpp's llama-server on loopback,
serving the shipped default converted to GGUF (f32), gives the same extractions
as the model in this process; concurrent requests fill its slots."""
import pytest
import spacy

from spacy_knowcoder.generation.llama_server import running_llama_server

pytestmark = pytest.mark.model
SCHEMA = {"entities": {"person": "A human being.", "city": "A large town.",
                       "organization": "A company, institution or agency."},
          "relations": {"born in": {"description": "Where a person was born.",
                                    "head": ["person"], "tail": ["city"]}}}
TEXTS = ["Barack Obama was born in Honolulu.", "Marie Curie was born in Warsaw.",
         "Satya Nadella is the chief executive of Microsoft.",
         "Angela Merkel met officials of the European Central Bank in Frankfurt.",
         "Lionel Messi signed with Inter Miami after leaving Paris.",
         "Ada Lovelace worked with Charles Babbage in London.",
         "The World Health Organization opened an office in Nairobi.",
         "Steven Spielberg was born in Cincinnati."]


def extract(model, texts=TEXTS):
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA, "tasks": ["ner", "re"],
                                      "typing": "generate", "model": model})
    docs = list(nlp.pipe(texts, batch_size=8))
    return [([(e.start_char, e.end_char, e.label_) for e in d.ents],
             [(r["head"]["start"], r["label"], r["tail"]["start"]) for r in d._.relations])
            for d in docs]


def test_llama_server_gives_the_extractions_of_the_model_in_process(shipped_gguf):
    """Greedy decoding of the same f32 weights: identical entities and relations
    (unconstrained: a served model is not constrained, docs/inference.md)."""
    in_process = extract({"@llm_models": "spacy_knowcoder.HFModel.v1", "name": None,
                          "dtype": "float32", "constrained": False, "max_new_tokens": 80})
    with running_llama_server(shipped_gguf, parallel=2, ctx_size=4096, threads=2) as url:
        served = extract({"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url,
                          "max_new_tokens": 80, "batch_size": 2, "concurrency": 2,
                          "max_context": 2048})
    assert served == in_process
    assert sum(len(ents) for ents, _ in served) >= len(TEXTS)
    # (the shipped default relates none of these with classes as generated: its
    # relation answers are compared all the same, empty lists included)


def test_a_bad_gguf_or_model_folder_gets_a_coded_error(shipped_gguf, tmp_path):
    from spacy_knowcoder.generation.llama_server import convert_to_gguf

    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a gguf file" * 100)
    with pytest.raises(RuntimeError, match="E167.*exited"):
        with running_llama_server(garbage, ready_timeout=60):
            pass
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="E168"):
        convert_to_gguf(tmp_path / "empty", tmp_path / "out.gguf")
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "out.gguf").exists()


def test_a_missing_build_is_named_with_the_fix(monkeypatch, tmp_path):
    from spacy_knowcoder.generation import llama_server

    monkeypatch.setattr(llama_server, "_build_roots", lambda: [tmp_path / ".llama.cpp"])
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(llama_server.SERVER_ENV, raising=False)
    monkeypatch.delenv(llama_server.SOURCE_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match="E166.*bin/build-llama-server.sh"):
        llama_server.find_llama_server()
    with pytest.raises(FileNotFoundError, match="E166.*convert_hf_to_gguf"):
        llama_server.find_converter()


EVENT_SCHEMA = {**SCHEMA, "events": {"marriage": {"description": "Two people get married.",
                                                   "roles": ["spouse", "place"]}}}
HARD_TEXTS = ['He said "hi" to Ann \\ Bob in Zürich 😀.',
              "Barack Obama married Michelle Robinson in Chicago.",
              "Ada Lovelace was born in London.\nShe met Charles Babbage."]


def test_llama_server_constrains_by_the_schema_grammar(shipped_gguf):
    """``grammar = "llama.cpp"``: every answer of every task is one the local
    grammar accepts whole (candidate classes, mentions from the text), quotes,
    backslashes, newlines and non-ASCII text included."""
    from spacy_knowcoder.generation.constrained import ResultsGrammar

    with running_llama_server(shipped_gguf, parallel=2, threads=2) as url:
        nlp = spacy.blank("en")
        pipe = nlp.add_pipe("knowcoder", config={
            "schema": EVENT_SCHEMA, "tasks": ["ner", "re", "ed", "eae"], "typing": "generate",
            "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url,
                      "max_new_tokens": 96, "grammar": "llama.cpp", "concurrency": 2}})
        generator = pipe.generator
        seen = []
        real_generate = generator.generate

        def recording(prompts, constraints=None):
            outputs = real_generate(prompts, constraints)
            seen.extend(zip(constraints, outputs))
            return outputs

        generator.generate = recording
        docs = list(nlp.pipe(HARD_TEXTS + TEXTS[:3]))
    assert {c.task for c, _ in seen} == {"ner", "re", "ed", "eae"}
    closed = 0
    for constraint, output in seen:
        grammar = ResultsGrammar(constraint)
        state = grammar.advance(grammar.start(), output.encode("utf-8"))
        assert state is not None, (constraint.task, output)  # never a step outside
        closed += grammar.is_done(state)
    # a list the model does not close in max_new_tokens is cut (a small model loops)
    assert closed >= 0.7 * len(seen)
    assert sum(len(d.ents) for d in docs) >= len(docs)
