"""The load generator: one level's requests through a backend on one event loop.

Closed loop: ``C`` workers, each sending its next request when the last one ends. Open loop:
requests dispatched on the arrival schedule whatever the server does, each its own task.
Every request ends as one ``RequestRecord``: ok, failed with its error type, or cancelled
(still in flight when the run was interrupted). The generator watches itself as it goes:
how late each dispatch was, the event loop's lag and the client's CPU time, so a level it
could not hold is flagged rather than mistaken for the server's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter_ns

from chimera.backends.base import Backend, CallResult, TextChunk
from chimera.errors import ReasoningOnlyError
from chimera.load.arrivals import paced, ramp_schedule
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun, RequestRecord, error_type
from chimera.load.spec import LoadLevel, LoadSpec

NS = 1_000_000_000
LAG_PROBE_S = 0.01  # the loop-lag monitor's sleep; its overshoot is the lag

Observer = Callable[[RequestRecord], None]


@dataclass(frozen=True, slots=True)
class Share:
    """One generator process's part of a level (``--workers``): its requests are numbered
    ``offset``, ``offset + stride``, ...; its arrivals drawn with its own ``seed_key`` and
    shifted by ``phase_s``; it starts at ``start_ns`` (perf_counter_ns, one clock for every
    process of the machine). The default is the whole level in this process."""

    stride: int = 1
    offset: int = 0
    seed_key: tuple[int, ...] = ()
    phase_s: float = 0.0
    start_ns: int = 0


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """The collector's policy while a level runs: what was alive before it (the interpreter's
    modules, the backend, earlier levels' records) is frozen out of collections, and the
    middle generation is collected five times less often.

    Why: a full collection walks every tracked object of the process, and a generator holds
    hundreds of thousands of them; timed with ``gc.callbacks`` against 64 streams, one took
    80-200 ms of CPU, a stall of the event loop that lands in every TTFT and ITL measured
    across it. Frozen, a level's full collections walk only what the level made. The
    collector still runs (cycles are still freed); the objects are unfrozen after the level.

    A young collection's pause grows with the young generation's size, and every stamp
    that falls in it waits: the young generation keeps the interpreter's size (pauses of
    about 1 ms of CPU at 64 streams, against 3-10 ms when it was five times larger, which
    held a burst of first tokens at once), and collections of the generations above it are
    as rare as they were then (one in five times ten young ones).
    Left alone when something else froze objects first (it owns the frozen set)."""
    if gc.get_freeze_count():
        yield
        return
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1] * 5, *thresholds[2:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def paced_counts(spec: LoadSpec, rate_rps: float) -> tuple[int, int]:
    """An open level's warm-up and measured request counts at ``rate_rps``, known before it
    starts: given, or the arrivals a constant rate puts in the warm-up's and the duration's
    seconds (``ceil(R * s)``; the last of them before the bound)."""

    def within(seconds: float) -> int:
        return max(0, math.ceil(rate_rps * seconds - 1e-9))

    w = spec.warmup
    warm = w.requests if w.requests else within(w.seconds)
    measured = [spec.requests] if spec.requests is not None else []
    if spec.duration_s is not None:
        measured.append(within(spec.duration_s))
    return warm, min(measured)


class LevelRunner:
    """Runs one level; ``first_index`` numbers its requests after the earlier levels'."""

    def __init__(
        self,
        backend: Backend,
        prompts: Prompts,
        spec: LoadSpec,
        level: LoadLevel,
        index: int = 0,
        *,
        first_index: int = 0,
        observer: Observer | None = None,
        trace: Sequence[float] = (),
        share: Share | None = None,
        quiet_gc: bool = True,
    ) -> None:
        self.backend = backend
        self.prompts = prompts
        self.spec = spec
        self.level = level
        self.run = LevelRun(index, level)
        self.first_index = first_index
        self.observer = observer
        self.trace = trace  # a trace level's send times, seconds from its start
        self.share = share or Share()
        self.quiet_gc = quiet_gc  # see quiet_gc(); off only to measure what it is for
        self.t0_ns = 0
        self.dispatched = 0
        self.warm = 0
        self.measure_start: float | None = None
        self.in_flight = 0
        self.unreachable_streak = 0
        self.cancel_reason = "the run was interrupted while the request was in flight"

    # --- bounds --------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return (perf_counter_ns() - self.t0_ns) / NS

    def _next(self, at_s: float) -> tuple[int, bool] | None:
        """The next request's number and warm-up flag if one is due at ``at_s``; None once
        the level's bound is reached or it was stopped."""
        if self.run.stopped is not None:
            return None
        w = self.spec.warmup
        warmup = self.dispatched < w.requests if w.requests else at_s < w.seconds
        if warmup:
            self.warm += 1
        else:
            if self.measure_start is None:
                self.measure_start = at_s
            measured = self.dispatched - self.warm
            if self.spec.requests is not None and measured >= self.spec.requests:
                return None
            if (
                self.spec.duration_s is not None
                and at_s - self.measure_start >= self.spec.duration_s
            ):
                return None
        self.dispatched += 1
        k = self.dispatched - 1
        return self.first_index + k * self.share.stride + self.share.offset, warmup

    # --- one request ---------------------------------------------------------------------

    async def _send(self, index: int, warmup: bool, scheduled_s: float | None) -> None:
        rec = RequestRecord(index=index, level=self.run.index, warmup=warmup)
        rec.scheduled_s = scheduled_s
        request = self.prompts.request(index)
        sent_ns = perf_counter_ns()
        rec.sent_s = (sent_ns - self.t0_ns) / NS
        chunk_ns: list[int] = []
        result: CallResult | None = None
        self.in_flight += 1
        try:
            async for event in self.backend.stream(request):
                if isinstance(event, TextChunk):
                    chunk_ns.append(event.t_ns)
                else:
                    result = event
            if result is None:  # a backend's bug, but counted, never taken for a success
                raise RuntimeError("the stream ended without a result")
            rec.status = "ok"
        except asyncio.CancelledError:
            rec.status, rec.error_type, rec.error = "cancelled", "cancelled", self.cancel_reason
            raise
        except Exception as exc:  # a load run records every failure; it never stops on one
            if isinstance(exc, ReasoningOnlyError) and exc.at_cap:
                # A load measures the tokens a server generates: reasoning its output-token
                # cap cut is that output, ok in either shape (its ttfot_ms stays None).
                result, rec.status = exc.result, "ok"
            else:
                rec.error_type, rec.error = error_type(exc), str(exc) or type(exc).__name__
        finally:
            done_ns = perf_counter_ns()
            self.in_flight -= 1
            rec.done_s = (done_ns - self.t0_ns) / NS
            _fill(rec, result, chunk_ns, sent_ns, done_ns)
            self.run.records.append(rec)
            self._watch(rec)
            if self.observer is not None:
                self.observer(rec)

    def _watch(self, rec: RequestRecord) -> None:
        """Stop dispatching once the server stops answering at all: requests sent to a dead
        server fail in microseconds and would only bury the level's real failures."""
        if rec.error_type in ("server_unreachable", "connect_timeout"):
            self.unreachable_streak += 1
            if self.unreachable_streak >= self.spec.stop_after_unreachable:
                self.run.stopped = (
                    f"stopped: {self.unreachable_streak} connections in a row failed ({rec.error})"
                )
        elif rec.status == "ok":
            self.unreachable_streak = 0

    # --- the loops -----------------------------------------------------------------------

    async def _closed(self, concurrency: int) -> None:
        # a ramp starts worker k at k/C of its span: one stream at first, C at the end
        span = self.level.ramp_span_s(self.spec) if self.level.ramp else 0.0

        async def worker(k: int) -> None:
            if span:
                await asyncio.sleep(k * span / concurrency)
            while (job := self._next(self._elapsed())) is not None:
                await self._send(job[0], job[1], None)

        async with asyncio.TaskGroup() as tg:
            for k in range(concurrency):
                tg.create_task(worker(k))

    async def _open(self, level: LoadLevel) -> None:
        times: Iterable[float]
        if level.trace:
            times = self.trace
        else:
            assert level.rate_rps is not None
            # each level its own draws: one sequence rescaled would repeat one sample's error
            seed = (self.spec.seed, self.run.index, *self.share.seed_key)
            if level.ramp:
                span = level.ramp_span_s(self.spec)
                times = ramp_schedule(level.arrival, level.rate_rps, span, level.burstiness, seed)
            else:
                counts = paced_counts(self.spec, level.rate_rps)
                times = paced(level.arrival, level.rate_rps, counts, level.burstiness, seed)
        phase = self.share.phase_s
        async with asyncio.TaskGroup() as tg:
            for unshifted in times:
                due = unshifted + phase
                # behind the schedule, the level's bounds go by the clock: a generator that
                # cannot keep up stops at its duration (flagged), not once it has worked off
                # a backlog the schedule piled up
                job = self._next(max(due, self._elapsed()))
                if job is None:
                    break
                delay = due - self._elapsed()
                if delay > 0:
                    await asyncio.sleep(delay)
                    # uvloop's timers have millisecond steps and may wake early: not before due
                    while self._elapsed() < due:  # noqa: ASYNC110 (a spin, <1 ms)
                        await asyncio.sleep(0)
                else:
                    # Behind the schedule: the requests in flight are still read between two
                    # dispatches (dispatching a backlog in one go blocked the loop for seconds,
                    # and every stream's bytes, stamps included, waited behind it).
                    await asyncio.sleep(0)
                tg.create_task(self._send(job[0], job[1], due))

    async def _lag_monitor(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(LAG_PROBE_S)
            self.run.loop_lag_ms.append((time.perf_counter() - t - LAG_PROBE_S) * 1000.0)

    async def execute(self) -> LevelRun:
        """Run the level to its bound. Cancelled (Ctrl-C), it cancels what is in flight,
        records those requests as cancelled and returns what finished, marked interrupted."""
        # the collector's policy first: its collection is no part of the level, and workers'
        # levels start at a common instant it must not make them late for
        with quiet_gc() if self.quiet_gc else contextlib.nullcontext():
            if self.share.start_ns:  # workers start together on the machine's monotonic clock
                await asyncio.sleep(max(0.0, (self.share.start_ns - perf_counter_ns()) / NS))
                # the loop's timers may wake a little early: never start before the instant
                while perf_counter_ns() < self.share.start_ns:  # noqa: ASYNC110 (a spin, <1 ms)
                    await asyncio.sleep(0)
            # the loop thread's CPU only: an in-process engine's threads are the server's work
            cpu0 = time.thread_time()
            self.t0_ns = self.share.start_ns or perf_counter_ns()
            self.run.t0_ns = self.t0_ns
            monitor = asyncio.create_task(self._lag_monitor())
            try:
                if self.level.concurrency is not None:
                    await self._closed(self.level.concurrency)
                else:
                    await self._open(self.level)
            except asyncio.CancelledError:
                self.run.interrupted = True
            finally:
                monitor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await monitor
                self.run.wall_s = self._elapsed()
                self.run.cpu_s = time.thread_time() - cpu0
        self.run.records.sort(key=lambda r: r.index)
        return self.run


def _fill(
    rec: RequestRecord, result: CallResult | None, chunk_ns: list[int], sent_ns: int, done_ns: int
) -> None:
    """Timings of a finished request from the backend's result; for one that failed, what
    the client saw of it, from dispatch (marked estimated)."""
    rec.chunks = len(chunk_ns)
    rec.itl_ms = [(b - a) / 1e6 for a, b in itertools.pairwise(chunk_ns)]
    if result is None:
        if chunk_ns:
            rec.ttft_ms = (chunk_ns[0] - sent_ns) / 1e6
            rec.estimated.append("ttft_ms")
        rec.e2e_ms = (done_ns - sent_ns) / 1e6
        rec.estimated.append("e2e_ms")
        return
    m = result.metrics
    rec.ttft_ms, rec.ttfot_ms, rec.e2e_ms = m.ttft_ms, m.ttfot_ms, m.e2e_ms
    rec.output_tokens, rec.prompt_tokens = m.output_tokens, m.prompt_tokens
    rec.load_ms, rec.prompt_eval_ms = m.load_ms, m.prompt_eval_ms
    rec.eval_ms, rec.server_total_ms = m.eval_ms, m.server_total_ms
    rec.done_reason = result.done_reason
    rec.estimated = list(m.estimated)
    if chunk_ns and m.ttft_ms is not None:
        out_ns = chunk_ns[0] - m.ttft_ms * 1e6  # when the request's first byte went out
        rec.queue_ms = max(0.0, (out_ns - sent_ns) / 1e6)
    if m.ttft_ms is not None and m.e2e_ms is not None and (rec.output_tokens or 0) > 1:
        assert rec.output_tokens is not None
        rec.tpot_ms = (m.e2e_ms - m.ttft_ms) / (rec.output_tokens - 1)
