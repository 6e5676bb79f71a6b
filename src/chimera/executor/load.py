"""``chimera load --executor ray``: a level's load driven by N Ray actors, their records
merged on the driver.

Each actor runs its share of the level (``load.workers.jobs``: streams or rate split, its
own request numbers and arrival draws) with its own event loop and connections. Hosts'
monotonic clocks are unrelated, so each actor runs on its own clock: the driver names one
common start as wall-clock time (``time.time``, which NTP keeps within milliseconds across
hosts) and each actor turns it into an instant of its own ``perf_counter_ns``; every record's
times are seconds from that instant on the actor's clock. The driver polls the actors as they
go (live counts) and merges their raw records (``load.workers.merge``): percentiles come from
the merged values, never from per-actor figures.

An actor that dies (its process, its node) loses only what it had in flight: those requests
are recorded failed with the reason (``worker_lost``), the records it had reported are kept,
and the level finishes with the other actors. Ctrl-C stops every actor, which returns what
finished.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter_ns
from typing import Any

from chimera.backends.base import EndpointSettings, create_backend
from chimera.configfile import one_line
from chimera.errors import ConfigError
from chimera.executor.cluster import dead_worker_reason
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.runner import LevelRunner
from chimera.load.spec import LoadLevel, LoadSpec
from chimera.load.workers import WorkerJob, jobs, merge

START_DELAY_S = 0.3  # from the driver's go to the common start: one RPC to every actor
READY_TIMEOUT_S = 120.0  # actors not placed by then (too few CPUs in the cluster) fail
POLL_S = 0.1  # how often the driver collects each actor's finished records
ACTOR_CPUS = 1  # a generator keeps a core busy: one each


@dataclass(slots=True)
class Progress:
    """What an actor has done since the last poll."""

    records: list[RequestRecord] = field(default_factory=list)
    dispatched: int = 0  # requests started so far (warm-up included)
    warm: int = 0  # of which warm-up


class LoadActor:
    """One generator on a Ray worker (an async actor: ``progress`` and ``stop`` are served
    while ``run`` runs)."""

    def __init__(self) -> None:
        self.runner: LevelRunner | None = None
        self.fresh: list[RequestRecord] = []
        self.stopping = False

    async def ready(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, job: WorkerJob, start_at: float) -> LevelRun:
        """The job's share, started at wall-clock ``start_at`` on this host's own clock."""
        self.fresh, self.stopping = [], False
        async with create_backend(job.endpoint) as backend:
            start_ns = perf_counter_ns() + int((start_at - time.time()) * 1e9)
            runner = LevelRunner(
                backend, job.prompts, job.spec, job.level, job.index,
                first_index=job.first_index, trace=job.trace, observer=self._finished,
                share=replace(job.share, start_ns=max(start_ns, 1)),
            )  # fmt: skip
            self.runner = runner
            task = asyncio.create_task(runner.execute())
            while not task.done():
                if self.stopping:
                    task.cancel()
                await asyncio.wait({task}, timeout=0.05)
            return task.result()

    def _finished(self, rec: RequestRecord) -> None:
        self.fresh.append(rec)  # the list progress() swaps out, not one bound before

    async def progress(self) -> Progress:
        done, self.fresh = self.fresh, []
        runner = self.runner
        if runner is None:
            return Progress(done)
        return Progress(done, runner.dispatched, runner.warm)

    async def stop(self) -> None:
        self.stopping = True


def lost_records(
    job: WorkerJob, seen: Sequence[RequestRecord], last: Progress, at_s: float, reason: str
) -> list[RequestRecord]:
    """The requests a dead actor had dispatched (by its last report) and not finished:
    failed, ``worker_lost``, with the reason."""
    finished = {r.index for r in seen}
    out = []
    for k in range(last.dispatched):
        index = job.first_index + k * job.share.stride + job.share.offset
        if index not in finished:
            rec = RequestRecord(index=index, level=job.index, warmup=k < last.warm)
            rec.error_type, rec.error = "worker_lost", reason
            rec.sent_s = rec.done_s = at_s
            out.append(rec)
    return out


class RayGenerators:
    """``workers`` load actors on the cluster, reused level after level."""

    def __init__(self, ray: Any, workers: int) -> None:
        self.ray = ray
        remote = ray.remote(num_cpus=ACTOR_CPUS, max_restarts=0, max_task_retries=0)
        self.actors = [remote(LoadActor).remote() for _ in range(workers)]

    def _wait(self, ref: Any) -> asyncio.Future[Any]:
        return asyncio.wrap_future(ref.future())

    async def ready(self) -> list[str]:
        """Every actor placed and started; where each runs (host:pid)."""
        refs = [self._wait(a.ready.remote()) for a in self.actors]
        try:
            return list(await asyncio.wait_for(asyncio.gather(*refs), READY_TIMEOUT_S))
        except TimeoutError:
            raise ConfigError(
                f"--workers {len(self.actors)}: the Ray cluster placed fewer load actors in "
                f"{READY_TIMEOUT_S:g} s (each takes {ACTOR_CPUS} CPU); give fewer --workers "
                "or add nodes"
            ) from None

    async def run_level(
        self,
        endpoint: EndpointSettings,
        prompts: Prompts,
        spec: LoadSpec,
        level: LoadLevel,
        index: int,
        first_index: int,
        trace: Sequence[float] = (),
        observer: Callable[[RequestRecord], None] | None = None,
    ) -> tuple[LevelRun, int]:
        """The level over the actors: the merged run, and how many request numbers it used."""
        todo = jobs(endpoint, prompts, spec, level, index, first_index, len(self.actors), trace)
        actors = self.actors[: len(todo)]
        await self.ready()
        start_ns = perf_counter_ns() + int(START_DELAY_S * 1e9)  # the driver's clock
        start_at = time.time() + START_DELAY_S
        runs = [
            self._wait(a.run.remote(job, start_at)) for a, job in zip(actors, todo, strict=True)
        ]
        seen: list[list[RequestRecord]] = [[] for _ in todo]
        last = [Progress() for _ in todo]
        dead: dict[int, str] = {}

        async def poll(i: int) -> None:
            try:
                p: Progress = await self._wait(actors[i].progress.remote())
            except self.ray.exceptions.RayError as exc:
                dead.setdefault(i, dead_worker_reason(exc))
                return
            seen[i] += p.records
            last[i] = Progress([], p.dispatched or last[i].dispatched, p.warm or last[i].warm)
            if observer is not None:
                for rec in p.records:
                    observer(rec)

        interrupted = False
        try:
            while not all(r.done() for r in runs):
                await asyncio.wait(runs, timeout=POLL_S)
                await asyncio.gather(*(poll(i) for i in range(len(todo)) if i not in dead))
        except asyncio.CancelledError:
            interrupted = True  # Ctrl-C: every actor stops and returns what finished
            for a in actors:
                a.stop.remote()
            await asyncio.wait(runs)
        parts = []
        for i, (job, ref) in enumerate(zip(todo, runs, strict=True)):
            at_s = (perf_counter_ns() - start_ns) / 1e9
            try:
                part: LevelRun = ref.result()
            except self.ray.exceptions.RayError as exc:
                reason = dead.get(i) or dead_worker_reason(exc)
                part = LevelRun(index, job.level, t0_ns=start_ns)
                part.records = seen[i] + lost_records(job, seen[i], last[i], at_s, reason)
                part.wall_s = at_s
            except Exception as exc:  # the actor's own failure: its share failed, said once
                reason = f"the load actor failed: {one_line(str(exc))[:300]}"
                part = LevelRun(index, job.level, t0_ns=start_ns)
                part.records = seen[i] + lost_records(job, seen[i], last[i], at_s, reason)
            else:
                if observer is not None:  # what finished after the last poll
                    known = {r.index for r in seen[i]}
                    for rec in part.records:
                        if rec.index not in known:
                            observer(rec)
            parts.append(part)
        run = merge(index, level, parts)
        run.t0_ns = start_ns  # the driver's clock: server telemetry is sampled on it
        run.interrupted = run.interrupted or interrupted
        used = max((r.index for r in run.records), default=first_index - 1) - first_index + 1
        return run, used

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
