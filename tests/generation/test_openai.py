"""The OpenAI-compatible backend against a real HTTP server on loopback.

The server answers in the ``/v1/completions`` response shape and honours the
request like a serving engine would: for each prompt it "generates" the
answer of a small lookup (the sentence's capitalized words as Person items),
cuts it at the first stop string (which it does not return) and respects
``max_tokens`` (one token per character here).
"""
import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
import spacy

from spacy_knowcoder.generation import GenerationSettings
from spacy_knowcoder.generation.loading import load_generator
from spacy_knowcoder.generation.openai import OpenAIGenerator


def answer_for(prompt: str) -> str:
    sentence = prompt.rsplit('sentence = "', 1)[-1].split('"', 1)[0]
    names = [w.strip(".,") for w in sentence.split() if w[:1].isupper()]
    items = ",\n\t".join(f'Person("{n}")' for n in names)
    return f"results = [\n\t{items}\n]\nmore text" if names else "results = []\n"


class Handler(BaseHTTPRequestHandler):
    requests: List[Dict[str, Any]] = []
    failures_left = 0
    delay = 0.0  # seconds each answer takes
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        try:
            time.sleep(cls.delay)
            self._answer()
        finally:
            with cls.lock:
                cls.in_flight -= 1

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self._send(503, {"error": "busy"})
            return
        if self.path != "/v1/completions":
            self._send(404, {"error": "not found"})
            return
        choices = []
        for index, prompt in enumerate(body["prompt"]):
            text, reason = answer_for(prompt), "stop"
            for stop in body.get("stop", []):
                cut = text.find(stop)
                if cut != -1:
                    text = text[:cut]
            if len(text) > body["max_tokens"]:
                text, reason = text[:body["max_tokens"]], "length"
            choices.append({"index": index, "text": text, "finish_reason": reason})
        choices.reverse()  # order must come from "index", not from the position
        self._send(200, {"object": "text_completion", "model": body["model"],
                         "choices": choices})

    def _send(self, status: int, payload: Dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    Handler.requests = []
    Handler.failures_left = 0
    Handler.delay, Handler.in_flight, Handler.most_in_flight = 0.0, 0, 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def prompt(sentence: str) -> str:
    return f'Input:\nclass Person(Entity):\n    pass\nsentence = "{sentence}"\n\nOutput:\n'


def test_batches_keep_order_and_restore_the_closing_bracket(server: str) -> None:
    gen = OpenAIGenerator(server, GenerationSettings(max_new_tokens=200, batch_size=2))
    sentences = ["Ann met Bob.", "nobody here", "Carl"]
    out = gen.generate([prompt(s) for s in sentences])
    assert out == ['results = [\n\tPerson("Ann"),\n\tPerson("Bob")\n]', "results = []",
                   'results = [\n\tPerson("Carl")\n]']
    assert len(Handler.requests) == 2  # two batches
    body = Handler.requests[0]["body"]
    assert body["temperature"] == 0 and body["max_tokens"] == 200
    assert '"""' in body["stop"] and "\n]" in body["stop"]


def test_cut_off_output_is_not_closed(server: str) -> None:
    gen = OpenAIGenerator(server, GenerationSettings(max_new_tokens=27))
    assert gen.generate([prompt("Ann met Bob.")]) == ['results = [\n\tPerson("Ann"),']


def test_5xx_is_retried_with_backoff(server: str) -> None:
    Handler.failures_left = 2
    gen = OpenAIGenerator(server, GenerationSettings(max_new_tokens=100), backoff=0.01)
    assert gen.generate([prompt("Ann")]) == ['results = [\n\tPerson("Ann")\n]']
    assert len(Handler.requests) == 3


def test_errors_are_coded(server: str) -> None:
    Handler.failures_left = 10
    gen = OpenAIGenerator(server, GenerationSettings(), retries=1, backoff=0.01)
    with pytest.raises(RuntimeError, match="E164.*503"):
        gen.generate([prompt("Ann")])
    Handler.failures_left = 0
    with pytest.raises(RuntimeError, match="E164.*404"):
        OpenAIGenerator(server.replace("/v1", "/other/v1"), retries=0).generate(["x"])
    with pytest.raises(ConnectionError, match="E163"):
        OpenAIGenerator("http://127.0.0.1:9/v1", retries=1, backoff=0.01).generate(["x"])
    with pytest.raises(TypeError, match="E109"):
        gen.generate("one prompt")


def test_component_runs_on_the_endpoint(server: str, assert_valid_results) -> None:
    assert type(load_generator(server, GenerationSettings())).__name__ == "OpenAIGenerator"
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": server, "tasks": ["ner"],
                                      "schema": {"entities": {"person": "A human."}}})
    doc = nlp("Yesterday Ann met Bob in town.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Yesterday", "person"),
                                                      ("Ann", "person"), ("Bob", "person")]
    assert_valid_results(doc)


