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


def test_efficiency_above_100_percent_is_invalid_with_its_likely_cause() -> None:
    # what a prompt cache did on a real server: the together phase skipped the prefill
    f = concurrency_figures({"a": 14.5, "b": 14.0}, {"a": 7.6, "b": 7.9}, wall_s=7.9)
    assert f.efficiency_percent > 100
    assert not f.valid
    assert any("efficiency 180.4% is above 100%" in r for r in f.invalid_reasons)
    assert any("agent a finished sooner together than alone" in r for r in f.invalid_reasons)
    assert all("prompt cache" in r for r in f.invalid_reasons)


def test_noise_within_the_tolerance_is_valid() -> None:
    f = concurrency_figures({"a": 1.0, "b": 1.0}, {"a": 0.97, "b": 0.98}, wall_s=0.98)
    assert f.efficiency_percent > 100 and f.valid and f.invalid_reasons == []


def test_an_agent_faster_together_is_invalid_even_when_efficiency_is_possible() -> None:
    # one agent sped up past noise, the other queued: efficiency 80%, still impossible
    f = concurrency_figures({"a": 2.0, "b": 2.0}, {"a": 1.5, "b": 5.0}, wall_s=5.0)
    assert f.efficiency_percent == pytest.approx(40.0)
    assert not f.valid and len(f.invalid_reasons) == 1
    assert "agent a" in f.invalid_reasons[0]


def test_the_tolerance_is_a_setting() -> None:
    f = concurrency_figures({"a": 1.0}, {"a": 0.9}, wall_s=0.9, tolerance=0.2)
    assert f.valid
    f = concurrency_figures({"a": 1.0}, {"a": 0.9}, wall_s=0.9, tolerance=0.01)
    assert not f.valid


def test_unequal_work_is_named_as_the_cause_when_tokens_tell() -> None:
    f = concurrency_figures(
        {"a": 2.0, "b": 2.0},
        {"a": 1.0, "b": 1.0},
        wall_s=1.0,
        output_tokens={"a": (100, 40), "b": (100, 40)},
    )
    assert not f.valid
    assert all("unequal work" in r and "80 tokens against 200" in r for r in f.invalid_reasons[:1])
    assert "40 tokens against 100" in f.invalid_reasons[1]


def test_a_small_excess_is_put_down_to_noise_a_large_one_to_a_cache() -> None:
    noisy = concurrency_figures({"a": 1.0, "b": 1.0}, {"a": 0.86, "b": 1.0}, wall_s=1.0)
    assert not noisy.valid and "timing noise beyond the 10% tolerance" in noisy.invalid_reasons[0]
    cached = concurrency_figures({"a": 1.0, "b": 1.0}, {"a": 0.5, "b": 0.5}, wall_s=0.5)
    assert all("prompt cache" in r and "noise" not in r for r in cached.invalid_reasons)
