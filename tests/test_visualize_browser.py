"""The visualization in a real browser: headless Chromium renders the HTML page.

The page is made from docs of a real pipeline (see test_visualize.py) and a
benchmark record. Chromium loads it from a file:// URL; the test reads the DOM
Chromium built (``--dump-dom``) and a screenshot (``--screenshot``), which is
kept as a test artifact in ``$KNOWCODER_TEST_ARTIFACTS`` (default:
``<repo>/.test-artifacts/``, git-ignored) together with the HTML.

Chromium comes from Debian's ``chromium`` package (``bin/install-browser.sh``).
Without it the test is skipped locally and fails in CI (``CI=true``).
"""
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

from spacy_knowcoder.fileio import write_text
from spacy_knowcoder.visualize import label_colors, render
from tests.test_visualize import processed_docs

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("KNOWCODER_TEST_ARTIFACTS", REPO / ".test-artifacts"))
WIDTH, HEIGHT = 1280, 1400
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--disable-extensions", "--mute-audio"]
RECORD = {"id": "benchmark record", "text": "Ada Lovelace worked with Charles Babbage in London.",
          "entities": [{"start": 0, "end": 12, "label": "scientist"},
                       {"start": 25, "end": 40, "label": "inventor"},
                       {"start": 44, "end": 50, "label": "city"}],
          "relations": [{"label": "colleague of", "head": {"start": 0, "end": 12},
                         "tail": {"start": 25, "end": 40}}],
          "events": [{"type": "collaboration", "trigger": {"start": 13, "end": 19},
                      "arguments": [{"start": 0, "end": 12, "role": "partner"},
                                    {"start": 44, "end": 50, "role": "venue"}]}]}


def find_chromium() -> Optional[str]:
    """RETURNS (Optional[str]): The browser binary ($KNOWCODER_CHROMIUM or on PATH)."""
    configured = os.environ.get("KNOWCODER_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        message = ("Chromium is not installed; run bin/install-browser.sh "
                   "(apt-get install chromium) or set KNOWCODER_CHROMIUM")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def run_chromium(binary: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="knowcoder-chromium-") as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
        return subprocess.run(command, capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page() -> Path:
    """The HTML page, written into the artifact folder."""
    html = render(processed_docs() + [RECORD], title="spacy-knowcoder browser test")
    path = ARTIFACTS / "visualize.html"
    write_text(path, html)
    return path


@pytest.fixture(scope="module")
def dom(chromium: str, page: Path) -> str:
    result = run_chromium(chromium, page.resolve().as_uri(), "--dump-dom")
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    text = result.stdout.decode("utf-8")
    write_text(ARTIFACTS / "visualize.dom.html", text)
    return text


SPAN_LABEL = "(span label)"


class _ClassText(HTMLParser):
    """Collects the text inside elements, by CSS class (SVG included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: List[Tuple[str, Set[str]]] = []
        self.texts: Dict[str, List[str]] = {}

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if "z-index: 10" in (attributes.get("style") or ""):
            classes.add(SPAN_LABEL)  # the label box of displaCy's span style
        self.stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and self.stack:
            for css_class in self.stack[-1][1]:
                self.texts.setdefault(css_class, []).append(data.strip())


def _texts(dom: str) -> Dict[str, List[str]]:
    parser = _ClassText()
    parser.feed(dom)
    return parser.texts


def test_dom_shows_entity_labels_relation_labels_and_roles(dom: str) -> None:
    texts = _texts(dom)
    arc_labels = set(texts.get("displacy-label", []))
    word_tags = set(texts.get("displacy-tag", []))
    assert {"born in", "colleague of"} <= arc_labels       # relation arcs
    assert {"spouse", "place", "partner", "venue"} <= arc_labels   # event roles
    assert {"person", "city", "marriage", "collaboration"} <= word_tags
    assert {"Barack Obama", "Michelle Robinson", "Honolulu"} <= set(texts["displacy-word"])
    # Entity labels of the span view (the style that shows overlapping spans).
    assert set(texts[SPAN_LABEL]) == {"person", "city", "scientist", "inventor"}
    assert dom.count("<svg") == 4  # relation + event views of two docs
    assert "<h2>benchmark record</h2>" in dom


def test_screenshot_is_a_png_of_the_page(chromium: str, page: Path) -> None:
    shot = ARTIFACTS / "visualize.png"
    if shot.exists():
        shot.unlink()
    result = run_chromium(chromium, page.resolve().as_uri(),
                          f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height, pixels = decode_png(data)
    assert (width, height) == (WIDTH, HEIGHT)
    colors = set(pixels)
    # The entity colours of the span view and dark arc/text strokes were painted.
    for label in ("person", "city"):
        expected = _hex_to_rgb(label_colors([label])[label.upper()])
        assert expected in colors, f"no pixel in the colour of label '{label}'"
    assert any(max(rgb) < 60 for rgb in colors), "no dark (text or arc) pixels"
    assert len(colors) > 50, "the page looks blank"


def _hex_to_rgb(color: str) -> Tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def decode_png(data: bytes) -> Tuple[int, int, List[Tuple[int, int, int]]]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes).

    RETURNS (Tuple[int, int, List[Tuple[int, int, int]]]): width, height, RGB pixels.
    """
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color_type in (2, 6) and interlace == 0, header
    channels = 3 if color_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels: List[Tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]),
                         previous, channels)
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        corner = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + pred) & 0xFF
    return line
