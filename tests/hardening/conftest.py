"""Shared hypothesis settings for the hardening tests: modest by default, no example database
(its directory would be state outside tmp_path)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from chimera.cli.app import main

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# for tests marked slow: many more inputs
SLOW = settings(FAST, max_examples=2000)


Cli = Callable[..., int]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("run", ...)`` runs ``chimera run ...`` in-process and returns its exit code."""

    def run(*args: str) -> int:
        monkeypatch.setattr("sys.argv", ["chimera", *args])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run
