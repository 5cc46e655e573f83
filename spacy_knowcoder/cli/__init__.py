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
    # Every module of this package adds its commands to ``app`` on import.
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_commands()
