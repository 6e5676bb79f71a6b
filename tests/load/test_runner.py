"""The generator against protocol-faithful test servers: what it holds, counts and records."""

from __future__ import annotations

import asyncio
import gc

import numpy as np
import pytest

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.metrics import summarize
from chimera.load.runner import LevelRunner, paced_counts
from chimera.load.spec import LoadLevel, LoadSpec, Warmup
from chimera.testing import TestServer

from .conftest import prompts, run_level, spec, until


async def test_closed_loop_holds_c_in_flight() -> None:
    async with TestServer(prefill_ms=20, token_interval_ms=5) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=4), requests=16))
        assert srv.max_in_flight == 4
        assert srv.generation_requests == 16
    assert [r.index for r in run.records] == list(range(16))
    assert all(r.status == "ok" and r.output_tokens == 8 for r in run.records)
    s = summarize(run)
    assert s.requests_ok == 16 and s.requests_failed == 0
    assert s.mean_concurrency is not None and 3.0 < s.mean_concurrency <= 4.0


async def test_each_request_is_timed_from_the_socket() -> None:
    async with TestServer(prefill_ms=40, token_interval_ms=10, default_tokens=6) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=1), requests=2))
    for r in run.records:
        assert r.ttft_ms is not None and r.ttft_ms >= 40.0
        assert len(r.itl_ms) == 5 and min(r.itl_ms) > 5.0
        assert r.tpot_ms is not None and r.tpot_ms >= 9.0
        assert r.prompt_eval_ms == 40.0  # the server's own timing
        assert r.prompt_tokens is not None and r.output_tokens == 6


async def test_warmup_requests_are_left_out() -> None:
    async with TestServer(fast=True) as srv:
        run = await run_level(
            srv.url, spec(LoadLevel(concurrency=2), requests=6, warmup=Warmup(requests=3))
        )
        assert srv.generation_requests == 9
    assert [r.warmup for r in run.records] == [True] * 3 + [False] * 6
    s = summarize(run)
    assert s.requests_ok == 6 and s.warmup_requests == 3
    assert s.ttft_ms.n == 6


async def test_open_loop_sends_on_schedule_whatever_the_server_does() -> None:
    # a slow server: a closed loop would wait for it; the open loop keeps dispatching
    async with TestServer(prefill_ms=300, token_interval_ms=5) as srv:
        load = spec(LoadLevel(rate_rps=50, arrival="constant"), requests=10)
        run = await run_level(srv.url, load)
        assert srv.max_in_flight >= 8
    sched = [r.scheduled_s for r in run.records]
    assert sched == pytest.approx([i * 0.02 for i in range(10)])
    assert all(r.sent_s >= (r.scheduled_s or 0) for r in run.records)
    s = summarize(run)
    assert s.scheduled_rate_rps == pytest.approx(50.0)
    assert s.requested_rate_rps == 50.0 and s.requests_ok == 10


async def test_a_poisson_level_is_scheduled_at_its_rate_exactly() -> None:
    async with TestServer(fast=True) as srv:
        load = spec(LoadLevel(rate_rps=200, arrival="poisson"), requests=60,
                    warmup=Warmup(requests=10))  # fmt: skip
        run = await run_level(srv.url, load)
        assert srv.generation_requests == 70  # the schedule ends with the level's bound
    s = summarize(run)
    assert s.scheduled_rate_rps == pytest.approx(200.0)
    gaps = np.diff([r.scheduled_s for r in run.records])
    assert gaps.std() > 0.3 * gaps.mean()  # still Poisson-spread, not constant


@pytest.mark.parametrize(
    ("warmup", "requests", "duration", "counts"),
    [
        (Warmup(requests=5), 100, None, (5, 100)),
        (Warmup(seconds=2.0), None, 60.0, (40, 1200)),  # 20 * 60 exactly: the last at 59.95 s
        (Warmup(seconds=0.01), 50, 60.0, (1, 50)),  # both bounds: the first one reached
        (Warmup(), None, 0.07, (0, 2)),
    ],
)
def test_an_open_level_knows_its_counts(
    warmup: Warmup, requests: int | None, duration: float | None, counts: tuple[int, int]
) -> None:
    load = LoadSpec(levels=(LoadLevel(rate_rps=20),), requests=requests, duration_s=duration,
                    warmup=warmup)  # fmt: skip
    assert paced_counts(load, 20.0) == counts


