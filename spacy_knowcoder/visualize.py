"""displaCy views of what the knowcoder component found: entities, relations, events.

A doc (or a record of the benchmark JSONL, DESIGN §5) becomes one HTML section
with up to three displaCy views, all rendered with ``spacy.displacy.render(...,
manual=True)``:

- **Entities**: the ``span`` style, so overlapping and nested mentions show.
- **Relations**: the ``dep`` style. The text is cut into words at whitespace and
  at mention boundaries; every head and tail mention becomes a single word whose
  tag is its entity label, and an arc labelled with the relation points from
  the head to the tail.
- **Events**: the ``dep`` style again: the trigger word is tagged with the
  event type and one arc per argument, labelled with the role, points from the
  trigger to the argument.

Mentions that overlap cannot both be words of one dependency view, so arcs are
spread over as many views as needed (greedily, in input order). A mention whose
offsets do not fit the text, and an arc that cannot be drawn (its two ends
overlap), are skipped with one warning W400 per doc. Nothing is invented: every label in the
page comes from the doc or the record.

Example:
    >>> record = {"text": "Ann married Bob in Paris.",
    ...           "entities": [{"start": 0, "end": 3, "label": "person"}],
    ...           "relations": [],
    ...           "events": [{"type": "marriage", "trigger": {"start": 4, "end": 11},
    ...                       "arguments": [{"start": 12, "end": 15, "role": "spouse"}]}]}
    >>> html = render([record], page=True)
    >>> "spouse" in html and "marriage" in html and "person" in html
    True
"""
import html as html_lib
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from wsgiref import simple_server

from spacy import displacy
from spacy.tokens import Doc

from .errors import Errors, Warnings, warn
from .extensions import DIAGNOSTICS, EVENTS, RELATIONS

Record = Dict[str, Any]
DEFAULT_SPANS_KEY = "knowcoder"
# Light colours that keep black label text readable; a label always gets the same one.
PALETTE = ("#7aecec", "#bfeeb7", "#feca74", "#ff9561", "#aa9cfc", "#c887fb",
           "#9cc9cc", "#ffeb80", "#ff8197", "#f0d0ff", "#bfe1d9", "#e4e7d2")
# Word spacing of the dependency views adapts to the longest word (in pixels per character).
CHAR_WIDTH = 9
MIN_DISTANCE, MAX_DISTANCE = 110, 360


@dataclass(frozen=True, order=True)
class Mention:
    """A labelled character span of the text (end exclusive).

    Example:
        >>> Mention(0, 3, "person").overlaps(Mention(2, 5, ""))
        True
    """

    start: int
    end: int
    label: str = ""

    def overlaps(self, other: "Mention") -> bool:
        """RETURNS (bool): Whether the two mentions share a character."""
        return self.start < other.end and other.start < self.end

    def same_span(self, other: "Mention") -> bool:
        """RETURNS (bool): Whether both cover the same characters."""
        return (self.start, self.end) == (other.start, other.end)


@dataclass(frozen=True)
class Arc:
    """A labelled arrow from one mention to another (relation or event role)."""

    source: Mention
    target: Mention
    label: str


# ---------------------------------------------------------------------------
# Docs and records


def doc_to_record(doc: Doc, *, spans_key: str = DEFAULT_SPANS_KEY,
                  doc_id: Optional[str] = None) -> Record:
    """Turn a processed doc into a benchmark-style record (DESIGN §5).

    Entities are ``doc.ents`` plus ``doc.spans[spans_key]`` (the component's
    predictions, which may overlap), without duplicates.

    doc (Doc): A doc with ``doc.ents``, ``doc._.relations`` and ``doc._.events``.
    spans_key (str): The span group with overlapping entity predictions.
    doc_id (Optional[str]): The record's id.
    RETURNS (Dict[str, Any]): ``{"id", "text", "entities", "relations", "events"}``.

    Example:
        >>> import spacy
        >>> doc = spacy.blank("en")("Ann met Bob")
        >>> doc.ents = [doc.char_span(0, 3, label="person")]
        >>> doc_to_record(doc)["entities"]
        [{'start': 0, 'end': 3, 'label': 'person', 'text': 'Ann'}]
    """
    spans = list(doc.ents) + list(doc.spans.get(spans_key, []))
    seen, entities = set(), []
    for span in sorted(spans, key=lambda s: (s.start_char, s.end_char, s.label_)):
        key = (span.start_char, span.end_char, span.label_)
        if key not in seen:
            seen.add(key)
            entities.append({"start": span.start_char, "end": span.end_char,
                             "label": span.label_, "text": span.text})
    return {"id": doc_id, "text": doc.text, "entities": entities,
            "relations": _user_list(doc, RELATIONS), "events": _user_list(doc, EVENTS)}


