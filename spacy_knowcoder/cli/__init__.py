"""The ``knowcoder`` command line (typer, like spaCy's own CLI).

Each command lives in its own module and registers itself on ``app``.

Example:
    $ knowcoder --help
"""
import typer

app = typer.Typer(
    name="knowcoder",
    help="KnowCoder-style information extraction for spaCy.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """KnowCoder-style information extraction for spaCy."""
    # A callback keeps typer in multi-command mode even with a single command,
    # so `knowcoder prepare-model DIR` never reads "prepare-model" as DIR.


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from . import prepare_model  # noqa: F401


_register_commands()
