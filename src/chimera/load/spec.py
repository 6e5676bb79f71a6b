"""What one load run asks for: the load mode, its bounds, the requests and the SLOs (pure)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chimera.errors import ConfigError
from chimera.executor.pool import ExecutorSettings

Arrival = Literal["constant", "poisson", "gamma"]
Strategy = Literal["fixed", "sweep", "find_max"]
SLO_METRICS = ("ttft", "ttfot", "itl", "tpot", "e2e")
SLO_STATS = ("mean", "p50", "p90", "p95", "p99", "p999")

_SLO_RE = re.compile(
    r"^(?P<metric>[a-z0-9]+)_(?P<stat>[a-z0-9]+)\s*(?P<op><=|<)\s*"
    r"(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|s)?$"
)


class SloTarget(BaseModel):
    """One service-level objective: a latency statistic under a limit, in milliseconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["ttft", "ttfot", "itl", "tpot", "e2e"]
    stat: Literal["mean", "p50", "p90", "p95", "p99", "p999"]
    op: Literal["<=", "<"]
    limit_ms: float = Field(gt=0)

    @property
    def name(self) -> str:
        return f"{self.metric}_{self.stat}"

    def holds(self, value_ms: float | None) -> bool:
        """Whether ``value_ms`` meets the objective; an unknown value never does."""
        if value_ms is None:
            return False
        return value_ms <= self.limit_ms if self.op == "<=" else value_ms < self.limit_ms

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.limit_ms:g}ms"


def parse_slo(text: str) -> tuple[SloTarget, ...]:
    """``'ttft_p99<=500ms,itl_p99<=50ms'`` -> targets; a bad part raises ConfigError naming it,
    and so do two parts on one statistic (which limit would be meant?)."""
    targets: list[SloTarget] = []
    seen: dict[str, str] = {}  # METRIC_STAT -> the part that set it
    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise ConfigError("--slo is empty; give e.g. 'ttft_p99<=500ms,itl_p99<=50ms'")
    for part in parts:
        m = _SLO_RE.match(part)
        if m is None:
            raise ConfigError(
                f"--slo: cannot read {part!r}; write METRIC_STAT<=VALUE[ms|s], e.g. "
                "ttft_p99<=500ms (metrics: ttft, ttfot, itl, tpot, e2e; stats: "
                + ", ".join(SLO_STATS)
                + ")"
            )
        metric, stat = m["metric"], m["stat"]
        if metric not in SLO_METRICS:
            raise ConfigError(
                f"--slo: {part!r} names the metric {metric!r}; known: {', '.join(SLO_METRICS)}"
            )
        if stat not in SLO_STATS:
            raise ConfigError(
                f"--slo: {part!r} names the statistic {stat!r}; known: {', '.join(SLO_STATS)}"
            )
        value = float(m["value"]) * (1000.0 if m["unit"] == "s" else 1.0)
        if value <= 0:
            raise ConfigError(f"--slo: {part!r} sets a limit of 0; no request can meet it")
        name = f"{metric}_{stat}"
        if name in seen:
            raise ConfigError(
                f"--slo: {seen[name]!r} and {part!r} both limit {name}; keep one of them"
            )
        seen[name] = part
        targets.append(SloTarget(metric=metric, stat=stat, op=m["op"], limit_ms=value))
    return tuple(targets)


class Warmup(BaseModel):
    """Requests at the start of a level left out of its figures: a count or seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(0, ge=0)
    seconds: float = Field(0.0, ge=0)

    @classmethod
    def parse(cls, text: str) -> Warmup:
        """``'10'`` = 10 requests, ``'5s'`` = the first 5 seconds."""
        raw = text.strip().lower()
        try:
            if raw.endswith("s"):
                return cls(seconds=float(raw[:-1]))
            return cls(requests=int(raw))
        except ValueError:
            raise ConfigError(
                f"--warmup: cannot read {text!r}; give a request count (10) or seconds (5s)"
            ) from None

    def __str__(self) -> str:
        return f"{self.seconds:g}s" if self.seconds else f"{self.requests} requests"


class LoadLevel(BaseModel):
    """One level of load: N streams back to back (closed loop), R requests/s (open loop), or
    a trace's requests at its timestamps (open loop)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int | None = Field(None, ge=1, description="closed loop: requests in flight")
    rate_rps: float | None = Field(None, gt=0, description="open loop: requests per second")
    arrival: Arrival = "poisson"
    burstiness: float = Field(
        1.0, gt=0, description="gamma shape: 1 = Poisson, below 1 burstier, above 1 steadier"
    )
    trace: bool = Field(False, description="open loop: replay the trace's timestamps")
    ramp: bool = Field(
        False, description="rise to the concurrency or rate over the warm-up and duration"
    )

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        given = (self.concurrency is not None) + (self.rate_rps is not None) + self.trace
        if given != 1:
            raise ValueError("give exactly one of concurrency, rate_rps or trace")
        if self.ramp and self.trace:
            raise ValueError("a trace keeps its own times: it cannot ramp")
        return self

    @property
    def mode(self) -> Literal["closed", "open"]:
        return "closed" if self.concurrency is not None else "open"

    @property
    def label(self) -> str:
        if self.concurrency is not None:
            return f"{'ramp to ' if self.ramp else ''}concurrency {self.concurrency}"
        if self.trace:
            return "trace"
        if self.ramp:
            return f"ramp to {self.rate_rps:g} req/s {self.arrival}"
        shape = f" B={self.burstiness:g}" if self.arrival == "gamma" else ""
        return f"{self.rate_rps:g} req/s {self.arrival}{shape}"

    def ramp_span_s(self, spec: LoadSpec) -> float:
        """Seconds a ramp takes: the warm-up's seconds and the measured duration."""
        return spec.warmup.seconds + (spec.duration_s or 0.0)


class LoadSpec(BaseModel):
    """A whole load run: the levels (given, or chosen as it goes by a sweep or a search),
    their bounds, the requests sent and the objectives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Strategy = Field(
        "fixed",
        description="fixed: the levels given; sweep: synchronous, saturation, then rates "
        "between; find_max: the highest rate meeting the SLOs, by bisection",
    )
    levels: tuple[LoadLevel, ...] = Field((), description="fixed: the levels, in order")
    duration_s: float | None = Field(None, gt=0, description="measured time per level")
    requests: int | None = Field(None, ge=1, description="measured requests per level")
    warmup: Warmup = Warmup()
    input_tokens: int = Field(128, ge=1, description="target prompt tokens (synthetic prompts)")
    output_tokens: int = Field(128, ge=1, description="num_predict of every request")
    prompts_file: Path | None = None
    trace_file: Path | None = Field(None, description="JSONL of timestamped requests (--trace)")
    agent_paths: tuple[Path, ...] = Field(
        (), description="artifacts whose chimera run prompts are the requests (--agent-workload)"
    )
    prompt_nonce: bool = Field(True, description="a unique first line per request (no cache)")
    seed: int = Field(
        0, ge=0, description="the seed of the arrival schedule and the prompts' words"
    )
    slo: tuple[SloTarget, ...] = ()
    stop_after_unreachable: int = Field(
        5, ge=1, description="stop a level after this many connection failures in a row"
    )
    arrival: Arrival = Field("poisson", description="sweep and find_max: the rates' arrivals")
    burstiness: float = Field(1.0, gt=0, description="sweep and find_max: the gamma shape")
    sweep_rates: int = Field(5, ge=1, description="sweep: rates between the two ends")
    saturation_concurrency: int = Field(
        32, ge=1, description="sweep and find_max: streams of the saturation level"
    )
    bisect_steps: int = Field(5, ge=1, description="find_max: bisection steps")
    repeats: int = Field(1, ge=1, description="find_max: runs per rate probed, all must pass")
    workers: int = Field(1, ge=1, description="generator processes each level is spread over")
    executor: ExecutorSettings = Field(
        ExecutorSettings(), description="local: processes here; ray: one Ray actor per worker"
    )

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        replay = bool(self.levels) and all(lv.trace for lv in self.levels)
        if self.duration_s is None and self.requests is None and not replay:
            raise ValueError("give a bound: duration_s or requests")
        if self.strategy == "fixed" and not self.levels:
            raise ValueError("give at least one level (concurrency or rate)")
        if self.strategy != "fixed" and self.levels:
            raise ValueError(f"{self.strategy} chooses its own levels; give none")
        if any(lv.ramp for lv in self.levels) and self.duration_s is None:
            raise ValueError("a ramp needs duration_s: it rises over the warm-up and duration")
        if replay and (self.trace_file is None or self.prompts_file is not None):
            raise ValueError("a trace level needs trace_file (and no prompts_file)")
        sources = (self.prompts_file, self.trace_file, self.agent_paths or None)
        if sum(x is not None for x in sources) > 1:
            raise ValueError("give one source of requests: prompts_file, trace_file or agent_paths")
        if self.strategy == "find_max" and not self.slo:
            raise ValueError("find_max needs SLOs to meet")
        return self
