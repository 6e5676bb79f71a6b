"""Shared hypothesis settings for the hardening tests: modest by default, no example database
(its directory would be state outside tmp_path)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# for tests marked slow: many more inputs
SLOW = settings(FAST, max_examples=2000)
