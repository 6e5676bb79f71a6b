"""Shared hypothesis settings for the hardening tests: modest by default, no example database,
and hypothesis's own files (its constants and Unicode caches) in a temporary folder, never in
the checkout."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

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