async def test_failures_are_counted_by_type() -> None:
    async with TestServer(fast=True, fault="http_500", fault_from_request=7) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=2), requests=10))
    s = summarize(run)
    assert s.requests_ok == 6
    assert s.failures_by_type == {"http_500": 4}
    assert s.ttft_ms.n == 6  # latencies are over ok requests only
    failed = [r for r in run.records if r.status == "failed"]
    assert all("HTTP 500" in (r.error or "") for r in failed)


async def test_an_empty_completion_is_a_failure() -> None:
    async with TestServer(fault="empty_concurrent", token_interval_ms=5) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=3), requests=9))
    s = summarize(run)
    assert s.failures_by_type.get("empty_response", 0) > 0
    assert s.requests_ok + s.requests_failed == 9


REASONING = "<think>one two three four five six seven eight nine ten</think> The answer."


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("apart", [False, True])
async def test_reasoning_the_output_cap_cut_is_output_in_either_shape(
    protocol: str, apart: bool
) -> None:
    # 8 tokens asked of a 10-token reasoning: the server generated them all, no answer yet
    cfg = {"protocol": protocol, "responses": [REASONING], "reasoning_apart": apart}
    async with TestServer(fast=True, **cfg) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=2), requests=6), kind=protocol)
    assert [r.status for r in run.records] == ["ok"] * 6
    for r in run.records:
        assert r.done_reason == "length" and r.output_tokens == 8 and r.chunks == 8
        assert r.ttft_ms is not None and r.ttfot_ms is None and r.tpot_ms is not None
    s = summarize(run)
    assert s.requests_ok == 6 and s.requests_failed == 0


@pytest.mark.parametrize("apart", [False, True])
async def test_reasoning_that_ends_with_no_answer_is_a_failure_saying_so(apart: bool) -> None:
    cfg = {"responses": ["<think>one two three</think>"], "reasoning_apart": apart}
    async with TestServer(fast=True, **cfg) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=2), requests=4))
    assert summarize(run).failures_by_type == {"reasoning_only": 4}
    for r in run.records:
        assert r.error is not None and "reasoned and gave no answer" in r.error
        assert "one request at a time" not in r.error


async def test_a_cut_stream_is_recorded_with_what_arrived() -> None:
    async with TestServer(fault="cut", fault_after_tokens=3, token_interval_ms=2) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=1), requests=2))
    for r in run.records:
        assert r.status == "failed" and r.error_type == "stream_cut"
        assert r.chunks == 3 and r.ttft_ms is not None and "ttft_ms" in r.estimated


async def test_a_server_killed_mid_run_fails_what_was_in_flight_and_stops_the_level() -> None:
    srv = TestServer(prefill_ms=5, token_interval_ms=20, default_tokens=50)
    await srv.start()
    load = spec(LoadLevel(concurrency=4), duration_s=30.0, requests=None)
    task = asyncio.create_task(run_level(srv.url, load))
    await until(lambda: srv.in_flight == 4)
    await srv.stop()
    run = await asyncio.wait_for(task, 20)
    cut = [r for r in run.records if r.error_type == "stream_cut"]
    assert len(cut) == 4  # the four in flight, each with its reason
    assert all("ended before it was done" in (r.error or "") for r in cut)
    assert run.stopped is not None and "in a row" in run.stopped
    s = summarize(run)
    assert s.requests_ok == 0 and s.failures_by_type["stream_cut"] == 4
    # the streak stops dispatching; the other workers' attempts already under way end too
    limit = load.stop_after_unreachable
    assert limit <= s.failures_by_type["server_unreachable"] < limit + 4
    assert s.stopped == run.stopped


async def test_an_interrupted_level_keeps_what_finished() -> None:
    async with TestServer(prefill_ms=5, token_interval_ms=10, default_tokens=10) as srv:
        load = spec(LoadLevel(concurrency=3), duration_s=30.0, requests=None)
        async with create_backend(EndpointSettings(url=srv.url)) as backend:
            runner = LevelRunner(backend, prompts(load), load, load.levels[0])
            task = asyncio.create_task(runner.execute())
            await until(lambda: len(runner.run.records) >= 5)
            task.cancel()
            run = await task
    assert run.interrupted
    cancelled = [r for r in run.records if r.status == "cancelled"]
    assert len(cancelled) == 3  # the three in flight
    s = summarize(run)
    assert s.requests_cancelled == 3 and s.requests_ok >= 5 and s.interrupted
    assert s.requests_ok + s.requests_failed == len(run.records) - 3