def _user_list(doc: Doc, name: str) -> List[Any]:
    # Read user_data directly: works whether or not the extensions are registered.
    if name in (RELATIONS, EVENTS, DIAGNOSTICS) and doc.has_extension(name):
        return list(doc._.get(name))
    value = doc.user_data.get(("._.", name, None, None), [])
    return [dict(v) for v in value if isinstance(v, Mapping)]


@dataclass
class Views:
    """The checked mentions and arcs of one record, ready to render."""

    doc_id: str
    text: str
    entities: List[Mention]
    relations: List[Arc]
    events: List[Tuple[Mention, List[Arc]]]
    problems: List[str]


def check_record(record: Any, where: str) -> Views:
    """Validate a record; mentions that do not fit the text are skipped and reported.

    record (Any): A benchmark record (``text`` is required).
    where (str): Where it came from, for messages (e.g. "out.jsonl line 3").
    RETURNS (Views): What can be drawn, and ``problems`` for what cannot.
    RAISES: ValueError (E402) when the record is not a dict with a string "text".

    Example:
        >>> check_record({"text": "Ann", "entities": [{"start": 0, "end": 9}]}, "x").problems
        ['entity 1: offsets 0-9 do not fit a text of 3 characters']
    """
    if not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
        found = type(record).__name__ if not isinstance(record, Mapping) else \
            f"keys {sorted(map(str, record))[:8]}"
        raise ValueError(Errors.E402.format(where=where, found=found))
    text: str = record["text"]
    views = Views(str(record.get("id") or where), text, [], [], [], [])
    for i, ent in enumerate(_items(record, "entities", views), 1):
        mention = _mention(ent, text, "label", f"entity {i}", views)
        if mention is not None:
            views.entities.append(mention)
    for i, rel in enumerate(_items(record, "relations", views), 1):
        head = _mention(rel.get("head"), text, "label", f"relation {i} head", views)
        tail = _mention(rel.get("tail"), text, "label", f"relation {i} tail", views)
        if head is not None and tail is not None:
            views.relations.append(Arc(head, tail, _label(rel.get("label"))))
    for i, evt in enumerate(_items(record, "events", views), 1):
        trigger = _mention(evt.get("trigger"), text, None, f"event {i} trigger", views)
        if trigger is None:
            continue
        trigger = Mention(trigger.start, trigger.end, _label(evt.get("type")))
        arcs = []
        for j, arg in enumerate(_list(evt.get("arguments")), 1):
            found = _mention(arg, text, "label", f"event {i} argument {j}", views)
            if found is not None:
                arcs.append(Arc(trigger, found, _label(_get(arg, "role"))))
        views.events.append((trigger, arcs))
    _fill_labels_from_entities(views)
    return views


def _fill_labels_from_entities(views: Views) -> None:
    """Give unlabelled relation/argument mentions the label of the same entity span."""
    labels = {(m.start, m.end): m.label for m in views.entities if m.label}

    def filled(m: Mention) -> Mention:
        return m if m.label else Mention(m.start, m.end, labels.get((m.start, m.end), ""))

    views.relations = [Arc(filled(a.source), filled(a.target), a.label)
                       for a in views.relations]
    views.events = [(trigger, [Arc(a.source, filled(a.target), a.label) for a in arcs])
                    for trigger, arcs in views.events]


