"""The ``chimera`` command: the Typer app, its subcommands and the one error boundary."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from chimera import __version__
from chimera.errors import ChimeraError

app = typer.Typer(
    name="chimera",
    help="Benchmark-analysis agent and benchmark harness for locally hosted LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"chimera {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Benchmark-analysis agent and benchmark harness for locally hosted LLMs."""


# Each command module adds its command(s) to ``app`` when imported.
COMMAND_MODULES: tuple[str, ...] = (
    "probe",
    "model",
    "ingest",
    "import_",
    "run",
    "sweep",
    "multiagent",
    "optimize",
    "compare",
    "runs",
    "demo",
    "check",
    "load",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"chimera.cli.{name}")


def main() -> None:
    """Console entry point: run the app; any ChimeraError becomes one line on stderr."""
    _register()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app()  # standalone: usage errors, --help and exit codes are handled by Typer
    except ChimeraError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit as exc:
        # Typer turns Ctrl-C into a silent exit 130; a command that reported its own
        # interruption raised that exit itself, with the KeyboardInterrupt suppressed.
        if exc.code == 130 and _from_ctrl_c(exc):
            err.print("interrupted")
        raise


def _from_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a KeyboardInterrupt (explicit causes, unsuppressed
    contexts)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return False
