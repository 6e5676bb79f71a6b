"""Sweeps over a pool of endpoints: locally and as Ray tasks, the same points and rows; a
worker that dies loses its point only; resume across executors."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from chimera.app.sweep import run_sweep
from chimera.backends.base import Backend, EndpointSettings
from chimera.bench.grid import Grid
from chimera.bench.measure import CallOutcome, GenerateWorkload, Mode, RunOutcome
from chimera.bench.sweep import SweepSettings
from chimera.executor import Endpoint, ExecutorSettings
from chimera.options import InferenceOptions
from chimera.store import Store
from chimera.store.queries import run_row, table_rows
from chimera.testing import ServerThread

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
RAY = ExecutorSettings(kind="ray")


def settings(tmp_path: Path, servers: tuple[ServerThread, ...], **over: Any) -> SweepSettings:
    values: dict[str, Any] = {
        "grid": Grid.parse([("num_ctx", "256,512"), ("temperature", "0.5,0.7")]),
        "options": InferenceOptions(num_predict=8),
        "runs": 2,
        "warmup": 1,
        "model": "tiny:latest",
        "endpoint": EndpointSettings(kind="ollama"),
        "endpoints": [Endpoint(url=s.url, labels={"host": f"h{i}"}) for i, s in enumerate(servers)],
        "output_dir": tmp_path / "sweep",
        "db": tmp_path / "runs.db",
    }
    values.update(over)
    return SweepSettings.model_validate(values)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def shape(found: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return sorted((r["point"], r["run_index"], r["status"]) for r in found)


async def test_a_ray_sweep_over_two_servers_matches_the_local_one(
    tmp_path: Path, ray_local: Any, two_servers: tuple[ServerThread, ServerThread]
) -> None:
    local = await run_sweep(settings(tmp_path / "local", two_servers))
    remote = await run_sweep(settings(tmp_path / "ray", two_servers, executor=RAY))
    assert remote.status == local.status == "ok"
    assert len(remote.rows) == len(local.rows) == 8  # 4 points x 2 runs
    assert shape(remote.rows) == shape(local.rows)
    urls = {s.url for s in two_servers}
    for result in (local, remote):
        by_point: dict[str, set[str]] = {}
        for r in result.rows:
            by_point.setdefault(r["point"], set()).add(r["endpoint"])
        assert all(len(e) == 1 for e in by_point.values())  # a point stays on one server
        assert set().union(*by_point.values()) == urls  # and both servers served
        assert {s["endpoint"] for s in result.summary} == urls
    assert remote.endpoints == [f"{s.url} (host=h{i})" for i, s in enumerate(two_servers)]
    # a server never saw two points at once: one task per endpoint at a time
    assert all(s.max_in_flight == 1 for s in two_servers)
    with Store(tmp_path / "ray" / "runs.db") as store:
        calls = table_rows(store, "calls", run_id=remote.run_id or "")
    assert len(calls) == 8 + 4  # every run and every warm-up, in the driver's one store
    assert {c["url"].rsplit("/api", 1)[0] for c in calls} == urls


@dataclass(frozen=True, slots=True)
class DiesAt:
    """A generate workload whose Ray worker dies (os._exit) at one point: in this process
    (the driver) it would never run."""

    mode: ClassVar[Mode] = "generate"
    model: str
    num_ctx: int
    driver_pid: int

    async def warmup(self, backend: Backend, options: InferenceOptions) -> CallOutcome:
        return await GenerateWorkload(self.model).warmup(backend, options)

    async def run(
        self, backend: Backend, options: InferenceOptions, nonce: str | None = None
    ) -> RunOutcome:
        if options.num_ctx == self.num_ctx and os.getpid() != self.driver_pid:
            os._exit(3)
        return await GenerateWorkload(self.model).run(backend, options, nonce)


async def test_a_worker_killed_mid_run_fails_its_point_only(
    tmp_path: Path, ray_local: Any, two_servers: tuple[ServerThread, ServerThread]
) -> None:
    ray_local.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    killer = DiesAt("tiny:latest", 512, os.getpid())
    result = await run_sweep(settings(tmp_path, two_servers, executor=RAY), workload=killer)
    assert len(result.rows) == 8 and result.status == "ok"
    failed = [r for r in result.rows if r["status"] != "ok"]
    assert sorted(r["point"] for r in failed) == sorted(
        2 * ["num_ctx=512, temperature=0.5"] + 2 * ["num_ctx=512, temperature=0.7"]
    )
    assert all("the Ray worker died" in r["error"] for r in failed)
    assert all(r["status"] == "ok" for r in result.rows if r["num_ctx"] == "256")
    with Store(tmp_path / "runs.db") as store:
        run = run_row(store, result.run_id or "")
        calls = table_rows(store, "calls", run_id=result.run_id or "")
    assert run["status"] == "ok" and run["error"] == "4 of 8 runs failed"
    lost = [c for c in calls if c["status"] == "failed"]
    assert len(lost) == 4 and all("the Ray worker died" in c["error"] for c in lost)
    assert {c["url"] for c in lost} <= {s.url for s in two_servers}


async def test_a_sweep_begun_locally_resumes_on_ray(
    tmp_path: Path, ray_local: Any, two_servers: tuple[ServerThread, ServerThread]
) -> None:
    first = await run_sweep(settings(tmp_path, two_servers, runs=1))
    assert len(first.rows) == 4
    more = await run_sweep(settings(tmp_path, two_servers, runs=2, executor=RAY))
    assert more.measured == 4 and more.skipped == 4 and more.run_id == first.run_id
    assert shape(more.rows) == sorted(
        (p, str(r), "ok") for p in {x["point"] for x in first.rows} for r in (1, 2)
    )


async def test_ctrl_c_cancels_the_tasks_and_keeps_finished_points(
    tmp_path: Path, ray_local: Any
) -> None:
    timing: dict[str, Any] = {"prefill_ms": 5, "token_interval_ms": 25, "default_tokens": 8}
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        grid = Grid.parse([("num_ctx", "256,512,1024,2048"), ("temperature", "0.5,0.7")])
        sweep = settings(tmp_path, (a, b), executor=RAY, grid=grid)
        task = asyncio.create_task(run_sweep(sweep))
        csv_path = tmp_path / "sweep" / "sweep.csv"
        while not (csv_path.exists() and len(rows(csv_path)) >= 2):
            assert not task.done()
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        kept = rows(csv_path)
        assert 2 <= len(kept) < 16 and all(r["status"] == "ok" for r in kept)
        resumed = await run_sweep(sweep)
    assert resumed.skipped == len(kept) and resumed.measured == 16 - len(kept)
    assert len(resumed.rows) == 16 and resumed.status == "ok"
