"""``chimera load --executor ray``: a level driven by Ray actors, their raw records merged on
the driver; an actor killed mid-run loses only its in-flight requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chimera.backends.base import EndpointSettings, create_backend
from chimera.executor import ExecutorSettings
from chimera.executor.load import RayGenerators
from chimera.load.metrics import summarize
from chimera.load.plan import FixedPlan, execute_plan
from chimera.load.records import RequestRecord
from chimera.load.runner import LevelRunner
from chimera.load.spec import LoadLevel, LoadSpec
from chimera.testing import ServerThread

from ..load.conftest import prompts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
Cli = Callable[..., int]


def closed(concurrency: int, requests: int, **fields: Any) -> LoadSpec:
    level = LoadLevel(concurrency=concurrency)
    return LoadSpec(levels=(level,), requests=requests, input_tokens=10, output_tokens=8, **fields)


async def test_two_actors_hold_one_closed_loop_with_the_figures_of_one_process(
    ray_local: Any,
) -> None:
    spec = closed(4, 24)
    with ServerThread(prefill_ms=10, token_interval_ms=5, default_tokens=8) as srv:
        endpoint = EndpointSettings(url=srv.url)
        workers = RayGenerators(ray_local, 2)
        try:
            run, used = await workers.run_level(endpoint, prompts(spec), spec, spec.levels[0], 0, 0)
        finally:
            workers.close()
        assert srv.max_in_flight == 4
        async with create_backend(endpoint) as backend:
            alone = await LevelRunner(backend, prompts(spec), spec, spec.levels[0]).execute()
    assert [(r.index, r.status) for r in run.records] == [(i, "ok") for i in range(24)]
    assert used == 24 and not run.interrupted
    assert all(0.0 <= r.sent_s < r.done_s for r in run.records)  # each on its actor's clock
    merged, single = summarize(run), summarize(alone)
    assert merged.requests_ok == single.requests_ok == 24
    # the modelled server's 10 ms + 7 x 5 ms dominate: the same percentiles within noise
    for name in ("ttft_ms", "e2e_ms"):
        a, b = getattr(merged, name).p50, getattr(single, name).p50
        assert a is not None and b is not None and 0.6 < a / b < 1.6, (name, a, b)


async def test_the_plan_reuses_the_actors_level_after_level(ray_local: Any) -> None:
    spec = LoadSpec(
        levels=(LoadLevel(concurrency=2), LoadLevel(concurrency=4)),
        requests=8, input_tokens=10, output_tokens=8, workers=2,
        executor=ExecutorSettings(kind="ray"),
    )  # fmt: skip
    seen: list[RequestRecord] = []
    with ServerThread(prefill_ms=5, token_interval_ms=2, default_tokens=8) as srv:
        async with create_backend(EndpointSettings(url=srv.url)) as backend:
            runs, summaries = await execute_plan(
                backend, prompts(spec), spec, FixedPlan(spec.levels), seen.append
            )
    assert [s.requests_ok for s in summaries] == [8, 8]
    assert [r.index for r in runs[0].records] == list(range(8))
    assert [r.index for r in runs[1].records] == list(range(8, 16))  # numbered after level 0
    assert sorted(r.index for r in seen) == list(range(16))  # live counts, each once


async def test_an_actor_killed_mid_run_loses_only_its_in_flight_requests(
    ray_local: Any,
) -> None:
    spec = closed(4, 40)
    workers = RayGenerators(ray_local, 2)
    killed: list[int] = []

    def kill_after_three(rec: RequestRecord) -> None:
        if rec.index % 2 == 1 and rec.index >= 5 and not killed:
            killed.append(rec.index)
            ray_local.kill(workers.actors[1])  # the actor of the odd request numbers

    with ServerThread(prefill_ms=10, token_interval_ms=20, default_tokens=8) as srv:
        try:
            run, _ = await workers.run_level(
                EndpointSettings(url=srv.url), prompts(spec), spec, spec.levels[0], 0, 0,
                observer=kill_after_three,
            )  # fmt: skip
        finally:
            workers.close()
    assert killed and not run.interrupted
    even = [r for r in run.records if r.index % 2 == 0]
    assert [r.index for r in even] == list(range(0, 40, 2))  # the other actor's whole share
    assert all(r.status == "ok" for r in even)
    lost = [r for r in run.records if r.status == "failed"]
    assert 1 <= len(lost) <= 2  # at most its two streams' requests were in flight
    assert all(r.error_type == "worker_lost" and r.index % 2 == 1 for r in lost)
    assert all("the Ray worker died" in (r.error or "") for r in lost)
    odd_ok = [r for r in run.records if r.index % 2 == 1 and r.status == "ok"]
    assert odd_ok and len(odd_ok) < 20  # what it finished before dying is kept
    summary = summarize(run)
    assert summary.requests_failed == len(lost)
    assert summary.failures_by_type == {"worker_lost": len(lost)}


def test_chimera_load_on_ray_merges_two_actors(
    cli: Cli, ray_local: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(prefill_ms=10, token_interval_ms=5, default_tokens=8) as srv:
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "-c", "4", "-n", "64", "--workers", "2",
            "--executor", "ray", "--json", "--output-dir", str(tmp_path), "--no-store",
        )  # fmt: skip
        assert code == 0
        # both actors' streams at once (each holds 2; a busy machine may start one late)
        assert 2 < srv.max_in_flight <= 4
    (level,) = json.loads(capsys.readouterr().out)["levels"]
    assert level["requests_ok"] == 64
    lines = (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(x)["index"] for x in lines) == list(range(64))


async def test_ctrl_c_stops_every_actor_and_keeps_what_finished(ray_local: Any) -> None:
    spec = LoadSpec(
        levels=(LoadLevel(concurrency=4),), duration_s=120, input_tokens=10, output_tokens=8
    )
    workers = RayGenerators(ray_local, 2)
    seen: list[RequestRecord] = []
    with ServerThread(prefill_ms=5, token_interval_ms=10, default_tokens=8) as srv:
        try:
            level = workers.run_level(
                EndpointSettings(url=srv.url), prompts(spec), spec, spec.levels[0], 0, 0,
                observer=seen.append,
            )  # fmt: skip
            task = asyncio.create_task(level)
            while len(seen) < 8:
                assert not task.done()
                await asyncio.sleep(0.02)
            task.cancel()  # what Ctrl-C does to the driver's run
            run, _ = await task
        finally:
            workers.close()
    assert run.interrupted
    statuses = [r.status for r in run.records]
    assert statuses.count("ok") >= 8 and set(statuses) <= {"ok", "cancelled"}
    assert {r.index % 2 for r in run.records if r.status == "ok"} == {0, 1}  # both actors'
