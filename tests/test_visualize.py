"""displaCy views (spacy_knowcoder.visualize) and ``knowcoder visualize``.

The docs come from a real spaCy pipeline with the real knowcoder component;
only the model is replaced by scripted completions (helpers.ScriptedGenerator),
so prompts, parsing, alignment and the stored results are the real thing.
The browser test (test_visualize_browser.py) loads the same HTML in Chromium.
"""
import ast
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import List, Sequence

import pytest
import spacy
from tests.helpers import ScriptedGenerator
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.cli.visualize import read_docbin, read_predictions, write_visualization
from spacy_knowcoder.visualize import (
    Arc,
    Mention,
    arc_views,
    check_record,
    doc_to_record,
    make_server,
    render,
    segment,
    span_view,
)

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "Birth place.", "head": ["person"],
                              "tail": ["city"]}},
    "events": {"marriage": {"description": "A wedding.", "roles": ["spouse", "place"]}},
}
TEXT = "Barack Obama married Michelle Robinson in Honolulu."
ANSWERS = {
    "ner": 'results = [\n\tPerson("Barack Obama"),\n\tPerson("Michelle Robinson"),\n'
           '\tCity("Honolulu")\n]',
    "re": 'results = [\n\tBornIn(Entity("Barack Obama"), Entity("Honolulu"))\n]',
    "ed": 'results = [\n\tMarriage("married")\n]',
    "eae": 'results = [\n\tMarriage(trigger = "married", spouse = [Entity("Barack Obama"), '
           'Entity("Michelle Robinson")], place = [Entity("Honolulu")])\n]',
}
runner = CliRunner()


def processed_docs(texts: Sequence[str] = (TEXT,)) -> List[Doc]:
    """Docs made by a blank English pipeline with the knowcoder component."""
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={"schema": SCHEMA}).generator = ScriptedGenerator(ANSWERS)
    return list(nlp.pipe(texts))


@pytest.fixture(scope="module")
def doc() -> Doc:
    (doc,) = processed_docs()
    assert doc.ents and doc._.relations and doc._.events
    return doc


def _svg_labels(html: str, css_class: str) -> List[str]:
    return re.findall(rf'class="{css_class}"[^>]*>([^<]*)<', html)


# ---------------------------------------------------------------------------
# The data handed to displaCy


def test_doc_to_record_has_everything_the_component_wrote(doc: Doc) -> None:
    record = doc_to_record(doc)
    assert [(e["text"], e["label"]) for e in record["entities"]] == [
        ("Barack Obama", "person"), ("Michelle Robinson", "person"), ("Honolulu", "city")]
    assert record["relations"] == doc._.relations
    assert record["events"] == doc._.events


def test_segment_cuts_at_whitespace_and_mention_boundaries() -> None:
    text = "Ann's  cat\n(Tom)"
    words = segment(text, [3, 12, 15])
    assert [text[s:e] for s, e in words] == ["Ann", "'s", "cat", "(", "Tom", ")"]
    assert segment("", [0]) == [] and segment("   ", []) == []


def test_span_view_covers_each_entity_with_its_tokens(doc: Doc) -> None:
    data = span_view(check_record(doc_to_record(doc), "doc"))
    for span in data["spans"]:
        tokens = data["tokens"][span["start_token"]:span["end_token"]]
        assert " ".join(tokens) in ("Barack Obama", "Michelle Robinson", "Honolulu")


def test_relation_arc_points_from_head_to_tail(doc: Doc) -> None:
    views = check_record(doc_to_record(doc), "doc")
    (view,) = arc_views(views.text, views.relations, views.problems)
    words = [w["text"] for w in view["words"]]
    (arc,) = view["arcs"]
    assert words[arc["start"]] == "Barack Obama" and words[arc["end"]] == "Honolulu"
    assert arc["dir"] == "right" and arc["label"] == "born in"
    assert view["words"][arc["start"]]["tag"] == "person"
    assert view["words"][arc["end"]]["tag"] == "city"


def test_arc_to_an_earlier_mention_points_left() -> None:
    text = "Paris is where Ann lives"
    paris, ann = Mention(0, 5, "city"), Mention(15, 18, "person")
    (view,) = arc_views(text, [Arc(ann, paris, "lives in")], [])
    (arc,) = view["arcs"]
    assert (arc["start"], arc["end"], arc["dir"]) == (0, 3, "left")


