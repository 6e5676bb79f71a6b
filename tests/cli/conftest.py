"""Run the ``chimera`` command in-process, as a user would from the shell."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chimera.cli.app import main

Cli = Callable[..., int]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("probe", "--json")`` runs ``chimera probe --json`` and returns its exit code."""

    def run(*args: str) -> int:
        monkeypatch.setattr("sys.argv", ["chimera", *args])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run
