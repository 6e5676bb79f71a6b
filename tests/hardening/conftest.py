"""Shared hypothesis settings for the hardening tests: modest by default, no example database,
and hypothesis's own files (its constants and Unicode caches) in a temporary folder, never in
the checkout."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from chimera.cli.app import main

# Set when the tests are collected, before hypothesis first writes (a session fixture is too
# late); the folder goes when the process exits.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="chimera-hypothesis-")
set_hypothesis_home_dir(Path(_HYPOTHESIS_HOME.name))

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