def test_overlapping_mentions_go_to_separate_views() -> None:
    text = "New York City mayor"
    whole, part, mayor = Mention(0, 13, "city"), Mention(0, 8, "state"), Mention(14, 19, "")
    problems: List[str] = []
    views = arc_views(text, [Arc(mayor, whole, "of"), Arc(mayor, part, "near")], problems)
    assert len(views) == 2 and not problems
    assert [w["text"] for w in views[0]["words"]] == ["New York City", "mayor"]
    assert [w["text"] for w in views[1]["words"]] == ["New York", "City", "mayor"]


def test_arc_between_overlapping_mentions_is_reported_not_drawn() -> None:
    problems: List[str] = []
    assert arc_views("New York", [Arc(Mention(0, 8), Mention(4, 8), "x")], problems) == []
    assert "overlapping" in problems[0]


def test_render_shows_entity_labels_relation_labels_and_roles(doc: Doc) -> None:
    html = render([doc])
    assert html.startswith("<!DOCTYPE html>")
    assert {"born in"} == set(_svg_labels(html, "displacy-label")) - {"spouse", "place"}
    assert {"spouse", "place"} <= set(_svg_labels(html, "displacy-label"))
    tags = set(_svg_labels(html, "displacy-tag"))
    assert {"person", "city", "marriage"} <= tags
    assert html.count("<svg") == 2  # one relation view, one event view


def test_event_without_arguments_still_shows_its_trigger() -> None:
    record = {"text": "They wed.", "events": [
        {"type": "marriage", "trigger": {"start": 5, "end": 8}, "arguments": []}]}
    html = render([record], page=False)
    assert "marriage" in _svg_labels(html, "displacy-tag")


def test_sections_say_when_there_is_nothing() -> None:
    html = render([{"text": "Nothing here."}], page=False)
    for what in ("entities", "relations", "events"):
        assert f"No {what}." in html


def test_text_and_labels_are_escaped() -> None:
    evil = '<script>window.pwned=1</script>'
    text = f"Ann {evil} met Bob"
    start = text.index(evil)
    record = {"id": "<b>id</b>", "text": text,
              "entities": [{"start": 0, "end": 3, "label": '<img src=x onerror="alert(1)">'},
                           {"start": start, "end": start + len(evil), "label": "code"}],
              "relations": [{"label": "</textPath><script>", "head": {"start": 0, "end": 3},
                             "tail": {"start": len(text) - 3, "end": len(text)}}],
              "events": []}
    html = render([record], title="<title>")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "<b>id</b>" not in html and "&lt;script&gt;" in html


def test_bad_offsets_are_skipped_with_w400_and_the_rest_is_shown() -> None:
    record = {"text": "Ann met Bob", "entities": [
        {"start": 0, "end": 3, "label": "person"}, {"start": 8, "end": 99, "label": "x"},
        {"start": "0", "end": 3, "label": "y"}, {"start": 3, "end": 4, "label": "space"},
        {"start": 5, "end": 2, "label": "backwards"}, "not an object"],
        "relations": [{"label": "knows", "head": {"start": 0, "end": 3}, "tail": None}],
        "events": [{"type": "meeting", "trigger": {"start": 4, "end": 7},
                    "arguments": [{"start": -1, "end": 3, "role": "who"},
                                  {"start": 8, "end": 11, "role": "whom"}]}]}
    with pytest.warns(UserWarning, match=r"\[W400\] Skipped 7 "):
        html = render([record])
    assert "person" in html and "whom" in html
    for skipped in ("backwards", "knows", ">who<"):
        assert skipped not in html


def test_record_without_text_is_e402() -> None:
    with pytest.raises(ValueError, match=r"\[E402\].*keys \['entities'\]"):
        render([{"entities": []}])
    with pytest.raises(ValueError, match=r"\[E402\]"):
        render([{"text": 42}])


def test_other_objects_are_e403() -> None:
    with pytest.raises(TypeError, match=r"\[E403\].*str"):
        render(["just a string"])


def test_limit() -> None:
    html = render([{"text": f"Doc {i}", "id": f"d{i}"} for i in range(5)], limit=2)
    assert html.count('<section class="knowcoder-doc">') == 2


# ---------------------------------------------------------------------------
# Reading inputs and the CLI


def _write_docbin(path: Path, docs: Sequence[Doc]) -> Path:
    DocBin(store_user_data=True, docs=docs).to_disk(path)
    return path


