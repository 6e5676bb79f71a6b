"""Which levels run: given, a sweep, or the search for the highest rate meeting the SLOs."""

from __future__ import annotations

from typing import Any

import pytest

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.metrics import GeneratorHealth, LevelSummary, SloResult
from chimera.load.plan import FindMaxPlan, FixedPlan, SweepPlan, execute_plan, make_plan
from chimera.load.spec import LoadLevel, LoadSpec, parse_slo
from chimera.testing import TestServer

from .conftest import prompts

SLO = parse_slo("ttft_p99<=100ms")


def fake(
    level: LoadLevel | None, i: int, *, rps: float | None, met: bool | None, **kw: Any
) -> LevelSummary:
    """A level's summary with only what the plans read."""
    gen = GeneratorHealth.model_construct(saturated=kw.pop("saturated", False), notes=["late"])
    observed = kw.pop("observed", 50.0 if met else 150.0)
    slo = [SloResult(target=str(SLO[0]), observed_ms=observed, met=bool(met))]
    return LevelSummary.model_construct(
        level=i, requests_per_s=rps, achieved_rate_rps=rps, slo_met=met, generator=gen,
        concurrency=level.concurrency if level else None, slo=slo, **kw,
    )  # fmt: skip


def drive(plan: FindMaxPlan | SweepPlan, served: Any) -> list[LoadLevel]:
    """Run a plan against ``served(level) -> (rps, slo_met)`` without a server."""
    done: list[LevelSummary] = []
    levels = []
    while (level := plan.next_level(done)) is not None:
        levels.append(level)
        rps, met = served(level)
        done.append(fake(level, len(done), rps=rps, met=met))
    return levels


def spec(**kw: Any) -> LoadSpec:
    return LoadSpec(requests=10, slo=SLO, **kw)


def test_a_sweep_runs_one_stream_saturation_then_rates_between() -> None:
    plan = SweepPlan(spec(strategy="sweep", sweep_rates=3, saturation_concurrency=16))
    levels = drive(plan, lambda lv: (2.0 if lv.concurrency == 1 else 10.0, None))
    assert [lv.label for lv in levels] == [
        "concurrency 1",
        "concurrency 16",
        "4 req/s poisson",
        "6 req/s poisson",
        "8 req/s poisson",
    ]


def test_bisection_brackets_the_highest_rate_meeting_the_slos() -> None:
    def server(lv: LoadLevel) -> tuple[float, bool]:
        if lv.concurrency is not None:  # one stream meets the SLOs; 32 streams do not
            return (4.0, True) if lv.concurrency == 1 else (20.0, False)
        assert lv.rate_rps is not None
        return lv.rate_rps, lv.rate_rps < 7.3

    plan = FindMaxPlan(spec(strategy="find_max", bisect_steps=5))
    levels = drive(plan, server)
    rates = [lv.rate_rps for lv in levels[2:]]
    assert rates == [10.0, 5.0, 7.5, 6.25, 6.875]
    r = plan.result()
    assert r.bracket_rps == (6.875, 7.5) and r.max_rate_rps == 6.875
    assert [p.met for p in r.probes] == [False, True, False, True, True]
    assert "between 6.88 and 7.50 req/s" in r.statement and "--repeats" in r.statement


def test_every_repeat_must_pass() -> None:
    calls: dict[float, int] = {}

    def flaky(lv: LoadLevel) -> tuple[float, bool]:
        if lv.concurrency is not None:
            return (4.0, True) if lv.concurrency == 1 else (20.0, False)
        assert lv.rate_rps is not None
        calls[lv.rate_rps] = calls.get(lv.rate_rps, 0) + 1
        return lv.rate_rps, calls[lv.rate_rps] < 2  # the second run at any rate misses

    plan = FindMaxPlan(spec(strategy="find_max", bisect_steps=2, repeats=2))
    drive(plan, flaky)
    assert [p.met for p in plan.probes] == [False, False]
    assert [len(p.levels) for p in plan.probes] == [2, 2]
    assert "all 2 of its runs" in plan.result().statement


def test_a_bracket_no_rate_missed_says_its_top_is_the_saturations() -> None:
    # every open-loop rate meets the SLOs; only the closed-loop saturation level missed
    def server(lv: LoadLevel) -> tuple[float, bool]:
        if lv.concurrency is not None:
            return (4.0, True) if lv.concurrency == 1 else (18.32, False)
        assert lv.rate_rps is not None
        return lv.rate_rps, True

    plan = FindMaxPlan(spec(strategy="find_max", bisect_steps=3))
    drive(plan, server)
    r = plan.result()
    assert not r.upper_tested and r.bracket_rps == (16.03, 18.32)
    assert "every open-loop rate tried met ttft_p99<=100ms, up to 16.03 req/s" in r.statement
    assert "not a rate tried" in r.statement and "lies between" not in r.statement


