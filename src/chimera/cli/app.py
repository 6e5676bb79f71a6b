"""The ``chimera`` command: the Typer app, its subcommands and the one error boundary."""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from types import FrameType
from typing import Any

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


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


class _Termination:
    """SIGTERM taken down the Ctrl-C path: the handler calls whatever handles SIGINT now
    (Python's, which raises KeyboardInterrupt, or asyncio's, which cancels the main task), so
    a stopped command keeps what finished exactly as on Ctrl-C; only the exit code differs.

    When this process is chimera itself (not a caller running ``main`` in-process), Ctrl-C
    acts once: the first raises KeyboardInterrupt, a later one is ignored while the command
    writes what finished and exits (async commands get the same from ``run_async``)."""

    def __init__(self) -> None:
        self.received = False
        self.interrupted = False
        self._previous_term: Any = None
        self._previous_int: Any = None

    def __enter__(self) -> _Termination:
        # signal handlers belong to the main thread; a caller in another thread keeps its own
        if threading.current_thread() is threading.main_thread():
            self._previous_term = signal.signal(signal.SIGTERM, self._on_sigterm)
            if _is_entry_point():
                self._previous_int = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous_term is not None:  # main() called in-process leaves no trace
            signal.signal(signal.SIGTERM, self._previous_term)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            return  # stopping already: let it write what finished
        self.interrupted = True
        raise KeyboardInterrupt

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.received:
            return
        self.received = True
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        elif not self.interrupted:  # SIGINT ignored or left to the OS: stop as Ctrl-C does
            raise KeyboardInterrupt

    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.received else EXIT_INTERRUPTED


def _is_entry_point() -> bool:
    """Whether this process runs ``main`` as its program (the console script, ``python -m
    chimera``), not as a function some other program calls."""
    return getattr(sys.modules.get("__main__"), "main", None) is main


def main() -> None:
    """Console entry point: run the app; any ChimeraError becomes one line on stderr."""
    _register()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with _Termination() as term:
        _run(err, term)


def _run(err: Console, term: _Termination) -> None:
    try:
        app()  # standalone: usage errors, --help and exit codes are handled by Typer
    except ChimeraError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("terminated" if term.received else "interrupted")
        _ignore_further_interrupts()
        sys.exit(term.exit_code())
    except SystemExit as exc:
        # Typer turns Ctrl-C into a silent exit 130; a command that reported its own
        # interruption raised that exit itself, with the KeyboardInterrupt suppressed.
        if exc.code == EXIT_INTERRUPTED:
            if _from_ctrl_c(exc):
                err.print("terminated" if term.received else "interrupted")
            _ignore_further_interrupts()
            if term.received:
                sys.exit(EXIT_TERMINATED)
        raise


def _ignore_further_interrupts() -> None:
    """The command has stopped and kept what finished; the process is exiting. Another Ctrl-C
    now would only break into Python's own shutdown (a traceback from threading), so it is
    ignored, when this process is chimera itself: a caller running ``main`` in its own
    process (a test) keeps its handler."""
    if _is_entry_point() and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _from_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a KeyboardInterrupt (explicit causes, unsuppressed
    contexts)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return False
