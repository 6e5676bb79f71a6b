"""Concurrency maths of one run: each agent alone, then all together (pure).

speedup = sum of the agents' alone times / wall time of the concurrent phase. It answers "how
much sooner is everything done than one after the other", so a server that queues the calls
gives about 1 and N independent servers give about N.
efficiency = speedup / N, in percent.
slowdown of an agent = its time together / its time alone; contention is flagged when any
slowdown exceeds the threshold (default 1.25: a quarter longer than alone).
legacy_concurrency_speedup = sum of the agents' times measured while running together / wall
time: the old tool's metric. It is at most N and reads about 1.75 for two agents of two calls
each on a server that runs one call at a time, so it is kept only for comparison.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONTENTION_THRESHOLD = 1.25


class ConcurrencyFigures(BaseModel):
    """The figures of one run whose agents all finished."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: int
    wall_s: float = Field(description="concurrent phase: all launched -> last one finished")
    sequential_s: float = Field(description="sum of the agents' alone times")
    concurrency_speedup: float = Field(description="sequential_s / wall_s")
    efficiency_percent: float = Field(description="concurrency_speedup / agents x 100")
    legacy_concurrency_speedup: float = Field(description="sum of together times / wall_s")
    slowdowns: dict[str, float] = Field(description="agent id -> together / alone")
    contention_threshold: float
    contended_agents: list[str] = Field(description="agents slowed past the threshold")

    @property
    def contention(self) -> bool:
        return bool(self.contended_agents)


def concurrency_figures(
    alone_s: Mapping[str, float],
    together_s: Mapping[str, float],
    wall_s: float,
    threshold: float = DEFAULT_CONTENTION_THRESHOLD,
) -> ConcurrencyFigures:
    """Speedup, efficiency, slowdowns and contention from measured times (seconds)."""
    if set(alone_s) != set(together_s) or not alone_s:
        raise ValueError("alone and together times must name the same, non-empty agents")
    if wall_s <= 0 or any(v <= 0 for v in alone_s.values()):
        raise ValueError("times must be positive")
    n = len(alone_s)
    sequential = sum(alone_s.values())
    speedup = sequential / wall_s
    slowdowns = {k: together_s[k] / alone_s[k] for k in alone_s}
    return ConcurrencyFigures(
        agents=n,
        wall_s=wall_s,
        sequential_s=sequential,
        concurrency_speedup=speedup,
        efficiency_percent=speedup / n * 100.0,
        legacy_concurrency_speedup=sum(together_s.values()) / wall_s,
        slowdowns=slowdowns,
        contention_threshold=threshold,
        contended_agents=[k for k, v in slowdowns.items() if v > threshold],
    )