def _items(record: Mapping[str, Any], key: str, views: Views) -> List[Mapping[str, Any]]:
    items = []
    for i, value in enumerate(_list(record.get(key)), 1):
        if isinstance(value, Mapping):
            items.append(value)
        else:
            views.problems.append(f"{key} item {i} is a {type(value).__name__}, not an object")
    return items


def _list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _label(value: Any) -> str:
    return "" if value is None else str(value)


def _mention(value: Any, text: str, label_key: Optional[str], what: str,
             views: Views) -> Optional[Mention]:
    start, end = _get(value, "start"), _get(value, "end")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        views.problems.append(f"{what}: expected integer 'start' and 'end', got "
                              f"{start!r} and {end!r}")
        return None
    if not 0 <= start < end <= len(text):
        views.problems.append(f"{what}: offsets {start}-{end} do not fit a text of "
                              f"{len(text)} characters")
        return None
    if not text[start:end].strip():
        views.problems.append(f"{what}: offsets {start}-{end} cover only whitespace")
        return None
    label = _label(_get(value, label_key)) if label_key else ""
    return Mention(start, end, label)


# ---------------------------------------------------------------------------
# displaCy data


def segment(text: str, cuts: Iterable[int]) -> List[Tuple[int, int]]:
    """Split ``text`` into words at whitespace and at the given offsets.

    text (str): The text.
    cuts (Iterable[int]): Offsets where a word must end (mention boundaries).
    RETURNS (List[Tuple[int, int]]): (start, end) of each word, no whitespace.

    Example:
        >>> segment("Ann's cat", [3])
        [(0, 3), (3, 5), (6, 9)]
    """
    cut_set = set(cuts)
    words: List[Tuple[int, int]] = []
    start: Optional[int] = None
    for i, char in enumerate(text):
        if char.isspace():
            if start is not None:
                words.append((start, i))
            start = None
            continue
        if start is not None and i in cut_set:
            words.append((start, i))
            start = None
        if start is None:
            start = i
    if start is not None:
        words.append((start, len(text)))
    return words


def _token_range(words: Sequence[Tuple[int, int]], mention: Mention) -> Tuple[int, int]:
    inside = [i for i, (s, e) in enumerate(words) if s >= mention.start and e <= mention.end]
    return inside[0], inside[-1] + 1


def span_view(views: Views) -> Dict[str, Any]:
    """The manual data of displaCy's ``span`` style for the entities.

    RETURNS (Dict[str, Any]): ``{"text", "tokens", "spans"}``; labels are HTML-escaped
        because displaCy inserts them as they are.
    """
    cuts = [x for m in views.entities for x in (m.start, m.end)]
    words = segment(views.text, cuts)
    spans = []
    for mention in views.entities:
        start, end = _token_range(words, mention)
        spans.append({"start_token": start, "end_token": end,
                      "label": _escape(mention.label)})
    return {"text": views.text, "tokens": [views.text[s:e] for s, e in words],
            "spans": spans}


def arc_views(text: str, arcs: Sequence[Arc], problems: List[str]) -> List[Dict[str, Any]]:
    """The manual data of displaCy's ``dep`` style for arcs between mentions.

    Each mention becomes one word tagged with its label. Overlapping mentions go
    to different views; an arc whose ends overlap cannot be drawn and is added
    to ``problems``.

    text (str): The text.
    arcs (Sequence[Arc]): The arcs to draw.
    problems (List[str]): Collects the arcs that were left out.
    RETURNS (List[Dict[str, Any]]): One ``{"words", "arcs"}`` dict per view.
    """
    layers: List[Tuple[List[Mention], List[Arc]]] = []
    for arc in arcs:
        if arc.source.overlaps(arc.target):
            problems.append(f"arc '{arc.label}' joins overlapping mentions "
                            f"{text[arc.source.start:arc.source.end]!r} and "
                            f"{text[arc.target.start:arc.target.end]!r}")
            continue
        for mentions, layer_arcs in layers:
            if _fits(mentions, arc.source) and _fits(mentions, arc.target):
                break
        else:
            mentions, layer_arcs = [], []
            layers.append((mentions, layer_arcs))
        for mention in (arc.source, arc.target):
            if not any(m.same_span(mention) for m in mentions):
                mentions.append(mention)
        layer_arcs.append(arc)
    return [_dep_data(text, mentions, layer_arcs) for mentions, layer_arcs in layers]


