"""``--workers N``: one level's load spread over N generator processes, the records merged.

Each process runs its share with its own event loop and connections: a closed loop's
streams and requests are split, an open loop's rate is split (independent Poisson draws add
up to a Poisson process of the whole rate; process i starts i/R after the first, so constant
arrivals interleave and paced schedules add up to the whole rate exactly; a trace is dealt
out line by line). Once every process is ready (its
connections' client built), all start at one instant of the machine's monotonic clock
(``perf_counter_ns`` is system-wide on Linux), so every record's times are on one clock and
the merge is exact: records sorted by their number, the loop lags pooled, the busiest
process's CPU reported. Ctrl-C sets a shared event; each process stops and returns what
finished.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event, Semaphore
from time import perf_counter_ns

from chimera.backends.base import EndpointSettings, create_backend
from chimera.errors import ConfigError
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun
from chimera.load.runner import LevelRunner, Share, quiet_gc
from chimera.load.spec import LoadLevel, LoadSpec, Warmup

START_DELAY_S = 0.05  # from the last process ready to the common start
READY_TIMEOUT_S = 120.0  # a process not ready by then (cannot start, cannot import) fails
_SHARED: Shared | None = None  # set in each worker process by _init


@dataclass(frozen=True, slots=True)
class Shared:
    """What the processes share: ready (one release each), go with the start time, stop."""

    ready: Semaphore
    go: Event
    start_ns: Synchronized[int]
    stop: Event


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` as even as whole numbers go, larger shares first."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass(frozen=True, slots=True)
class WorkerJob:
    endpoint: EndpointSettings
    prompts: Prompts
    spec: LoadSpec
    level: LoadLevel
    index: int
    first_index: int
    trace: tuple[float, ...]
    share: Share


def jobs(
    endpoint: EndpointSettings,
    prompts: Prompts,
    spec: LoadSpec,
    level: LoadLevel,
    index: int,
    first_index: int,
    workers: int,
    trace: Sequence[float] = (),
) -> list[WorkerJob]:
    """Each process's part of the level; a process with nothing to do gets no job."""
    n = workers
    requests = split(spec.requests, n) if spec.requests is not None else [None] * n
    warm = split(spec.warmup.requests, n)
    streams = split(level.concurrency, n) if level.concurrency is not None else [0] * n
    out = []
    for i in range(n):
        if level.concurrency is not None:
            if streams[i] == 0:
                continue
            part = level.model_copy(update={"concurrency": streams[i]})
        elif level.rate_rps is not None:
            part = level.model_copy(update={"rate_rps": level.rate_rps / n})
        else:
            part = level
        if requests[i] == 0:
            continue
        # process i starts i/R later: constant arrivals interleave, and a paced schedule's
        # processes together span their requests at R exactly (none both at 0)
        phase = i / level.rate_rps if level.rate_rps else 0.0
        sub = spec.model_copy(
            update={
                "requests": requests[i],
                "warmup": Warmup(requests=warm[i], seconds=spec.warmup.seconds),
            }
        )
        out.append(
            WorkerJob(
                endpoint,
                prompts,
                sub,
                part,
                index,
                first_index,
                tuple(trace[i::n]),
                Share(stride=n, offset=i, seed_key=(i,), phase_s=phase),
            )
        )
    return out


def _init(shared: Shared) -> None:
    global _SHARED
    _SHARED = shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop


async def _work(job: WorkerJob) -> LevelRun:
    shared = _SHARED
    assert shared is not None
    # The collector's policy is set before the process says it is ready: its collection of
    # a fresh process's heap took 30-130 ms, and taken after the common start it made the
    # first dispatches that late (a light load flagged as a saturated generator).
    async with create_backend(job.endpoint) as backend:
        with quiet_gc():
            # ready, then wait for the common start the parent sets once every process is
            shared.ready.release()
            while not shared.go.is_set():  # noqa: ASYNC110 (a process-shared event)
                await asyncio.sleep(0.002)
            share = replace(job.share, start_ns=shared.start_ns.value)
            runner = LevelRunner(
                backend, job.prompts, job.spec, job.level, job.index,
                first_index=job.first_index, trace=job.trace, share=share, quiet_gc=False,
            )  # fmt: skip
            task = asyncio.create_task(runner.execute())
            while not task.done():
                if shared.stop.is_set():
                    task.cancel()
                await asyncio.wait({task}, timeout=0.05)
            return task.result()


def work(job: WorkerJob) -> LevelRun:
    """A worker process's level, on uvloop when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_work(job))
    return uvloop.run(_work(job))


def merge(index: int, level: LoadLevel, parts: Sequence[LevelRun]) -> LevelRun:
    run = LevelRun(index, level)
    run.records = sorted((r for p in parts for r in p.records), key=lambda r: r.index)
    run.wall_s = max((p.wall_s for p in parts), default=0.0)
    run.cpu_s = max((p.cpu_s for p in parts), default=0.0)  # the busiest process
    run.loop_lag_ms = [lag for p in parts for lag in p.loop_lag_ms]
    run.stopped = next((p.stopped for p in parts if p.stopped), None)
    run.interrupted = any(p.interrupted for p in parts)
    run.t0_ns = min((p.t0_ns for p in parts), default=0)
    return run


async def _all_ready(shared: Shared, running: Sequence[Future[LevelRun]]) -> None:
    """Wait for every process to say it is ready; one that failed before it was raises its
    own error at once, and none ready in ``READY_TIMEOUT_S`` is a ConfigError."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + READY_TIMEOUT_S
    for _ in running:
        while not await loop.run_in_executor(None, shared.ready.acquire, True, 0.2):
            for f in running:
                if f.done():
                    f.result()
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"--workers: a generator process was not ready in {READY_TIMEOUT_S:g} s"
                )


async def run_in_workers(
    endpoint: EndpointSettings,
    prompts: Prompts,
    spec: LoadSpec,
    level: LoadLevel,
    index: int,
    first_index: int,
    workers: int,
    trace: Sequence[float] = (),
) -> tuple[LevelRun, int]:
    """The level over ``workers`` processes: the merged run, and how many request numbers
    it used (the next level's numbers start after them)."""
    ctx = multiprocessing.get_context("spawn")
    shared = Shared(ctx.Semaphore(0), ctx.Event(), ctx.Value("q", 0), ctx.Event())
    todo = jobs(endpoint, prompts, spec, level, index, first_index, workers, trace)
    init: Callable[..., None] = _init
    with ProcessPoolExecutor(
        len(todo), mp_context=ctx, initializer=init, initargs=(shared,)
    ) as pool:
        running = [pool.submit(work, job) for job in todo]

        def finished() -> asyncio.Future[list[LevelRun]]:
            # a fresh wrapper each time: a cancelled wait must not cancel the processes' work
            return asyncio.gather(*(asyncio.wrap_future(f) for f in running))

        try:
            await _all_ready(shared, running)
            shared.start_ns.value = perf_counter_ns() + int(START_DELAY_S * 1e9)
            shared.go.set()
            parts = await asyncio.shield(finished())
        except asyncio.CancelledError:
            shared.stop.set()
            shared.go.set()
            parts = await finished()
            for p in parts:
                p.interrupted = True
    run = merge(index, level, parts)
    used = max((r.index for r in run.records), default=first_index - 1) - first_index + 1
    return run, used
