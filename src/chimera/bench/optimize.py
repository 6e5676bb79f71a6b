"""``chimera optimize``: an Optuna-guided search of the option space for the fastest setting.

Each trial measures one suggested point ``runs`` times (after ``warmup`` unmeasured calls) with
the generate workload. A run's objective value is its decode tokens/s (``throughput``), its
TTFT in ms (``ttft``), or ``weight * ln(tokens/s) - (1 - weight) * ln(TTFT ms)`` (``mix``:
scale-free, so a 10% gain in either counts the same at weight 0.5); the trial's value is the
mean over its runs. ``pareto`` optimizes (mean tokens/s, mean TTFT) together and reports the
front. The sampler suggests points; the best point is chosen on the runs pooled over every
trial at that point (so one lucky trial does not win alone), and its uncertainty is theirs.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chimera.backends.base import Backend, EndpointSettings
from chimera.bench.grid import Choice, Dimension, IntRange, Point, space_bounds
from chimera.bench.ledger import Ledger
from chimera.bench.measure import (
    DEFAULT_PROMPT,
    CallOutcome,
    GenerateWorkload,
    RunOutcome,
    Workload,
    session_tag,
)
from chimera.bench.sweep import model_name
from chimera.errors import ConfigError
from chimera.executor.points import (
    PointExecutor,
    PointJob,
    RunDone,
    Where,
    point_executor,
    workload_on,
)
from chimera.executor.pool import Endpoint, ExecutorSettings, pool_of
from chimera.options import InferenceOptions
from chimera.stats import Summary, summarize

Objective = Literal["throughput", "ttft", "mix", "pareto"]
OBJECTIVE_TEXT: dict[str, str] = {
    "throughput": "decode tokens/s (higher is better)",
    "ttft": "TTFT ms (lower is better)",
    "mix": "w*ln(decode tok/s) - (1-w)*ln(TTFT ms) (higher is better)",
    "pareto": "Pareto front of decode tokens/s (max) and TTFT ms (min)",
}
INSTALL_HINT = (
    "chimera optimize needs Optuna; install it with `pip install 'chimera-bench[optimize]'`"
)


class OptimizeSettings(BaseModel):
    """Everything ``chimera optimize`` can be told."""

    model_config = ConfigDict(extra="forbid")

    space: tuple[Dimension, ...] = Field(min_length=1)
    options: InferenceOptions = InferenceOptions()
    trials: int = Field(20, ge=1)
    runs: int = Field(3, ge=1, description="measured runs per trial")
    warmup: int = Field(1, ge=0, description="unmeasured calls per trial first")
    objective: Objective = "throughput"
    weight: float = Field(0.5, ge=0, le=1, description="mix: the weight of throughput")
    seed: int = Field(0, description="the sampler's seed: same seed, same suggestions")
    model: str = Field(min_length=1)
    endpoint: EndpointSettings = EndpointSettings()
    endpoints: list[Endpoint] = Field(
        default_factory=list,
        description="the pool of servers: trials run in rounds, one per server; empty = endpoint",
    )
    executor: ExecutorSettings = ExecutorSettings()
    prompt: str = DEFAULT_PROMPT
    prompt_nonce: bool = Field(
        True, description="start each measured run's prompt with a unique line (prompt caches)"
    )
    label: str | None = None
    db: Path | None = None
    store: bool = True


class TrialRecord(BaseModel):
    """One trial: the point, its per-run samples and the value told to the sampler."""

    model_config = ConfigDict(extra="forbid")

    number: int
    point: str
    params: dict[str, Any]
    state: Literal["complete", "failed"]
    value: float | None = Field(description="single objective: the trial's value")
    decode_tokens_per_s: float | None = Field(description="mean over the ok runs")
    ttft_ms: float | None = Field(description="mean over the ok runs")
    runs_ok: int
    samples: dict[str, list[float]] = Field(description="objective, decode, TTFT per ok run")
    error: str | None = None
    endpoint: str | None = Field(None, description="the server the trial ran on")


class BestPoint(BaseModel):
    """A best configuration with every run measured there (over all its trials)."""

    model_config = ConfigDict(extra="forbid")

    point: str
    params: dict[str, Any]
    trials: list[int]
    objective: Summary | None = Field(description="per-run objective (not for pareto)")
    decode_tokens_per_s: Summary | None
    ttft_ms: Summary | None


class OptimizeResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objective: Objective
    objective_text: str
    trials: list[TrialRecord]
    best: list[BestPoint] = Field(description="one point, or the Pareto front")
    run_id: str | None
    status: str


class OptimizeObserver(Protocol):
    def start(self, trials: int) -> None: ...

    def stage(self, text: str) -> None: ...

    def trial_done(self, record: TrialRecord) -> None: ...


def _mean(xs: Sequence[float]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


def run_value(objective: Objective, weight: float, decode: float, ttft: float) -> float:
    """One run's objective value (pareto: its throughput; the front is chosen elsewhere)."""
    if objective == "ttft":
        return ttft
    if objective == "mix":
        return weight * math.log(decode) - (1 - weight) * math.log(ttft)
    return decode


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return optuna


