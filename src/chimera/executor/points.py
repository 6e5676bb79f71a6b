"""One point of a sweep (or trial of a search) measured on one endpoint, in this process or
as a Ray task.

A point's warm-up calls and runs go to one endpoint one after another, so they never overlap
on a server; points on different endpoints run at the same time. The driver records every
result (CSV row, store) as it comes back: run by run in this process, point by point from a
Ray task. A task whose worker or node dies loses that point only: its runs come back failed
with the reason, and the other points go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chimera.agent.endpoint import open_backend
from chimera.backends.base import Backend, EndpointSettings, create_backend
from chimera.bench.grid import Point
from chimera.bench.measure import (
    METRICS,
    AgentWorkload,
    CallOutcome,
    RunOutcome,
    Workload,
    load_call,
    nonce_line,
)
from chimera.configfile import one_line
from chimera.executor.cluster import dead_worker_reason, ray_cluster
from chimera.executor.pool import ExecutorSettings
from chimera.options import InferenceOptions

POINT_CPUS = 0.25  # a point's client mostly waits on its server: four share a core


@dataclass(frozen=True, slots=True)
class PointJob:
    """A point's warm-up and runs on one endpoint. ``nonce`` is the nonce line's leading
    parts (the run's number is added); None sends the prompt as is."""

    workload: Workload
    endpoint: EndpointSettings
    point: Point
    options: InferenceOptions
    runs: tuple[int, ...]
    total_runs: int
    warmup: int
    nonce: tuple[str, ...] | None
    stage_prefix: str = ""


@dataclass(frozen=True, slots=True)
class Where:
    """The server a call went to: its URL as the backend names it, and its kind."""

    url: str
    kind: str


@dataclass(frozen=True, slots=True)
class RunDone:
    run_index: int
    started: datetime
    outcome: RunOutcome


class PointSink(Protocol):
    """The driver's side: progress, and each result as it is known."""

    def stage(self, text: str) -> None: ...

    def warmup(self, job: PointJob, where: Where, call: CallOutcome) -> None: ...

    def run(self, job: PointJob, where: Where, done: RunDone) -> None: ...


def workload_on(workload: Workload, endpoint: EndpointSettings, model: str | None) -> Workload:
    """``workload`` aimed at ``endpoint`` (an agent's spec names its endpoint), with the
    endpoint's own model name when it has one."""
    if isinstance(workload, AgentWorkload):
        update: dict[str, Any] = {"endpoint": endpoint}
        if model:
            update["model"] = model
        return dataclasses.replace(workload, spec=workload.spec.model_copy(update=update))
    if model and dataclasses.is_dataclass(workload) and hasattr(workload, "model"):
        return dataclasses.replace(workload, model=model)
    return workload


def _open(job: PointJob) -> Backend:
    if isinstance(job.workload, AgentWorkload):
        return open_backend(job.workload.spec, job.workload.facts)
    return create_backend(job.endpoint)


async def measure_point(job: PointJob, backend: Backend, sink: PointSink) -> None:
    """Load the model with the point's load-time options (where the backend fixes them at
    load), warm up, then measure each run of the point; every result goes to ``sink`` at once."""
    where = Where(backend.url, backend.kind)
    key = job.point.key
    loaded = await load_call(backend, job.workload.model, job.options)
    if loaded is not None:
        sink.warmup(job, where, loaded)
    for w in range(1, job.warmup + 1):
        sink.stage(f"{job.stage_prefix}warm-up {w}/{job.warmup} at {key}")
        call = await job.workload.warmup(backend, job.options)
        sink.warmup(job, where, call)
    for r in job.runs:
        sink.stage(f"{job.stage_prefix}run {r}/{job.total_runs} at {key}")
        started = datetime.now(UTC)
        nonce = nonce_line(*job.nonce, f"r{r}") if job.nonce is not None else None
        outcome = await job.workload.run(backend, job.options, nonce)
        sink.run(job, where, RunDone(r, started, outcome))


def failed_run(job: PointJob, reason: str) -> RunOutcome:
    """A run lost with its worker: failed, with one failed call so the store says why."""
    stage = "generate" if job.workload.mode == "generate" else "analysis"
    call = CallOutcome(stage, "", None, reason)
    return RunOutcome("failed", reason, dict.fromkeys(METRICS), (call,), 0.0)


class PointExecutor(Protocol):
    async def run(self, job: PointJob, sink: PointSink) -> None:
        """Measure the point; its results reach ``sink`` (failed ones with their reason)."""
        ...


class LocalPoints:
    """Points measured in this process, one backend open per endpoint (or the caller's)."""

    def __init__(self, stack: contextlib.AsyncExitStack, given: Backend | None = None) -> None:
        self.stack = stack
        self.given = given
        self.backends: dict[EndpointSettings, Backend] = {}

    async def run(self, job: PointJob, sink: PointSink) -> None:
        backend = self.given
        if backend is None:
            backend = self.backends.get(job.endpoint)
            if backend is None:
                backend = await self.stack.enter_async_context(_open(job))
                self.backends[job.endpoint] = backend
        await measure_point(job, backend, sink)


@dataclass
class _Collected:
    """A Ray task's results, replayed into the driver's sink when the task returns."""

    warmups: list[tuple[Where, CallOutcome]] = field(default_factory=list)
    runs: list[tuple[Where, RunDone]] = field(default_factory=list)

    def stage(self, text: str) -> None:
        pass  # the driver's progress says the point was sent; the worker has no one to tell

    def warmup(self, job: PointJob, where: Where, call: CallOutcome) -> None:
        self.warmups.append((where, call))

    def run(self, job: PointJob, where: Where, done: RunDone) -> None:
        self.runs.append((where, done))


def point_task(job: PointJob) -> _Collected:
    """What a Ray worker runs: the point on its own event loop, every result returned."""
    collected = _Collected()

    async def go() -> None:
        async with _open(job) as backend:
            await measure_point(job, backend, collected)

    asyncio.run(go())
    return collected


class RayPoints:
    """Each point a Ray task (no retry: a rerun would measure a point twice)."""

    def __init__(self, ray: Any) -> None:
        self.ray = ray
        self.remote = ray.remote(max_retries=0, num_cpus=POINT_CPUS)(point_task)

    async def run(self, job: PointJob, sink: PointSink) -> None:
        sink.stage(f"{job.stage_prefix}{job.point.key} sent to the Ray cluster")
        ref = self.remote.remote(job)
        try:
            collected: _Collected = await ref
        except asyncio.CancelledError:
            self.ray.cancel(ref)  # Ctrl-C: the point stops; finished ones stay recorded
            raise
        except self.ray.exceptions.RayError as exc:
            if isinstance(exc, self.ray.exceptions.RayTaskError):
                cause = exc.cause if exc.cause is not None else exc
                reason = f"the point's Ray task failed: {one_line(str(cause))[:300]}"
            else:
                reason = dead_worker_reason(exc)
            where = Where(job.endpoint.url or job.endpoint.kind, job.endpoint.kind)
            for r in job.runs:
                sink.run(job, where, RunDone(r, datetime.now(UTC), failed_run(job, reason)))
            return
        for where, call in collected.warmups:
            sink.warmup(job, where, call)
        for where, done in collected.runs:
            sink.run(job, where, done)


async def on_each(servers: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run one coroutine per endpoint at once; the first error is raised as itself (not in
    an ExceptionGroup), the others' work cancelled."""
    todo = list(servers)
    if len(todo) == 1:
        await todo[0]
        return
    try:
        async with asyncio.TaskGroup() as group:
            for coro in todo:
                group.create_task(coro)
    except BaseExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


@contextlib.asynccontextmanager
async def point_executor(
    settings: ExecutorSettings, given: Backend | None = None, endpoints: int = 1
) -> AsyncIterator[PointExecutor]:
    """The executor's points runner, open for the ``async with`` block. A Ray instance started
    here counts at least one CPU per endpoint: Ray keeps about one idle worker process per
    CPU, and fewer would make it retire and restart workers between points."""
    if settings.kind == "ray":
        if given is not None:
            raise ValueError("a given backend lives in this process: use the local executor")
        if settings.address is None and settings.num_cpus is None:
            cpus = max(os.cpu_count() or 1, endpoints)
            settings = settings.model_copy(update={"num_cpus": cpus})
        with ray_cluster(settings) as ray:
            yield RayPoints(ray)
        return
    async with contextlib.AsyncExitStack() as stack:
        yield LocalPoints(stack, given)
