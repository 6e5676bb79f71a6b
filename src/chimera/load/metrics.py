"""Per-level figures from per-request records (pure): rates, concurrency, latency
distributions, goodput against the SLOs, and whether the generator kept up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chimera.load.records import LevelRun, RequestRecord
from chimera.load.spec import SloTarget

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
# The generator is flagged when it falls this far behind (see generator_check).
MAX_SEND_LAG_P99_MS = 20.0
MAX_LOOP_LAG_P99_MS = 20.0
MAX_CLIENT_CPU_PERCENT = 90.0
MIN_RATE_RATIO = 0.95
# Over-saturation: TTFT of the last third of a level's requests against the first third's.
OVERLOAD_MIN_REQUESTS = 12
OVERLOAD_GROWTH = 2.0
OVERLOAD_MIN_MS = 50.0


class Distribution(BaseModel):
    """A latency over a level's ok requests, milliseconds; None with no values."""

    model_config = ConfigDict(extra="forbid")

    n: int
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None

    def stat(self, name: str) -> float | None:
        value = getattr(self, name)
        return None if value is None else float(value)


def distribution(values: Sequence[float]) -> Distribution:
    if not values:
        return Distribution(n=0)
    a = np.asarray(values, dtype=float)
    qs = np.percentile(a, list(PERCENTILES.values()))
    return Distribution(
        n=len(a),
        mean=float(a.mean()),
        max=float(a.max()),
        **{k: float(q) for k, q in zip(PERCENTILES, qs, strict=True)},
    )


class SloResult(BaseModel):
    """One objective over the level: the observed statistic and whether it was met."""

    model_config = ConfigDict(extra="forbid")

    target: str
    observed_ms: float | None
    met: bool


class GeneratorHealth(BaseModel):
    """Whether the client kept up with the load it was asked for."""

    model_config = ConfigDict(extra="forbid")

    send_lag_ms: Distribution = Field(description="open loop: dispatch time - scheduled time")
    loop_lag_ms: Distribution = Field(description="event loop: overshoot of a 10 ms sleep")
    client_cpu_percent: float | None = Field(
        description="the event loop thread's CPU time / wall time x 100 (100 = one core)"
    )
    saturated: bool
    notes: list[str] = Field(default_factory=list)


class LevelSummary(BaseModel):
    """The figures of one level. Latencies are over ok, measured (not warm-up) requests."""

    model_config = ConfigDict(extra="forbid")

    level: int
    label: str
    mode: Literal["closed", "open"]
    concurrency: int | None
    requested_rate_rps: float | None
    scheduled_rate_rps: float | None = Field(description="the seeded schedule's own rate")
    achieved_rate_rps: float | None = Field(
        description="open loop: measured requests dispatched per second; closed loop: "
        "measured requests per second of the level's window, first dispatch to last end (its "
        "first C go out together, which put a short level's dispatch rate above the server's "
        "capacity)"
    )
    requests_ok: int
    requests_failed: int
    failures_by_type: dict[str, int]
    requests_cancelled: int
    warmup_requests: int
    duration_s: float = Field(description="first measured dispatch -> last measured end")
    requests_per_s: float | None = Field(description="ok requests per second")
    mean_concurrency: float | None = Field(description="time-weighted requests in flight")
    output_tokens_per_s: float | None
    input_tokens_mean: float | None
    output_tokens_mean: float | None
    goodput_rps: float | None = Field(description="ok requests meeting every SLO, per second")
    slo: list[SloResult]
    slo_met: bool | None = Field(description="every SLO met, no request failed; None: no SLOs")
    over_saturated: str | None = Field(
        description="open loop: why the server fell behind the arrivals (TTFT kept growing)"
    )
    over_saturation_checked: bool = Field(
        False,
        description="whether over_saturated was judged: an open loop whose generator kept "
        "up, with enough ok requests; false: not judged (over_saturated then says nothing)",
    )
    ttft_ms: Distribution
    ttfot_ms: Distribution = Field(
        default_factory=lambda: distribution([]),
        description="time to the answer's first token, after any reasoning",
    )
    itl_ms: Distribution
    tpot_ms: Distribution
    e2e_ms: Distribution
    queue_ms: Distribution
    server_prompt_eval_ms: Distribution
    generator: GeneratorHealth
    stopped: str | None
    interrupted: bool
    telemetry: list[dict[str, Any]] = Field(
        default_factory=list, description="server samples through the level, t_s its clock"
    )


def _rate(times: list[float]) -> float | None:
    """Events per second over a sorted list of times: (n - 1) / span."""
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) / (times[-1] - times[0])


def _request_value(rec: RequestRecord, target: SloTarget) -> float | None:
    """One request's own value for an objective (ITL: its own gaps' statistic)."""
    if target.metric == "itl":
        return distribution(rec.itl_ms).stat(target.stat) if rec.itl_ms else None
    values = {"ttft": rec.ttft_ms, "ttfot": rec.ttfot_ms, "tpot": rec.tpot_ms, "e2e": rec.e2e_ms}
    return values[target.metric]


def _mean(values: list[int]) -> float | None:
    return float(np.mean(values)) if values else None


def generator_check(
    run: LevelRun, measured: list[RequestRecord], scheduled_rate: float | None
) -> GeneratorHealth:
    """Flag a generator that fell behind: late dispatches, a lagging event loop, a client
    CPU near one core, or an achieved rate short of its own schedule's."""
    lags = [(r.sent_s - r.scheduled_s) * 1000.0 for r in measured if r.scheduled_s is not None]
    send = distribution(lags)
    loop = distribution(run.loop_lag_ms)
    cpu = 100.0 * run.cpu_s / run.wall_s if run.wall_s > 0 else None
    notes = []
    if send.p99 is not None and send.p99 > MAX_SEND_LAG_P99_MS:
        notes.append(f"dispatches ran late: p99 {send.p99:.1f} ms behind the schedule")
    if loop.p99 is not None and loop.p99 > MAX_LOOP_LAG_P99_MS:
        notes.append(f"the event loop lagged: p99 {loop.p99:.1f} ms")
    if cpu is not None and cpu > MAX_CLIENT_CPU_PERCENT:
        notes.append(f"the client used {cpu:.0f}% of a core")
    achieved = _rate(sorted(r.sent_s for r in measured))
    if scheduled_rate and achieved is not None and achieved < MIN_RATE_RATIO * scheduled_rate:
        notes.append(f"dispatched {achieved:.2f} req/s of the {scheduled_rate:.2f} scheduled")
    return GeneratorHealth(
        send_lag_ms=send,
        loop_lag_ms=loop,
        client_cpu_percent=cpu,
        saturated=bool(notes),
        notes=notes,
    )


def overload_checkable(level_mode: str, gen: GeneratorHealth, ok: Sequence[RequestRecord]) -> bool:
    """Whether a level can be judged over-saturated: an open loop (a closed loop waits for
    the server, it cannot over-saturate), a generator that kept up (its growing TTFTs would
    be the client's), and enough ok requests with a TTFT to compare thirds."""
    timed = sum(1 for r in ok if r.ttft_ms is not None)
    return level_mode == "open" and not gen.saturated and timed >= OVERLOAD_MIN_REQUESTS


def overload_check(ok: Sequence[RequestRecord]) -> str | None:
    """An open-loop level the server cannot keep up with: requests queue faster than they
    are served, so TTFT grows through the level instead of holding steady."""
    timed = sorted((r.sent_s, r.ttft_ms) for r in ok if r.ttft_ms is not None)
    if len(timed) < OVERLOAD_MIN_REQUESTS:
        return None
    third = len(timed) // 3
    first = float(np.median([t for _, t in timed[:third]]))
    last = float(np.median([t for _, t in timed[-third:]]))
    if last > OVERLOAD_GROWTH * first and last - first > OVERLOAD_MIN_MS:
        return (
            f"TTFT grew from {first:.0f} ms (median, first third) to {last:.0f} ms (last "
            "third): requests arrive faster than the server serves them"
        )
    return None


def summarize(run: LevelRun, slo: Sequence[SloTarget] = ()) -> LevelSummary:
    """The level's figures from its records."""
    level = run.level
    measured = [r for r in run.records if r.counted]
    ok = [r for r in measured if r.status == "ok"]
    failed = Counter(r.error_type or "unknown" for r in measured if r.status == "failed")
    start = min((r.sent_s for r in measured), default=0.0)
    end = max((r.done_s for r in measured), default=start)
    window = end - start
    per_s = (lambda x: x / window) if window > 0 else (lambda x: None)
    busy = sum(r.done_s - r.sent_s for r in measured)
    out_tokens = [r.output_tokens for r in ok if r.output_tokens is not None]
    in_tokens = [r.prompt_tokens for r in ok if r.prompt_tokens is not None]
    scheduled = [r.scheduled_s for r in measured if r.scheduled_s is not None]
    scheduled_rate = _rate(sorted(scheduled))
    dists = {
        "ttft_ms": distribution([r.ttft_ms for r in ok if r.ttft_ms is not None]),
        "ttfot_ms": distribution([r.ttfot_ms for r in ok if r.ttfot_ms is not None]),
        "itl_ms": distribution([g for r in ok for g in r.itl_ms]),
        "tpot_ms": distribution([r.tpot_ms for r in ok if r.tpot_ms is not None]),
        "e2e_ms": distribution([r.e2e_ms for r in ok if r.e2e_ms is not None]),
        "queue_ms": distribution([r.queue_ms for r in ok if r.queue_ms is not None]),
        "server_prompt_eval_ms": distribution(
            [r.prompt_eval_ms for r in ok if r.prompt_eval_ms is not None]
        ),
    }
    slo_results = [
        SloResult(
            target=str(t),
            observed_ms=(obs := dists[f"{t.metric}_ms"].stat(t.stat)),
            met=t.holds(obs),
        )
        for t in slo
    ]
    good = sum(1 for r in ok if all(t.holds(_request_value(r, t)) for t in slo))
    # A generator that fell behind says nothing of the server: its growing TTFTs are not
    # taken for the server's limit (the generator's notes say what happened instead).
    gen = generator_check(run, measured, scheduled_rate)
    checked = overload_checkable(level.mode, gen, ok)
    return LevelSummary(
        level=run.index,
        label=level.label,
        mode=level.mode,
        concurrency=level.concurrency,
        requested_rate_rps=level.rate_rps,
        scheduled_rate_rps=scheduled_rate,
        achieved_rate_rps=(
            per_s(len(measured))
            if level.mode == "closed"
            else _rate(sorted(r.sent_s for r in measured))
        ),
        requests_ok=len(ok),
        requests_failed=sum(failed.values()),
        failures_by_type=dict(failed.most_common()),
        requests_cancelled=sum(1 for r in run.records if r.status == "cancelled"),
        warmup_requests=sum(1 for r in run.records if r.warmup),
        duration_s=window,
        requests_per_s=per_s(len(ok)),
        mean_concurrency=per_s(busy),
        output_tokens_per_s=per_s(sum(out_tokens)) if out_tokens else None,
        input_tokens_mean=_mean(in_tokens),
        output_tokens_mean=_mean(out_tokens),
        goodput_rps=per_s(good) if slo else None,
        slo=slo_results,
        slo_met=(all(r.met for r in slo_results) and not failed) if slo else None,
        over_saturated=overload_check(ok) if checked else None,
        over_saturation_checked=checked,
        generator=gen,
        stopped=run.stopped,
        interrupted=run.interrupted,
        telemetry=run.telemetry,
        **dists,
    )