def _distributions(optuna: Any, space: Sequence[Dimension]) -> dict[str, Any]:
    d = optuna.distributions
    out: dict[str, Any] = {}
    for dim in space:
        if isinstance(dim, Choice):
            out[dim.name] = d.CategoricalDistribution(list(dim.values))
        elif isinstance(dim, IntRange):
            out[dim.name] = d.IntDistribution(dim.low, dim.high, step=dim.step)
        else:
            out[dim.name] = d.FloatDistribution(dim.low, dim.high)
    return out


def small_grid(space: Sequence[Dimension], trials: int) -> list[dict[str, Any]]:
    """Every point of an all-discrete space, when the budget covers them all (else none).

    Tried first, so a small space is searched exhaustively rather than by random draws that
    can miss a point; the remaining trials re-measure where the sampler sees promise.
    """
    axes: list[list[Any]] = []
    for dim in space:
        if isinstance(dim, Choice):
            axes.append(list(dim.values))
        elif isinstance(dim, IntRange):
            axes.append(list(range(dim.low, dim.high + 1, dim.step)))
        else:
            return []
        if math.prod(len(a) for a in axes) > trials:
            return []
    names = [dim.name for dim in space]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]


def _trial_record(
    settings: OptimizeSettings, number: int, point: Point, outcomes: list[RunOutcome]
) -> TrialRecord:
    decode, ttft, values = [], [], []
    for o in outcomes:
        tps, first = o.metrics.get("decode_tokens_per_s"), o.metrics.get("ttft_ms")
        if o.status == "ok" and tps and first and tps > 0 and first > 0:
            decode.append(float(tps))
            ttft.append(float(first))
            values.append(run_value(settings.objective, settings.weight, tps, first))
    errors = [o.error for o in outcomes if o.error]
    if outcomes and not values and not errors:  # answered, yet nothing to score: say so
        last = outcomes[-1].metrics
        errors = [
            f"{len(outcomes)} run(s) answered without a decode rate and a TTFT above 0 to score "
            f"(last: decode_tokens_per_s={last.get('decode_tokens_per_s')}, "
            f"ttft_ms={last.get('ttft_ms')}); the server may not report its eval time"
        ]
    return TrialRecord(
        number=number,
        point=point.key,
        params=point.as_dict(),
        state="complete" if values else "failed",
        value=_mean(values) if settings.objective != "pareto" else None,
        decode_tokens_per_s=_mean(decode),
        ttft_ms=_mean(ttft),
        runs_ok=len(values),
        samples={"objective": values, "decode_tokens_per_s": decode, "ttft_ms": ttft},
        error=errors[0] if errors and not values else None,
    )


def point_results(trials: Sequence[TrialRecord]) -> list[BestPoint]:
    """Every point measured, with the runs of all its complete trials pooled."""
    by_point: dict[str, list[TrialRecord]] = {}
    for t in trials:
        if t.state == "complete":
            by_point.setdefault(t.point, []).append(t)
    out = []
    for key, same in by_point.items():
        pooled = {k: [v for t in same for v in t.samples[k]] for k in same[0].samples}
        out.append(
            BestPoint(
                point=key,
                params=same[0].params,
                trials=[t.number for t in same],
                objective=summarize(pooled["objective"]),
                decode_tokens_per_s=summarize(pooled["decode_tokens_per_s"]),
                ttft_ms=summarize(pooled["ttft_ms"]),
            )
        )
    return out


def _mean_of(s: Summary | None) -> float:
    return s.mean if s is not None else math.nan


def _dominates(a: BestPoint, b: BestPoint) -> bool:
    assert a.decode_tokens_per_s and a.ttft_ms and b.decode_tokens_per_s and b.ttft_ms
    ad, at = a.decode_tokens_per_s.mean, a.ttft_ms.mean
    bd, bt = b.decode_tokens_per_s.mean, b.ttft_ms.mean
    return ad >= bd and at <= bt and (ad, at) != (bd, bt)


def best_points(objective: Objective, trials: Sequence[TrialRecord]) -> list[BestPoint]:
    """The best point by its pooled mean (a lucky single trial does not win by itself), or
    for ``pareto`` the points no other point beats on both throughput and TTFT, fastest first.
    """
    points = point_results(trials)
    if not points:
        return []
    if objective == "pareto":
        front = [
            p.model_copy(update={"objective": None})
            for p in points
            if not any(_dominates(q, p) for q in points)
        ]
        return sorted(front, key=lambda p: -_mean_of(p.decode_tokens_per_s))

    pick = min if objective == "ttft" else max
    return [pick(points, key=lambda p: _mean_of(p.objective))]


