"""--workers: a level split over processes, its records merged onto one clock."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from time import perf_counter_ns
from types import SimpleNamespace

import pytest

from chimera.backends.base import EndpointSettings
from chimera.errors import ConfigError
from chimera.load import workers
from chimera.load.metrics import summarize
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.spec import LoadLevel, LoadSpec, Warmup
from chimera.load.workers import jobs, merge, run_in_workers, split
from chimera.testing import ServerThread

from .conftest import prompts

ENDPOINT = EndpointSettings(url="http://127.0.0.1:9")


def test_split_is_even_larger_shares_first() -> None:
    assert split(11, 3) == [4, 4, 3]
    assert split(1, 3) == [1, 0, 0]


def test_a_closed_level_splits_its_streams_and_requests() -> None:
    spec = LoadSpec(levels=(LoadLevel(concurrency=5),), requests=11, warmup=Warmup(requests=3))
    parts = jobs(ENDPOINT, prompts(spec), spec, spec.levels[0], 0, 0, 2)
    assert [j.level.concurrency for j in parts] == [3, 2]
    assert [j.spec.requests for j in parts] == [6, 5]
    assert [j.spec.warmup.requests for j in parts] == [2, 1]
    assert [(j.share.stride, j.share.offset) for j in parts] == [(2, 0), (2, 1)]
    one = LoadSpec(levels=(LoadLevel(concurrency=1),), requests=5)
    assert len(jobs(ENDPOINT, prompts(one), one, one.levels[0], 0, 0, 3)) == 1


@pytest.mark.parametrize("arrival", ["constant", "poisson"])
def test_an_open_level_splits_its_rate_and_phases_its_processes(arrival: str) -> None:
    spec = LoadSpec(levels=(LoadLevel(rate_rps=10.0, arrival=arrival),), duration_s=5.0)  # type: ignore[arg-type]
    parts = jobs(ENDPOINT, prompts(spec), spec, spec.levels[0], 0, 0, 2)
    assert [j.level.rate_rps for j in parts] == [5.0, 5.0]
    assert [j.share.phase_s for j in parts] == [0.0, 0.1]  # interleaved: 0, 0.1, 0.2, ...
    assert [j.share.seed_key for j in parts] == [(0,), (1,)]


async def test_processes_pace_an_open_level_at_its_whole_rate_from_the_first_dispatch() -> None:
    with ServerThread(prefill_ms=5, token_interval_ms=1, default_tokens=2) as srv:
        spec = LoadSpec(levels=(LoadLevel(rate_rps=40.0, arrival="poisson"),), duration_s=2.0,
                        input_tokens=10, output_tokens=2)  # fmt: skip
        run, _ = await run_in_workers(
            EndpointSettings(url=srv.url), prompts(spec), spec, spec.levels[0], 0, 0, 2
        )
    s = summarize(run)
    assert s.requests_ok == 80
    assert s.scheduled_rate_rps == pytest.approx(40.0)  # was 40.8: both processes sent at 0


async def test_a_process_sets_its_collector_before_it_says_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # collected after the common start, a fresh process's heap made its first dispatches
    # 30-130 ms late; the order is what matters, so it is what is checked (here, in-process)
    order: list[str] = []

    @contextlib.contextmanager
    def collector() -> Iterator[None]:
        order.append("collector")
        yield

    go = threading.Event()

    class Ready:
        def release(self) -> None:
            order.append("ready")
            go.set()

    shared = SimpleNamespace(
        ready=Ready(), go=go, start_ns=SimpleNamespace(value=perf_counter_ns()),
        stop=threading.Event(),
    )  # fmt: skip
    monkeypatch.setattr(workers, "quiet_gc", collector)
    monkeypatch.setattr(workers, "_SHARED", shared)
    with ServerThread(fast=True) as srv:
        spec = LoadSpec(levels=(LoadLevel(concurrency=1),), requests=2)
        (job,) = jobs(EndpointSettings(url=srv.url), prompts(spec), spec, spec.levels[0], 0, 0, 1)
        run = await workers._work(job)
    assert order == ["collector", "ready"]
    assert len(run.records) == 2


def test_a_trace_is_dealt_line_by_line() -> None:
    spec = LoadSpec(levels=(LoadLevel(trace=True),), trace_file="t.jsonl")  # type: ignore[arg-type]
    parts = jobs(ENDPOINT, prompts(spec), spec, spec.levels[0], 0, 0, 2, trace=[0, 1, 2, 3, 4])
    assert [j.trace for j in parts] == [(0, 2, 4), (1, 3)]


def test_merge_pools_the_parts() -> None:
    def part(indices: list[int], cpu: float, stopped: str | None = None) -> LevelRun:
        run = LevelRun(0, LoadLevel(concurrency=2), wall_s=cpu * 10, cpu_s=cpu)
        run.records = [RequestRecord(index=i, level=0, warmup=False) for i in indices]
        run.loop_lag_ms, run.stopped = [cpu], stopped
        return run

    run = merge(0, LoadLevel(concurrency=4), [part([0, 2], 0.3), part([1, 3], 0.5, "dead")])
    assert [r.index for r in run.records] == [0, 1, 2, 3]
    assert run.cpu_s == 0.5 and run.wall_s == 5.0 and run.loop_lag_ms == [0.3, 0.5]
    assert run.stopped == "dead" and run.level.concurrency == 4


async def test_two_processes_hold_one_closed_loop() -> None:
    with ServerThread(prefill_ms=10, token_interval_ms=5, default_tokens=8) as srv:
        spec = LoadSpec(
            levels=(LoadLevel(concurrency=4),), requests=12, input_tokens=10, output_tokens=8
        )
        run, used = await run_in_workers(
            EndpointSettings(url=srv.url), prompts(spec), spec, spec.levels[0], 0, 0, 2
        )
        assert srv.max_in_flight == 4
    assert [(r.index, r.warmup) for r in run.records] == [(i, False) for i in range(12)]
    assert used == 12
    assert all(r.status == "ok" and r.output_tokens == 8 for r in run.records)
    assert all(0.0 <= r.sent_s < r.done_s for r in run.records)  # one clock for both
    assert not run.interrupted and run.loop_lag_ms


async def test_a_process_that_fails_before_it_is_ready_fails_the_level_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the key's variable unset in the processes (spawned with this environment): each
    # fails building its client; the level says why at once, not "not ready in 120 s"
    monkeypatch.delenv("CHIMERA_TEST_NO_KEY", raising=False)
    endpoint = EndpointSettings(
        kind="openai", url="http://127.0.0.1:9/v1", api_key_env="CHIMERA_TEST_NO_KEY"
    )
    spec = LoadSpec(levels=(LoadLevel(concurrency=2),), requests=2)
    with pytest.raises(ConfigError, match="CHIMERA_TEST_NO_KEY"):
        await run_in_workers(endpoint, prompts(spec), spec, spec.levels[0], 0, 0, 2)