def test_the_openai_model_block_sends_its_settings(server: str, monkeypatch) -> None:
    """``spacy_knowcoder.OpenAIModel.v1``: the block's settings reach each request,
    and the API key is read from the environment variable it names."""
    monkeypatch.setenv("TEST_KNOWCODER_KEY", "secret")
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("knowcoder", config={
        "tasks": ["ner"], "schema": {"entities": {"person": "A human."}},
        "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": server,
                  "max_new_tokens": 50, "batch_size": 3, "model_name": "served-kc",
                  "api_key_env": "TEST_KNOWCODER_KEY"}})
    docs = list(nlp.pipe(["Ann met Bob.", "Cid met Dan.", "Eve met Fay.", "Gus left."]))
    assert [[e.text for e in doc.ents] for doc in docs] == [
        ["Ann", "Bob"], ["Cid", "Dan"], ["Eve", "Fay"], ["Gus"]]
    bodies = [r["body"] for r in Handler.requests]
    assert [len(b["prompt"]) for b in bodies] == [3, 1]
    assert {(b["model"], b["max_tokens"]) for b in bodies} == {("served-kc", 50)}
    assert pipe.generator.api_key == "secret"
    with pytest.raises(ValueError, match="E104.*url"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": {"entities": {"person": "A human."}},
            "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": "models/x"}})


def test_requests_run_concurrently_up_to_the_setting_in_order_and_retried(server: str) -> None:
    """``concurrency``: up to that many requests at once, answers kept in prompt
    order, a failed one retried on its own."""
    Handler.delay, Handler.failures_left = 0.2, 1
    sentences = [f"Name{i} met Other{i}." for i in range(12)]
    gen = OpenAIGenerator(server, GenerationSettings(max_new_tokens=64, batch_size=2),
                          concurrency=3, backoff=0.01)
    outputs = gen.generate([prompt(s) for s in sentences])
    assert Handler.most_in_flight == 3
    assert outputs == [f'results = [\n\tPerson("Name{i}"),\n\tPerson("Other{i}")\n]'
                       for i in range(12)]
    assert len(Handler.requests) == 6 + 1  # six batches, one of them twice
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "tasks": ["ner"], "schema": {"entities": {"person": "A human."}},
        "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": server,
                  "batch_size": 2, "concurrency": 4}})
    Handler.most_in_flight = 0
    docs = list(nlp.pipe(sentences, batch_size=12))
    assert [[e.text for e in d.ents] for d in docs] == [[f"Name{i}", f"Other{i}"]
                                                          for i in range(12)]
    assert Handler.most_in_flight == 4
    with pytest.raises(ValueError, match="E104.*concurrency"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": {"entities": {"person": "A human."}},
            "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": server,
                      "concurrency": 0}})


def test_a_grammar_engine_gets_each_prompt_alone_with_its_grammar(server: str) -> None:
    """``grammar``: the component hands its constraints over; each constrained
    prompt is one request carrying its GBNF in the engine's field."""
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("knowcoder", config={
        "tasks": ["ner"], "schema": {"entities": {"person": "A human."}},
        "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": server,
                  "batch_size": 4, "grammar": "llama.cpp", "concurrency": 2}})
    docs = list(nlp.pipe(["Ann met Bob.", "Cid left.", "Eve met Fay."]))
    assert [[e.text for e in d.ents] for d in docs] == [["Ann", "Bob"], ["Cid"], ["Eve", "Fay"]]
    bodies = [r["body"] for r in Handler.requests]
    assert [len(b["prompt"]) for b in bodies] == [1, 1, 1]
    assert all(b["cache_prompt"] is True and b["grammar"].startswith("root ::= ")
               for b in bodies)
    assert any('"C"' in b["grammar"] for b in bodies)  # the text's own characters
    assert pipe.generator.accepts_constraints
    vllm = OpenAIGenerator(server, grammar="vllm").request_body(["p"], 'root ::= "]"')
    legacy = OpenAIGenerator(server, grammar="vllm-legacy").request_body(["p"], 'root ::= "]"')
    sglang = OpenAIGenerator(server, grammar="sglang").request_body(["p"], 'root ::= "]"')
    assert (vllm["structured_outputs"], legacy["guided_grammar"], sglang["ebnf"]) == (
        {"grammar": 'root ::= "]"'}, 'root ::= "]"', 'root ::= "]"')
    with pytest.raises(ValueError, match="E104.*grammar"):
        spacy.blank("en").add_pipe("knowcoder", config={
            "schema": {"entities": {"person": "A human."}},
            "model": {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": server,
                      "grammar": "outlines"}})


def test_typing_by_score_on_a_served_model_keeps_the_generated_classes(server: str) -> None:
    """A served model gives no token scores: classes as generated, no scores, counted."""
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"model": server, "tasks": ["ner"], "typing": "score",
                                      "schema": {"entities": {"person": "A human.",
                                                              "city": "A town."}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default typing says nothing for each pipeline
        docs = list(nlp.pipe(["Ann met Bob.", "Cid met Dan."]))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Ann", "person"), ("Bob", "person")]
    assert docs[0]._.knowcoder_diagnostics["typing"]["no_model_scores"] == 2
    assert "scores" not in docs[0].spans["knowcoder"].attrs