def _fits(mentions: Sequence[Mention], mention: Mention) -> bool:
    return all(m.same_span(mention) or not m.overlaps(mention) for m in mentions)


def _dep_data(text: str, mentions: Sequence[Mention], arcs: Sequence[Arc]) -> Dict[str, Any]:
    cuts = [x for m in mentions for x in (m.start, m.end)]
    words: List[Dict[str, str]] = []
    index: Dict[Tuple[int, int], int] = {}
    by_start = {m.start: m for m in mentions}
    skip_until = -1
    for start, end in segment(text, cuts):
        if start < skip_until:
            continue
        mention = by_start.get(start)
        if mention is not None:
            index[(mention.start, mention.end)] = len(words)
            inner = segment(text[mention.start:mention.end], ())
            words.append({"text": " ".join(text[mention.start + s:mention.start + e]
                                           for s, e in inner),
                          "tag": _escape(mention.label)})
            skip_until = mention.end
        else:
            words.append({"text": text[start:end], "tag": ""})
    drawn = []
    for arc in arcs:
        source = index[(arc.source.start, arc.source.end)]
        target = index[(arc.target.start, arc.target.end)]
        low, high = sorted((source, target))
        drawn.append({"start": low, "end": high, "label": _escape(arc.label),
                      "dir": "right" if source < target else "left"})
    return {"words": words, "arcs": drawn}