class _TrialSink:
    """One trial's results as they come back: the ledger, and its runs for the record."""

    def __init__(self, ledger: Ledger, number: int, observer: OptimizeObserver | None) -> None:
        self.ledger, self.number, self.observer = ledger, number, observer
        self.outcomes: list[RunOutcome] = []
        self.where: Where | None = None

    def stage(self, text: str) -> None:
        if self.observer is not None:
            self.observer.stage(text)

    def warmup(self, job: PointJob, where: Where, call: CallOutcome) -> None:
        model = job.workload.model
        self.ledger.warmup(
            job.point, call, where.kind, model, job.options, self.number, url=where.url
        )

    def run(self, job: PointJob, where: Where, done: RunDone) -> None:
        self.where = where
        self.ledger.run(
            job.point, done.run_index, done.outcome, where.kind, job.options,
            job.workload.model, self.number, url=where.url,
        )  # fmt: skip
        self.outcomes.append(done.outcome)


async def _measure_trial(
    settings: OptimizeSettings,
    job: PointJob,
    points_of: PointExecutor,
    ledger: Ledger,
    number: int,
    observer: OptimizeObserver | None,
) -> TrialRecord:
    point = job.point
    started = datetime.now(UTC).isoformat(timespec="milliseconds")
    sink = _TrialSink(ledger, number, observer)
    await points_of.run(job, sink)
    outcomes = sink.outcomes
    record = _trial_record(settings, number, point, outcomes)
    if sink.where is not None:
        record = record.model_copy(update={"endpoint": sink.where.url})
    ledger.trial(
        number=number,
        point=record.point,
        params=record.params,
        state=record.state,
        objective=record.value,
        decode_tokens_per_s=record.decode_tokens_per_s,
        ttft_ms=record.ttft_ms,
        runs_ok=record.runs_ok,
        samples=record.samples,
        error=record.error,
        started_at=started,
    )
    return record


async def run_optimize(
    settings: OptimizeSettings,
    *,
    backend: Backend | None = None,
    workload: Workload | None = None,
    observer: OptimizeObserver | None = None,
    ledger: Ledger | None = None,
) -> OptimizeResult:
    """Run the search, handing each trial to ``ledger`` as it ends (the run store, kept by the
    application layer: ``chimera.app.optimize``; an interrupt keeps the finished ones)."""
    ledger = ledger or Ledger()
    optuna = _import_optuna()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the observer reports trials
    grid = small_grid(settings.space, settings.trials)
    # Random start-up trials before TPE models the space: Optuna's 10, fewer on a small budget,
    # and none beyond the grid when the grid points are all tried first.
    startup = len(grid) if grid else min(10, max(2, settings.trials // 3))
    sampler = optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=startup)
    if settings.objective == "pareto":
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    else:
        direction = "minimize" if settings.objective == "ttft" else "maximize"
        study = optuna.create_study(direction=direction, sampler=sampler)
    distributions = _distributions(optuna, settings.space)
    for params in grid:
        study.enqueue_trial(params)
    names = [dim.name for dim in settings.space]
    workload = workload or GenerateWorkload(settings.model, settings.prompt)
    run_id = ledger.start(
        "optimize",
        label=settings.label or f"optimize {settings.objective} of {model_name(settings.model)}",
        settings=settings.model_dump(mode="json") | {"space": space_bounds(settings.space)},
    )
    records: list[TrialRecord] = []
    status = "interrupted"
    if observer is not None:
        observer.start(settings.trials)
    try:
        pool = pool_of(settings.endpoint, settings.endpoints)
        async with point_executor(settings.executor, backend, len(pool)) as points_of:
            # rounds of one trial per server: each asked before any of the round is told
            while len(records) < settings.trials:
                asked: list[tuple[Any, PointJob, int]] = []
                for endpoint, model in pool[: settings.trials - len(records)]:
                    trial = study.ask(distributions)
                    point = Point(tuple((n, trial.params[n]) for n in names))
                    number = len(records) + len(asked)
                    job = PointJob(
                        workload_on(workload, endpoint, model), endpoint, point,
                        point.options(settings.options), tuple(range(1, settings.runs + 1)),
                        settings.runs, settings.warmup,
                        (session_tag(), f"trial{number}") if settings.prompt_nonce else None,
                        f"trial {number}: ",
                    )  # fmt: skip
                    asked.append((trial, job, number))
                done = await asyncio.gather(
                    *(
                        _measure_trial(settings, job, points_of, ledger, n, observer)
                        for _, job, n in asked
                    )
                )
                for (trial, _, _), record in zip(asked, done, strict=True):
                    records.append(record)
                    if record.state == "failed":
                        study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    elif settings.objective == "pareto":
                        study.tell(trial, [record.decode_tokens_per_s, record.ttft_ms])
                    else:
                        study.tell(trial, record.value)
                    if observer is not None:
                        observer.trial_done(record)
        status = "ok" if any(r.state == "complete" for r in records) else "failed"
    finally:
        optuna.logging.set_verbosity(verbosity)
        failed = sum(1 for r in records if r.state == "failed")
        ledger.finish(status, f"{failed} of {len(records)} trials failed" if failed else None)
    return OptimizeResult(
        objective=settings.objective,
        objective_text=OBJECTIVE_TEXT[settings.objective],
        trials=records,
        best=best_points(settings.objective, records),
        run_id=run_id,
        status=status,
    )
