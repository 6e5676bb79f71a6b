"""Which level runs next: the levels given, a sweep, or the search for the highest rate
meeting the SLOs; and the loop that runs them, each level's figures feeding the choice."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chimera.backends.base import Backend
from chimera.load import telemetry
from chimera.load.metrics import LevelSummary, summarize
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun
from chimera.load.runner import LevelRunner, Observer
from chimera.load.spec import LoadLevel, LoadSpec

if TYPE_CHECKING:
    from chimera.executor.load import RayGenerators


class Plan(Protocol):
    def next_level(self, done: Sequence[LevelSummary]) -> LoadLevel | None:
        """The level to run after ``done``; None when the plan is complete."""
        ...


class FixedPlan:
    """The levels given, in order."""

    def __init__(self, levels: Sequence[LoadLevel]) -> None:
        self.levels = list(levels)

    def next_level(self, done: Sequence[LevelSummary]) -> LoadLevel | None:
        return self.levels[len(done)] if len(done) < len(self.levels) else None


def sweep_rates(synchronous: LevelSummary, saturation: LevelSummary, n: int) -> list[float]:
    """``n`` rates evenly between what one stream and the saturation level served."""
    lo, hi = synchronous.requests_per_s, saturation.requests_per_s
    if not lo or not hi:
        return []  # a level served nothing: there is no range to sweep
    lo, hi = sorted((lo, hi))
    return [float(r) for r in np.linspace(lo, hi, n + 2)[1:-1]]


class SweepPlan:
    """Synchronous (one stream), then saturation (many streams), then open-loop rates
    between the request rates the two achieved."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec

    def next_level(self, done: Sequence[LevelSummary]) -> LoadLevel | None:
        if not done:
            return LoadLevel(concurrency=1)
        if len(done) == 1:
            return LoadLevel(concurrency=self.spec.saturation_concurrency)
        rates = sweep_rates(done[0], done[1], self.spec.sweep_rates)
        k = len(done) - 2
        if k >= len(rates):
            return None
        return LoadLevel(
            rate_rps=rates[k], arrival=self.spec.arrival, burstiness=self.spec.burstiness
        )


class Probe(BaseModel):
    """One rate the search tried: the levels that measured it and whether all met the SLOs."""

    model_config = ConfigDict(extra="forbid")

    rate_rps: float
    achieved_rps: list[float | None] = Field(description="what each run dispatched")
    levels: list[int]
    met: bool
    observed_ms: list[dict[str, float | None]] = Field(
        default_factory=list, description="each run's value of each SLO, by its target"
    )


class FindMaxResult(BaseModel):
    """The highest rate found meeting the SLOs, the bracket it lies in, and how sure it is."""

    model_config = ConfigDict(extra="forbid")

    slo: str
    max_rate_rps: float | None = Field(description="the highest rate probed that met the SLOs")
    bracket_rps: tuple[float, float] | None = Field(
        description="the answer lies between: met at the low end, missed at the high end"
    )
    upper_tested: bool = Field(
        False,
        description="the bracket's high end is an open-loop rate that missed; false: it is "
        "what the saturation level (a closed loop) served, no rate tried missed",
    )
    probes: list[Probe] = Field(default_factory=list)
    statement: str