def dep_options(view: Mapping[str, Any]) -> Dict[str, Any]:
    """displaCy ``dep`` options whose spacing fits the view's longest word.

    Example:
        >>> dep_options({"words": [{"text": "Dokuzparinsky District", "tag": ""}]})
        {'distance': 228, 'offset_x': 109, 'word_spacing': 40}
    """
    longest = max((len(w["text"]) for w in view["words"]), default=1)
    first = len(view["words"][0]["text"]) if view["words"] else 1
    distance = min(MAX_DISTANCE, max(MIN_DISTANCE, longest * CHAR_WIDTH + 30))
    return {"distance": distance, "offset_x": max(50, first * CHAR_WIDTH // 2 + 10),
            "word_spacing": 40}


def _escape(label: str) -> str:
    return html_lib.escape(label, quote=True)


def label_colors(labels: Iterable[str]) -> Dict[str, str]:
    """A stable colour per label (displaCy looks colours up by upper-cased label).

    Example:
        >>> label_colors(["person", "city"])["PERSON"] == label_colors(["person"])["PERSON"]
        True
    """
    return {_escape(label).upper(): PALETTE[zlib.crc32(label.encode("utf-8")) % len(PALETTE)]
            for label in labels}


# ---------------------------------------------------------------------------
# HTML


def render_views(views: Views) -> str:
    """One ``<section>`` with the entity, relation and event views of a record."""
    parts = [f'<section class="knowcoder-doc"><h2>{_escape(views.doc_id)}</h2>']
    parts.append('<h3>Entities</h3><div class="knowcoder-entities">')
    if views.entities:
        colors = label_colors(m.label for m in views.entities)
        parts.append(displacy.render(span_view(views), style="span", manual=True,
                                     jupyter=False, options={"colors": colors}))
    else:
        parts.append('<p class="knowcoder-empty">No entities.</p>')
    parts.append("</div>")
    parts.append(_dep_section("Relations", "knowcoder-relations",
                              arc_views(views.text, views.relations, views.problems)))
    parts.append(_dep_section("Events", "knowcoder-events",
                              _event_views(views.text, views.events, views.problems)))
    parts.append("</section>")
    return "\n".join(parts)


def _event_views(text: str, events: Sequence[Tuple[Mention, List[Arc]]],
                 problems: List[str]) -> List[Dict[str, Any]]:
    """One view per event, so the roles of different events never mix."""
    data = []
    for trigger, arcs in events:
        views = arc_views(text, arcs, problems) if arcs else []
        data.extend(views or [_dep_data(text, [trigger], [])])
    return data


def _dep_section(title: str, css_class: str, data: List[Dict[str, Any]]) -> str:
    if not data:
        return (f'<h3>{title}</h3><div class="{css_class}">'
                f'<p class="knowcoder-empty">No {title.lower()}.</p></div>')
    svg = "".join(displacy.render(view, style="dep", manual=True, jupyter=False,
                                  options=dep_options(view)) for view in data)
    return f'<h3>{title}</h3><div class="{css_class}">{svg}</div>'


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2rem; color: #111; background: #fff; }}
section.knowcoder-doc {{ border-bottom: 1px solid #ddd; padding-bottom: 1rem;
                         margin-bottom: 2rem; overflow-x: auto; }}
h2 {{ font-size: 1.1rem; }} h3 {{ font-size: 0.95rem; color: #555; }}
.knowcoder-empty {{ color: #888; font-style: italic; }}
</style>
</head>
<body>
<h1>{title}</h1>
{content}
</body>
</html>
"""


def render(docs: Iterable[Union[Doc, Mapping[str, Any]]], *, page: bool = True,
           title: str = "spacy-knowcoder results", spans_key: str = DEFAULT_SPANS_KEY,
           limit: Optional[int] = None) -> str:
    """Render docs or benchmark records as HTML, one section per doc.

    docs (Iterable[Union[Doc, Dict]]): Processed docs or JSONL records (§5).
    page (bool): Return a whole HTML page (True) or only the sections.
    title (str): The page title.
    spans_key (str): The span group with overlapping entity predictions (docs only).
    limit (Optional[int]): Render at most this many docs.
    RETURNS (str): The HTML.
    RAISES: TypeError (E403) for an item that is neither a Doc nor a dict,
        ValueError (E402) for a record without text.

    Example:
        >>> import spacy
        >>> doc = spacy.blank("en")("Ann met Bob")
        >>> doc.ents = [doc.char_span(0, 3, label="person")]
        >>> "person" in render([doc], page=False)
        True
    """
    sections = []
    for i, item in enumerate(docs):
        if limit is not None and i >= limit:
            break
        views = _views_of(item, i, spans_key)
        sections.append(render_views(views))
        if views.problems:
            warn(Warnings.W400.format(count=len(views.problems), doc=views.doc_id,
                                      first="; ".join(views.problems[:3])))
    content = "\n".join(sections)
    if not page:
        return content
    return PAGE.format(title=_escape(title), content=content)


def _views_of(item: Any, index: int, spans_key: str) -> Views:
    where = f"doc {index + 1}"
    if isinstance(item, Doc):
        record = doc_to_record(item, spans_key=spans_key, doc_id=where)
    elif isinstance(item, Mapping):
        record = item
    else:
        raise TypeError(Errors.E403.format(type=type(item).__name__))
    return check_record(record, where)


# ---------------------------------------------------------------------------
# Serving


def make_server(html: str, host: str = "127.0.0.1", port: int = 5000
                ) -> simple_server.WSGIServer:
    """A WSGI server (like ``displacy.serve``'s) that answers every GET with ``html``.

    html (str): The page.
    host (str): The interface to bind; 127.0.0.1 keeps it local.
    port (int): The port; 0 picks a free one (see ``server.server_port``).
    RETURNS (WSGIServer): Call ``serve_forever()`` on it, ``shutdown()`` to stop.
    RAISES: OSError (E404) when the address cannot be bound.

    Example:
        >>> server = make_server("<p>hi</p>", port=0)
        >>> server.server_port > 0
        True
        >>> server.server_close()
    """
    body = html.encode("utf-8")

    def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        start_response("200 OK", [("Content-type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    try:
        return simple_server.make_server(host, port, app, handler_class=_QuietHandler)
    except OSError as err:
        raise OSError(Errors.E404.format(host=host, port=port, reason=err)) from None


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Requests are not logged (library code does not print)."""