def test_docbin_input_keeps_relations_and_events(doc: Doc, tmp_path: Path) -> None:
    path = _write_docbin(tmp_path / "docs.spacy", [doc])
    (restored,) = read_docbin(path)
    assert doc_to_record(restored) == doc_to_record(doc)


def test_cli_writes_html_for_a_docbin(doc: Doc, tmp_path: Path) -> None:
    path = _write_docbin(tmp_path / "docs.spacy", [doc, doc, doc])
    out = tmp_path / "html" / "docs.html"
    result = runner.invoke(app, ["visualize", str(path), str(out), "--limit", "2"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.count('<section class="knowcoder-doc">') == 2
    assert "born in" in html and "spouse" in html and "person" in html


def test_cli_writes_html_for_predictions_jsonl(doc: Doc, tmp_path: Path) -> None:
    import srsly

    path = tmp_path / "predictions.jsonl"
    srsly.write_jsonl(path, [doc_to_record(doc), {"text": "Empty one."}])
    out = tmp_path / "predictions.html"
    result = runner.invoke(app, ["visualize", str(path), str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "predictions.jsonl line 2" in html and "born in" in html


@pytest.mark.parametrize("name,content,code", [
    ("data.txt", "hello", "E400"),
    ("bad.jsonl", '{"text": "ok"}\n{"text": "unterminated\n', "E401"),
    ("list.jsonl", '["not", "an", "object"]\n', "E401"),
    ("notext.jsonl", '{"entities": []}\n', "E402"),
    ("bad.spacy", "this is not a DocBin", "E405"),
    ("empty.jsonl", "\n\n", "E406"),
    ("latin1.jsonl", b'{"text": "caf\xe9"}\n', "E022"),
])
def test_cli_bad_input_fails_with_a_code(tmp_path: Path, name: str, content, code: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["visualize", str(path), str(out)])
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_missing_input_is_e021(tmp_path: Path) -> None:
    result = runner.invoke(app, ["visualize", str(tmp_path / "nope.spacy"),
                                 str(tmp_path / "out.html")])
    assert result.exit_code == 1 and "[E021]" in result.output


def test_truncated_docbin_is_e405(doc: Doc, tmp_path: Path) -> None:
    path = _write_docbin(tmp_path / "docs.spacy", [doc] * 20)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"\[E405\]"):
        read_docbin(path)


def test_failed_run_keeps_the_previous_page(doc: Doc, tmp_path: Path) -> None:
    good = _write_docbin(tmp_path / "docs.spacy", [doc])
    out = tmp_path / "out.html"
    assert write_visualization(good, out) == 1
    before = out.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"broken\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[E401\]"):
        write_visualization(bad, out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_predictions_get_an_id_per_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b", "id": "mine"}\n', encoding="utf-8")
    assert [r["id"] for r in read_predictions(path)] == ["p.jsonl line 1", "mine"]


# ---------------------------------------------------------------------------
# Serving


def _get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        return response.read().decode("utf-8")


def test_server_answers_a_real_http_get(doc: Doc) -> None:
    html = render([doc])
    server = make_server(html, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _get(f"http://127.0.0.1:{server.server_port}/") == html
        assert _get(f"http://127.0.0.1:{server.server_port}/any/path") == html
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_port_in_use_is_e404() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError, match=r"\[E404\].*--port"):
            make_server("<p>x</p>", host="127.0.0.1", port=taken.getsockname()[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serve_over_loopback(doc: Doc, tmp_path: Path) -> None:
    """``knowcoder visualize ... --serve`` in its own process, fetched with HTTP."""
    path = _write_docbin(tmp_path / "docs.spacy", [doc])
    out, port = tmp_path / "served.html", _free_port()
    command = [sys.executable, "-m", "spacy_knowcoder.cli", "visualize", str(path),
               str(out), "--serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page = _wait_for_page(f"http://127.0.0.1:{port}/", process, timeout=90)
        assert page == out.read_text(encoding="utf-8")
        assert "born in" in page and "spouse" in page
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert f"Serving on http://127.0.0.1:{port}" in output


def _wait_for_page(url: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {process.communicate()[0]!r}")
        try:
            return _get(url, timeout=2)
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {timeout}s")


def test_visualize_module_has_examples_and_no_print() -> None:
    import spacy_knowcoder.cli.visualize as cli_module
    import spacy_knowcoder.visualize as module

    for mod in (module, cli_module):
        tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
        calls = [n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert "print" not in calls
        assert "Example" in (mod.__doc__ or "")
