"""Helpers shared by the command modules."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Coroutine
from types import FrameType
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed, else on asyncio's default loop; a
    second Ctrl-C while the first one's stop is under way waits for it (see ``_stop_once``)."""
    previous = signal.getsignal(signal.SIGINT)
    # asyncio puts its own Ctrl-C handler (cancel the main task) only over Python's
    swap = _main_thread() and callable(previous) and previous is not signal.default_int_handler
    if swap:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(_stop_once(coro))
        return uvloop.run(_stop_once(coro))
    finally:
        # put the caller's handler back, unless Ctrl-C came (then it stays ignored: exiting)
        if swap and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


async def _stop_once(coro: Coroutine[Any, Any, T]) -> T:
    """``coro``, with Ctrl-C acting once. The first Ctrl-C (or SIGTERM, which the CLI routes
    here) cancels the command, which then writes what finished and closes the store. asyncio
    would raise KeyboardInterrupt at a second one wherever the code is, in the middle of that
    work: a load run's finished requests were lost, a sweep ended in a traceback. So a later
    Ctrl-C only says the command is stopping; SIGQUIT (Ctrl-\\) or SIGKILL still end it at
    once."""
    if not _main_thread():
        return await coro  # signal handlers belong to the main thread
    runners = signal.getsignal(signal.SIGINT)  # asyncio's: cancels the main task
    if not callable(runners):
        return await coro
    seen = 0

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:
            runners(signum, frame)
        elif seen == 2:
            print("stopping: writing what finished (Ctrl-\\ to quit at once)", file=sys.stderr)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        return await coro
    finally:
        # asyncio restores Python's handler after its own; after a Ctrl-C the process is on
        # its way out, and a later one would break into asyncio's own teardown: ignored
        signal.signal(signal.SIGINT, runners if not seen else signal.SIG_IGN)


def progress_bar(console: Console, quiet: bool) -> Progress:
    """A progress bar with elapsed time and ETA on ``console``; off when quiet or not a tty."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )
