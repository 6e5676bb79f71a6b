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

Some figures cannot happen when both phases did the same work: an efficiency above 100% (a
speedup above the agent count), or an agent that finished sooner with the others running than
alone. Beyond a small noise tolerance such a run is marked invalid, with the likely cause, and
left out of every average: a figure like that measures the server's prompt cache or a model
still loading, not concurrency.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONTENTION_THRESHOLD = 1.25
# How far past the possible a figure may go before it is called impossible. Phases of equal
# work vary with what else the machine runs: on a quiet 2-core VM a real engine's phases came
# out within a few percent, with a test suite running beside them 10-20% either way. A prompt
# cache gave 135-194%.
VALIDITY_TOLERANCE = 0.10
CACHE_CAUSE = (
    "likely cause: the phase that ran second reused the first phase's prompts from the "
    "server's prompt cache (Chimera's per-phase prompt nonces defeat that; was "
    "--keep-prompt-cache given?), or the model was still loading in the first phase (use "
    "--warmup 1)"
)


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
    invalid_reasons: list[str] = Field(
        default_factory=list,
        description="why these figures are impossible; empty = valid. Invalid runs are never "
        "averaged",
    )

    @property
    def contention(self) -> bool:
        return bool(self.contended_agents)

    @property
    def valid(self) -> bool:
        return not self.invalid_reasons


def concurrency_figures(
    alone_s: Mapping[str, float],
    together_s: Mapping[str, float],
    wall_s: float,
    threshold: float = DEFAULT_CONTENTION_THRESHOLD,
    tolerance: float = VALIDITY_TOLERANCE,
    output_tokens: Mapping[str, tuple[int | None, int | None]] | None = None,
) -> ConcurrencyFigures:
    """Speedup, efficiency, slowdowns, contention and validity from measured times (s).

    ``output_tokens`` (agent -> tokens generated alone, together), when known, tells an
    impossible figure's likely cause: unequal work or a prompt cache.
    """
    if set(alone_s) != set(together_s) or not alone_s:
        raise ValueError("alone and together times must name the same, non-empty agents")
    if wall_s <= 0 or any(v <= 0 for v in alone_s.values()):
        raise ValueError("times must be positive")
    n = len(alone_s)
    sequential = sum(alone_s.values())
    speedup = sequential / wall_s
    slowdowns = {k: together_s[k] / alone_s[k] for k in alone_s}
    return ConcurrencyFigures(
        invalid_reasons=impossible(speedup, n, slowdowns, tolerance, output_tokens or {}),
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


def impossible(
    speedup: float,
    agents: int,
    slowdowns: Mapping[str, float],
    tolerance: float,
    output_tokens: Mapping[str, tuple[int | None, int | None]],
) -> list[str]:
    """Why a run's figures cannot be true (empty when they can), each with the likely cause."""
    reasons = []
    efficiency = speedup / agents * 100.0
    if efficiency > 100.0 * (1.0 + tolerance):
        known = [t for t in output_tokens.values() if t[0] is not None and t[1] is not None]
        alone = sum(t[0] or 0 for t in known)
        together = sum(t[1] or 0 for t in known)
        reasons.append(
            f"efficiency {efficiency:.1f}% is above 100% (speedup {speedup:.2f}x with "
            f"{agents} agents): impossible when both phases do the same work; "
            + _cause(alone, together, tolerance, efficiency / 100.0 - 1.0)
        )
    for agent, slowdown in slowdowns.items():
        if slowdown < 1.0 - tolerance:
            a, t = output_tokens.get(agent, (None, None))
            reasons.append(
                f"agent {agent} finished sooner together than alone (together/alone = "
                f"{slowdown:.2f}): impossible when it does the same work; "
                + _cause(a or 0, t or 0, tolerance, 1.0 - slowdown)
            )
    return reasons


def _cause(alone_tokens: int, together_tokens: int, tolerance: float, excess: float) -> str:
    """The likely cause of a figure ``excess`` (a fraction) past the possible."""
    if alone_tokens and together_tokens < alone_tokens * (1.0 - tolerance):
        return (
            f"likely cause: unequal work, the together phase generated {together_tokens} "
            f"tokens against {alone_tokens} alone (cap the answer with num_predict and use "
            "temperature 0 so that both phases generate alike)"
        )
    if excess <= 2.0 * tolerance:
        return (
            f"likely cause: timing noise beyond the {tolerance:.0%} tolerance (something else "
            "using the CPU during one phase); repeat on a quiet machine, or raise "
            "--validity-tolerance where the machine is always this noisy. A prompt cache "
            "would do the same: are the prompt nonces on?"
        )
    return CACHE_CAUSE