async def test_a_closed_ramp_adds_its_streams_over_the_span() -> None:
    # each request outlasts the ramp: the first four dispatches are the four workers starting
    async with TestServer(prefill_ms=600, default_tokens=2) as srv:
        load = spec(LoadLevel(concurrency=4, ramp=True), duration_s=0.4, requests=None)
        run = await run_level(srv.url, load)
        assert srv.max_in_flight == 4
    assert len(run.records) == 4
    assert all(r.sent_s >= k * 0.1 for k, r in enumerate(run.records))
    assert run.level.label == "ramp to concurrency 4"


async def test_a_level_runs_with_the_earlier_objects_frozen_out_of_collections() -> None:
    seen: list[tuple[int, tuple[int, ...]]] = []
    before = gc.get_threshold()
    async with TestServer(fast=True) as srv:
        load = spec(LoadLevel(concurrency=2), requests=4)
        async with create_backend(EndpointSettings(url=srv.url)) as backend:
            runner = LevelRunner(
                backend, prompts(load), load, load.levels[0],
                observer=lambda rec: seen.append((gc.get_freeze_count(), gc.get_threshold())),
            )  # fmt: skip
            await runner.execute()
    assert len(seen) == 4
    # the young generation keeps its size (short pauses), the middle one is collected
    # five times less often
    assert all(frozen > 1000 and th[:2] == (before[0], 5 * before[1]) for frozen, th in seen)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


@pytest.mark.parametrize(
    ("tokens_before", "phase", "flag"),
    [(0, "first_token_timeout", "--first-token-timeout"), (3, "idle_timeout", "--idle-timeout")],
)
async def test_a_stalled_stream_fails_by_the_timeout_of_its_phase_and_the_level_goes_on(
    tokens_before: int, phase: str, flag: str
) -> None:
    async with TestServer(
        token_interval_ms=1, fault="stall", fault_after_tokens=tokens_before,
        fault_from_request=3, fault_every=3, stall_s=60,
    ) as srv:  # fmt: skip
        run = await run_level(
            srv.url, spec(LoadLevel(concurrency=2), requests=9),
            first_token_timeout_s=0.4, idle_timeout_s=0.4,
        )  # fmt: skip
    s = summarize(run)
    assert s.requests_ok == 6 and s.failures_by_type == {phase: 3}
    failed = [r for r in run.records if r.status == "failed"]
    assert all(flag in (r.error or "") and r.e2e_ms is not None for r in failed)
    assert all(r.chunks == tokens_before for r in failed)


async def test_a_generator_behind_its_schedule_still_reads_what_is_in_flight() -> None:
    # a rate no client dispatches: the backlog goes out one dispatch at a time, with the
    # streams already sent read in between (not all dispatched before any is read)
    dispatched_at_finish: list[int] = []
    async with TestServer(fast=True, default_tokens=4) as srv:
        load = spec(LoadLevel(rate_rps=1e6, arrival="constant"), requests=1500)
        async with create_backend(EndpointSettings(url=srv.url)) as backend:
            runner = LevelRunner(
                backend, prompts(load), load, load.levels[0],
                observer=lambda rec: dispatched_at_finish.append(runner.dispatched),
            )  # fmt: skip
            run = await runner.execute()
    assert summarize(run).requests_ok == 1500
    assert dispatched_at_finish[0] < 1500


async def test_a_generator_behind_its_schedule_stops_at_its_duration() -> None:
    async with TestServer(fast=True, default_tokens=4) as srv:
        load = spec(LoadLevel(rate_rps=50_000, arrival="constant"), requests=None, duration_s=0.5)
        run = await run_level(srv.url, load)
    s = summarize(run)
    assert s.generator.saturated
    assert 0 < s.requests_ok + s.requests_failed < 25_000  # not the whole schedule


async def test_a_closed_loops_rate_is_what_the_server_completed_not_its_first_burst() -> None:
    # 2 slots of ~60 ms (20 ms prefill, 8 tokens 5 ms apart): ~33 req/s of capacity. Eight
    # streams send 8 at once: their dispatch rate over a short level read ~90 req/s.
    async with TestServer(slots=2, prefill_ms=20, token_interval_ms=5) as srv:
        run = await run_level(srv.url, spec(LoadLevel(concurrency=8), requests=24))
    s = summarize(run)
    assert s.achieved_rate_rps is not None
    assert 25.0 < s.achieved_rate_rps < 2 / 0.055 * 1.1