def test_repeats_say_their_widest_spread() -> None:
    plan = FindMaxPlan(spec(strategy="find_max", bisect_steps=1, repeats=3))
    done = [fake(None, 0, rps=4.0, met=True), fake(None, 1, rps=20.0, met=False)]
    for observed in (40.0, 80.0, 60.0):  # three passing runs at 10 req/s
        assert plan.next_level(done) == LoadLevel(rate_rps=10.0)
        done.append(fake(None, len(done), rps=10.0, met=True, observed=observed))
    assert plan.next_level(done) is None
    r = plan.result()
    assert r.probes[0].observed_ms == [{"ttft_p99<=100ms": v} for v in (40.0, 80.0, 60.0)]
    assert "ttft_p99<=100ms from 40.0 to 80.0 ms at 10.00 req/s" in r.statement


def test_the_search_stops_where_it_cannot_conclude() -> None:
    plan = FindMaxPlan(spec(strategy="find_max"))
    drive(plan, lambda lv: (1.0, False))
    assert "even one request at a time" in plan.result().statement

    plan = FindMaxPlan(spec(strategy="find_max"))
    drive(plan, lambda lv: (4.0 if lv.concurrency == 1 else 20.0, True))
    r = plan.result()
    assert "hold even at saturation" in r.statement and r.max_rate_rps == 20.0

    plan = FindMaxPlan(spec(strategy="find_max"))
    done = [fake(None, 0, rps=4.0, met=True), fake(None, 1, rps=20.0, met=False)]
    assert plan.next_level(done) == LoadLevel(rate_rps=10.0)
    done.append(fake(None, 2, rps=10.0, met=True, saturated=True))
    assert plan.next_level(done) is None
    assert "generator could not hold 10.00 req/s" in plan.result().statement


def test_make_plan_follows_the_strategy() -> None:
    assert isinstance(
        make_plan(LoadSpec(levels=(LoadLevel(concurrency=1),), requests=1)), FixedPlan
    )
    assert isinstance(make_plan(spec(strategy="sweep")), SweepPlan)
    with pytest.raises(ValueError, match="chooses its own levels"):
        LoadSpec(strategy="sweep", levels=(LoadLevel(concurrency=1),), requests=1)
    with pytest.raises(ValueError, match="needs SLOs"):
        LoadSpec(strategy="find_max", requests=1)


async def test_levels_run_in_turn_numbering_requests_across_them() -> None:
    load = LoadSpec(
        levels=(LoadLevel(concurrency=1), LoadLevel(concurrency=2)),
        requests=3,
        input_tokens=10,
        output_tokens=4,
    )
    async with TestServer(fast=True) as srv, create_backend(EndpointSettings(url=srv.url)) as b:
        runs, summaries = await execute_plan(b, prompts(load), load, FixedPlan(load.levels))
    assert [[r.index for r in run.records] for run in runs] == [[0, 1, 2], [3, 4, 5]]
    assert [r.level for r in runs[1].records] == [1, 1, 1]
    assert [s.label for s in summaries] == ["concurrency 1", "concurrency 2"]


async def test_find_max_against_a_server_with_one_slot() -> None:
    # one slot, ~90 ms a request: one stream meets a 60 ms TTFT, 6 streams queue past it
    load = LoadSpec(
        strategy="find_max", slo=parse_slo("ttft_p99<=60ms"), requests=12, bisect_steps=3,
        saturation_concurrency=6, input_tokens=10, output_tokens=8, arrival="constant",
    )  # fmt: skip
    async with (
        TestServer(slots=1, prefill_ms=20, token_interval_ms=10, default_tokens=8) as srv,
        create_backend(EndpointSettings(url=srv.url)) as b,
    ):
        plan = FindMaxPlan(load)
        _, summaries = await execute_plan(b, prompts(load), load, plan)
    r = plan.result()
    assert summaries[0].slo_met and not summaries[1].slo_met
    assert r.bracket_rps is not None
    lo, hi = r.bracket_rps
    assert lo < hi <= (summaries[1].requests_per_s or 0)
    assert all((p.rate_rps <= lo) == p.met for p in r.probes)
    # three steps, unless a busy machine held the generator back (then said so)
    assert len(r.probes) == 3 or "generator could not hold" in r.statement
