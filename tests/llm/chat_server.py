"""A real OpenAI-compatible chat server on loopback for the spacy-llm tests.

``ChatServer`` is an ``http.server.ThreadingHTTPServer`` in a thread that
serves ``GET /v1/models`` and ``POST /v1/chat/completions``. It answers like a
chat model would: a sentence of chat, then a fenced ```python block with
``results = [...]``, then another sentence. The answer is chosen from the
*prompt*: the task from the KnowCoder instruction, the mentions from the last
``sentence = "..."`` line (read with ``ast.literal_eval``, a string literal only).
"""
import ast
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "The city where a person was born.",
                              "head": ["person"], "tail": ["city"]}},
    "events": {"marriage": {"description": "Two people get married.",
                            "roles": ["spouse", "place"]}},
}
PEOPLE = ("Barack Obama", "Michelle Robinson", "Ada Lovelace")
CITIES = ("Honolulu", "Chicago", "London")
MODEL_NAME = "knowcoder-test"
# Sentences with these words get broken answers (the bad-input tests).
BAD_ANSWERS = {
    "nolist": "I am sorry, I cannot extract anything from this text.",
    "unknowns": '```python\nresults = [\n\tPerson("Ada Lovelace"),\n\tSpaceship("London")\n]\n```',
    "cutoff": 'results = [\n\tPerson("Ada Lovelace"),\n\tCity("Lon',
}


def last_sentence(prompt: str) -> str:
    """The text of the query's ``sentence = "..."`` line (after any examples)."""
    line = [x for x in prompt.splitlines() if x.startswith("sentence = ")][-1]
    return ast.literal_eval(line[len("sentence = "):])


def answer_items(prompt: str) -> List[str]:
    """What a perfect KnowCoder model would list for this prompt."""
    text = last_sentence(prompt)
    people = [p for p in PEOPLE if p in text]
    cities = [c for c in CITIES if c in text]
    if "Please instantiate all the corresponding Entity Objects" in prompt:
        return [f'Person("{p}")' for p in people] + [f'City("{c}")' for c in cities]
    if "Relation Objects" in prompt:
        if "born in" not in text:
            return []
        return [f'BornIn(Entity("{p}"), Entity("{c}"))' for p in people[:1] for c in cities[:1]]
    if "married" not in text:
        return []
    if "triggers of the events are confirmed" in prompt:
        spouses = ", ".join(f'Entity("{p}")' for p in people)
        places = ", ".join(f'Entity("{c}")' for c in cities)
        return [f'Marriage(trigger = "married", spouse = [{spouses}], place = [{places}])']
    return ['Marriage("married")']


def chat_answer(prompt: str) -> str:
    """A chat-style answer: prose, a fenced code block, prose."""
    text = last_sentence(prompt)
    for word, answer in BAD_ANSWERS.items():
        if word in text:
            return answer
    items = answer_items(prompt)
    body = "results = [\n\t" + ",\n\t".join(items) + "\n]" if items else "results = []"
    return f"Sure! Here is the code:\n```python\n{body}\n```\nLet me know if you need more."


class ChatServer:
    """The server, its URL and every chat request it got (JSON bodies)."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _send(self, payload: Dict[str, Any], status: int = 200) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._send({"object": "list", "data": [{"id": MODEL_NAME}]})
                else:
                    self._send({"error": {"message": "not found"}}, 404)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self._send({"error": {"message": "not found"}}, 404)
                    return
                content = chat_answer(body["messages"][-1]["content"])
                self._send({"id": "x", "object": "chat.completion", "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop", "message":
                                         {"role": "assistant", "content": content}}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/chat/completions"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def chat_model_config(server: ChatServer, **extra: Any) -> Dict[str, Any]:
    """The spacy-llm model block for the test server."""
    return {"@llm_models": "spacy_knowcoder.OpenAICompatible.v1", "name": MODEL_NAME,
            "endpoint": server.url, "max_tries": 1, "max_request_time": 20, **extra}


def task_config(**extra: Any) -> Dict[str, Any]:
    """The spacy-llm task block for the test schema."""
    return {"@llm_tasks": "spacy_knowcoder.KnowCoder.v1", "schema": SCHEMA, **extra}