class FindMaxPlan:
    """Synchronous, then saturation, then bisection on the open-loop rate between 0 and the
    saturation level's rate. A rate passes when all ``repeats`` runs meet every SLO with no
    failed request; a level whose generator fell behind ends the search (it would measure
    the client)."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.lo = 0.0
        self.hi = 0.0
        self.hi_tested = False  # hi is an open-loop rate that missed, not the saturation's
        self.saturation: LevelSummary | None = None
        self.rate = 0.0
        self.runs: list[LevelSummary] = []
        self.probes: list[Probe] = []
        self.verdict: str | None = None  # set when the search ends before its steps

    def _level(self) -> LoadLevel:
        return LoadLevel(
            rate_rps=self.rate, arrival=self.spec.arrival, burstiness=self.spec.burstiness
        )

    def _finish(self, verdict: str) -> None:
        self.verdict = verdict

    def next_level(self, done: Sequence[LevelSummary]) -> LoadLevel | None:
        if self.verdict is not None:
            return None
        if not done:
            return LoadLevel(concurrency=1)
        if len(done) == 1:
            if not done[0].slo_met:
                self._finish("even one request at a time misses the SLOs (or fails)")
                return None
            return LoadLevel(concurrency=self.spec.saturation_concurrency)
        if len(done) == 2:
            sat = done[1]
            if not sat.requests_per_s:
                self._finish("the saturation level served no request")
                return None
            if sat.slo_met:
                self.lo = self.hi = sat.requests_per_s
                self._finish(
                    f"the SLOs hold even at saturation ({sat.requests_per_s:.2f} req/s with "
                    f"{sat.concurrency} streams): throughput, not latency, is the limit"
                )
                return None
            self.hi, self.saturation = sat.requests_per_s, sat
            self.rate = self.hi / 2
            return self._level()
        last = done[-1]
        self.runs.append(last)
        if last.generator.saturated:
            self._finish(
                f"the generator could not hold {self.rate:.2f} req/s "
                f"({'; '.join(last.generator.notes)}): no conclusion at or above it"
            )
            return None
        if last.slo_met and len(self.runs) < self.spec.repeats:
            return self._level()  # the same rate again: every repeat must pass
        met = all(r.slo_met for r in self.runs)
        self.probes.append(
            Probe(
                rate_rps=self.rate,
                achieved_rps=[r.achieved_rate_rps for r in self.runs],
                levels=[r.level for r in self.runs],
                met=met,
                observed_ms=[{o.target: o.observed_ms for o in r.slo} for r in self.runs],
            )
        )
        self.runs = []
        if met:
            self.lo = self.rate
        else:
            self.hi, self.hi_tested = self.rate, True
        if len(self.probes) >= self.spec.bisect_steps:
            return None
        self.rate = (self.lo + self.hi) / 2
        return self._level()

    def result(self) -> FindMaxResult:
        slo = ",".join(str(t) for t in self.spec.slo)
        passed = [p.rate_rps for p in self.probes if p.met]
        best = max(passed) if passed else (self.lo or None)
        bracket = (self.lo, self.hi) if self.hi else None
        if self.verdict is not None and not self.probes:
            statement = self.verdict
        else:
            statement = f"{self._bracket(slo)}: {len(self.probes)} bisection steps, "
            if self.spec.repeats == 1:
                statement += (
                    "one run per rate, each rate passed only if it met every SLO with no "
                    "failure; one run per rate gives no confidence interval (use --repeats 3 "
                    "or more to see the run-to-run spread)"
                )
            else:
                statement += (
                    f"a rate passed only if all {self.spec.repeats} of its runs met every SLO "
                    "with no failure (a rate stops at its first miss)" + self._spread()
                )
            if self.verdict is not None:
                statement += f"; stopped early: {self.verdict}"
        return FindMaxResult(
            slo=slo, max_rate_rps=best, bracket_rps=bracket, upper_tested=self.hi_tested,
            probes=self.probes, statement=statement,
        )  # fmt: skip

    def _bracket(self, slo: str) -> str:
        if self.hi_tested:
            return (
                f"the highest rate meeting {slo} lies between {self.lo:.2f} and {self.hi:.2f} req/s"
            )
        sat = self.saturation
        streams = f" ({sat.concurrency} streams)" if sat is not None else ""
        return (
            f"every open-loop rate tried met {slo}, up to {self.lo:.2f} req/s; the highest "
            f"lies above it and at or below about {self.hi:.2f} req/s, what the saturation "
            f"level{streams} served missing them: a closed loop's figure, not a rate tried"
        )

    def _spread(self) -> str:
        """The widest run-to-run spread of an SLO's value at one rate, over rates run more
        than once: what the repeats say of how sure a pass or a miss is."""
        widest: tuple[float, str, float, float, float] | None = None
        for p in self.probes:
            if len(p.observed_ms) < 2:
                continue
            for target in p.observed_ms[0]:
                values = [v for run in p.observed_ms if (v := run.get(target)) is not None]
                if len(values) < 2 or min(values) <= 0:
                    continue
                ratio = max(values) / min(values)
                if widest is None or ratio > widest[0]:
                    widest = (ratio, target, min(values), max(values), p.rate_rps)
        if widest is None:
            return ""
        _, target, lo, hi, rate = widest
        return (
            f"; the widest run-to-run spread: {target} from {lo:.1f} to {hi:.1f} ms at "
            f"{rate:.2f} req/s"
        )


def make_plan(spec: LoadSpec) -> FixedPlan | SweepPlan | FindMaxPlan:
    if spec.strategy == "sweep":
        return SweepPlan(spec)
    if spec.strategy == "find_max":
        return FindMaxPlan(spec)
    return FixedPlan(spec.levels)


async def execute_plan(
    backend: Backend,
    prompts: Prompts,
    spec: LoadSpec,
    plan: Plan,
    observer: Observer | None = None,
    on_level: Callable[[LevelRun, LevelSummary], None] | None = None,
    trace: Sequence[float] = (),
    probes: Sequence[telemetry.Probe] = (),
) -> tuple[list[LevelRun], list[LevelSummary]]:
    """Run the plan's levels in turn. An interrupted level, or one stopped because the
    server stopped answering, ends the run."""
    runs: list[LevelRun] = []
    summaries: list[LevelSummary] = []
    first = 0
    with contextlib.ExitStack() as stack:
        ray_workers = _ray_workers(spec, stack)
        while (level := plan.next_level(summaries)) is not None:
            samples: list[dict[str, Any]] = []
            sampler = (
                asyncio.create_task(telemetry.sample(list(probes), samples)) if probes else None
            )
            if ray_workers is not None:
                run, used = await ray_workers.run_level(
                    backend.settings, prompts, spec, level, len(runs), first, trace, observer
                )
                first += used
            elif spec.workers > 1:
                from chimera.load.workers import run_in_workers

                run, used = await run_in_workers(
                    backend.settings, prompts, spec, level, len(runs), first, spec.workers, trace
                )
                first += used
                if observer is not None:  # the live counts, once the processes are done
                    for rec in run.records:
                        observer(rec)
            else:
                runner = LevelRunner(
                    backend, prompts, spec, level, len(runs), first_index=first,
                    observer=observer, trace=trace,
                )  # fmt: skip
                run = await runner.execute()
                first += runner.dispatched
            if sampler is not None:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
                run.telemetry = telemetry.on_level_clock(samples, run.t0_ns)
            runs.append(run)
            summaries.append(summarize(run, spec.slo))
            if on_level is not None:
                on_level(run, summaries[-1])
            if run.interrupted or run.stopped:
                break
    return runs, summaries


def _ray_workers(spec: LoadSpec, stack: contextlib.ExitStack) -> RayGenerators | None:
    """``--executor ray``: the cluster joined (or Ray started here, with a CPU per worker
    even past this machine's cores) and one actor per worker, for every level of the run."""
    if spec.executor.kind != "ray":
        return None
    from chimera.executor.cluster import ray_cluster
    from chimera.executor.load import RayGenerators

    settings = spec.executor
    if settings.address is None:
        cpus = max(os.cpu_count() or 1, spec.workers)
        settings = settings.model_copy(update={"num_cpus": cpus})
    ray = stack.enter_context(ray_cluster(settings))
    workers = RayGenerators(ray, spec.workers)
    stack.callback(workers.close)
    return workers
