"""Load settings: SLO strings, warm-up, one load mode per level."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chimera.errors import ConfigError
from chimera.load.spec import LoadLevel, LoadSpec, Warmup, parse_slo


def test_slo_parses_metrics_stats_and_units() -> None:
    targets = parse_slo("ttft_p99<=500ms, itl_p99<50,e2e_mean<=2s,tpot_p999<=0.5")
    assert [str(t) for t in targets] == [
        "ttft_p99<=500ms",
        "itl_p99<50ms",
        "e2e_mean<=2000ms",
        "tpot_p999<=0.5ms",
    ]
    assert targets[0].holds(500.0) and not targets[1].holds(50.0)
    assert not targets[0].holds(None)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ttft_p99<=500ms,itl_p98<=50ms", "'itl_p98<=50ms'"),
        ("latency_p99<=5ms", "'latency_p99<=5ms'"),
        ("ttft_p99>=500ms", "'ttft_p99>=500ms'"),
        ("ttft_p99<=fast", "'ttft_p99<=fast'"),
        ("ttft_p99<=0ms", "'ttft_p99<=0ms'"),
        ("ttft_p99<=5ms,", "''"),
        ("ttft_p99<=50ms,ttft_p99<=10ms", "'ttft_p99<=50ms' and 'ttft_p99<=10ms' both limit"),
        ("itl_p99<=5ms, ttft_p99<=1s, ttft_p99<2s", "'ttft_p99<=1s' and 'ttft_p99<2s' both"),
    ],
)
def test_a_bad_slo_names_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_slo(text)
    assert named in str(info.value)
    assert info.value.exit_code == 2


def test_one_metric_may_have_an_objective_on_each_statistic() -> None:
    targets = parse_slo("ttft_p50<=10ms,ttft_p99<=50ms,itl_p99<=50ms")
    assert [t.name for t in targets] == ["ttft_p50", "ttft_p99", "itl_p99"]


def test_warmup_is_a_count_or_seconds() -> None:
    assert Warmup.parse("10") == Warmup(requests=10)
    assert Warmup.parse("2.5s") == Warmup(seconds=2.5)
    with pytest.raises(ConfigError, match="--warmup"):
        Warmup.parse("ten")


def test_a_level_is_closed_or_open_and_a_run_is_bounded() -> None:
    assert LoadLevel(concurrency=4).mode == "closed"
    assert LoadLevel(rate_rps=2.5, arrival="gamma", burstiness=0.5).label == (
        "2.5 req/s gamma B=0.5"
    )
    with pytest.raises(ValidationError):
        LoadLevel(concurrency=4, rate_rps=2.0)
    with pytest.raises(ValidationError):
        LoadLevel()
    with pytest.raises(ValidationError, match="bound"):
        LoadSpec(levels=(LoadLevel(concurrency=1),))


def test_a_ramp_needs_a_duration_and_no_trace() -> None:
    with pytest.raises(ValidationError, match="ramp needs duration"):
        LoadSpec(levels=(LoadLevel(rate_rps=2.0, ramp=True),), requests=5)
    with pytest.raises(ValidationError, match="cannot ramp"):
        LoadLevel(trace=True, ramp=True)
    level = LoadLevel(rate_rps=2.0, ramp=True)
    assert level.label == "ramp to 2 req/s poisson"
    spec = LoadSpec(levels=(level,), duration_s=10.0, warmup=Warmup(seconds=2.0))
    assert level.ramp_span_s(spec) == 12.0
