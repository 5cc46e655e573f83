"""``knowcoder visualize``: write (and optionally serve) displaCy views of results.

INPUT is a DocBin (``.spacy``, e.g. docs processed by the knowcoder component
and saved with ``DocBin(store_user_data=True)``) or a predictions file in the
benchmark JSONL format (``.jsonl``/``.json``, DESIGN §5). OUTPUT is one HTML
page, written atomically; ``--serve`` then serves it like ``displacy.serve``.

Example:
    $ knowcoder visualize predictions.jsonl predictions.html --limit 50
    $ knowcoder visualize corpus/dev.spacy dev.html --serve --port 5000
"""
import itertools
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

import srsly
import typer
from spacy.tokens import Doc, DocBin
from wasabi import msg

from . import app
from ..errors import Errors
from ..extensions import register_extensions
from ..fileio import read_text, write_text
from ..visualize import make_server, render

DOCBIN_SUFFIXES = (".spacy",)
JSONL_SUFFIXES = (".jsonl", ".json")


@app.command("visualize")
def visualize_cli(
    input_path: Path = typer.Argument(..., help="A DocBin (.spacy) or predictions (.jsonl)."),
    output_path: Path = typer.Argument(..., help="The HTML file to write."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                        help="Show at most this many docs."),
    spans_key: str = typer.Option("knowcoder", "--spans-key",
                                  help="Span group with overlapping entity predictions."),
    lang: str = typer.Option("xx", "--lang", help="Language of the vocab for DocBins."),
    serve: bool = typer.Option(False, "--serve", help="Serve the page after writing it."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to serve on."),
    port: int = typer.Option(5000, "--port", help="Port to serve on (0: any free port)."),
) -> None:
    """Render entities, relation arcs and event role arcs with displaCy."""
    try:
        count = write_visualization(input_path, output_path, limit=limit,
                                    spans_key=spans_key, lang=lang)
        msg.good(f"Wrote {count} doc(s) to {output_path}")
        if serve:
            serve_file(output_path, host=host, port=port)
    except (OSError, ValueError, TypeError) as err:
        msg.fail(str(err), exits=1)


def write_visualization(input_path: Path, output_path: Path, *, limit: Optional[int] = None,
                        spans_key: str = "knowcoder", lang: str = "xx") -> int:
    """Render the docs of ``input_path`` into the HTML page ``output_path`` (atomically).

    RETURNS (int): The number of docs rendered.
    RAISES: ValueError (E400, E401, E402, E405, E406) for unusable input.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "p.jsonl").write_text('{"text": "Ann", "entities": []}\\n')
        >>> write_visualization(folder / "p.jsonl", folder / "p.html")
        1
    """
    items = list(itertools.islice(read_input(input_path, lang=lang), limit))
    if not items:
        raise ValueError(Errors.E406.format(path=input_path))
    html = render(items, title=f"spacy-knowcoder: {input_path.name}", spans_key=spans_key)
    write_text(output_path, html)
    return len(items)


def read_input(path: Path, *, lang: str = "xx") -> Iterator[Union[Doc, Dict[str, Any]]]:
    """Docs of a DocBin or records of a predictions JSONL file, chosen by suffix.

    RAISES: ValueError (E400) for another suffix; see read_docbin / read_predictions.
    """
    suffix = path.suffix.lower()
    if suffix in DOCBIN_SUFFIXES:
        return iter(read_docbin(path, lang=lang))
    if suffix in JSONL_SUFFIXES:
        return read_predictions(path)
    raise ValueError(Errors.E400.format(path=path, suffix=suffix or "(none)"))


def read_docbin(path: Path, *, lang: str = "xx") -> List[Doc]:
    """The docs of a DocBin, with their relations and events (user data).

    RAISES: FileNotFoundError (E021) for a missing file, ValueError (E405) for a
        file that is not a readable DocBin.
    """
    import spacy

    if not path.is_file():
        raise FileNotFoundError(Errors.E021.format(path=path))
    register_extensions()
    nlp = spacy.blank(lang)
    try:
        doc_bin = DocBin(store_user_data=True).from_bytes(path.read_bytes())
        return list(doc_bin.get_docs(nlp.vocab))
    except Exception as err:  # zlib.error, msgpack's errors, KeyError, ValueError, ...
        raise ValueError(Errors.E405.format(path=path, reason=_reason(err))) from None


def read_predictions(path: Path) -> Iterator[Dict[str, Any]]:
    """The records of a benchmark JSONL file (blank lines are skipped).

    RAISES: FileNotFoundError (E021), ValueError (E022) for non-UTF-8 text,
        ValueError (E401) for a line that is not a JSON object.
    """
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = srsly.json_loads(line)
        except ValueError as err:
            raise ValueError(Errors.E401.format(line=number, path=path,
                                                reason=_reason(err))) from None
        if not isinstance(record, dict):
            raise ValueError(Errors.E401.format(line=number, path=path,
                                                reason=f"got a JSON {type(record).__name__}"))
        record.setdefault("id", f"{path.name} line {number}")
        yield record


def serve_file(path: Path, *, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve an HTML file until interrupted (Ctrl-C), like ``displacy.serve``.

    RAISES: OSError (E404) when the address cannot be bound.
    """
    server = make_server(read_text(path), host=host, port=port)
    msg.info(f"Serving on http://{host}:{server.server_port} ... (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        msg.info("Shutting down server")
    finally:
        server.server_close()


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
