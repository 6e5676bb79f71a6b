"""Speedup, efficiency, slowdowns, contention and the legacy metric from measured times."""

from __future__ import annotations

import pytest

from chimera.bench.concurrency import concurrency_figures


def test_independent_servers_give_n() -> None:
    f = concurrency_figures({"a": 2.0, "b": 2.0}, {"a": 2.02, "b": 2.0}, wall_s=2.02)
    assert f.sequential_s == 4.0
    assert f.concurrency_speedup == pytest.approx(4.0 / 2.02)
    assert f.efficiency_percent == pytest.approx(4.0 / 2.02 / 2 * 100)
    assert f.slowdowns == {"a": pytest.approx(1.01), "b": pytest.approx(1.0)}
    assert not f.contention and f.contended_agents == []


def test_a_queueing_server_gives_1_while_the_legacy_metric_says_175() -> None:
    # Two agents of two 1 s calls each on a server that serves one call at a time (FIFO):
    # A's calls end at 1 s and 3 s, B's at 2 s and 4 s.
    f = concurrency_figures({"a": 2.0, "b": 2.0}, {"a": 3.0, "b": 4.0}, wall_s=4.0)
    assert f.concurrency_speedup == pytest.approx(1.0)
    assert f.efficiency_percent == pytest.approx(50.0)
    assert f.legacy_concurrency_speedup == pytest.approx(1.75)
    assert f.slowdowns == {"a": 1.5, "b": 2.0}
    assert f.contention and f.contended_agents == ["a", "b"]


def test_threshold_is_strict_and_configurable() -> None:
    f = concurrency_figures({"a": 1.0}, {"a": 1.25}, wall_s=1.25)
    assert not f.contention  # exactly at the threshold is not past it
    f = concurrency_figures({"a": 1.0}, {"a": 1.25}, wall_s=1.25, threshold=1.1)
    assert f.contended_agents == ["a"] and f.contention_threshold == 1.1


def test_unequal_agents_are_weighted_by_their_alone_times() -> None:
    f = concurrency_figures({"a": 3.0, "b": 1.0}, {"a": 3.0, "b": 1.0}, wall_s=3.0)
    # the short agent hides inside the long one: 4 s of work done in 3 s
    assert f.concurrency_speedup == pytest.approx(4 / 3)
    assert f.efficiency_percent == pytest.approx(200 / 3)
    assert not f.contention


def test_mismatched_or_empty_times_are_refused() -> None:
    with pytest.raises(ValueError, match="same, non-empty"):
        concurrency_figures({"a": 1.0}, {"b": 1.0}, wall_s=1.0)
    with pytest.raises(ValueError, match="same, non-empty"):
        concurrency_figures({}, {}, wall_s=1.0)
    with pytest.raises(ValueError, match="positive"):
        concurrency_figures({"a": 1.0}, {"a": 1.0}, wall_s=0.0)
