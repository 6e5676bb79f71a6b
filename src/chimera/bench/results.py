"""What one scenario run measured: each agent alone and together, and the run's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.spec import AgentRun, AgentSpec
from chimera.bench.concurrency import (
    VALIDITY_TOLERANCE,
    ConcurrencyFigures,
    concurrency_figures,
)
from chimera.bench.scenarios import ScenarioSpec
from chimera.calls import CallTotals, call_totals

Order = Literal["alone-first", "together-first"]
Phase = Literal["alone", "together"]


class AgentOutcome(BaseModel):
    """One agent in one run: its alone run and its run together with the others."""

    model_config = ConfigDict(extra="forbid")

    agent_id: str
    alone: AgentRun
    together: AgentRun
    alone_s: float = Field(description="wall time of the agent's workflow run alone")
    together_s: float = Field(description="all agents launched -> this agent finished")

    @property
    def ok(self) -> bool:
        return self.alone.status == "ok" and self.together.status == "ok"

    @property
    def measured(self) -> bool:
        """Both phases made every call and each call answered: the times are comparable.

        A run can be measured but not ok: its report failed the quality check (empty once
        echoed instructions are removed). Its timings still count; its report does not.
        """
        return all(
            run.calls and all(c.result is not None for c in run.calls)
            for run in (self.alone, self.together)
        )

    @property
    def error(self) -> str | None:
        if self.alone.status != "ok":
            return f"alone: {self.alone.error}"
        if self.together.status != "ok":
            return f"together: {self.together.error}"
        return None

    def totals(self, phase: Phase = "together") -> CallTotals:
        run = self.alone if phase == "alone" else self.together
        return call_totals([r.metrics for r in run.results()])


class RunRecord(BaseModel):
    """One run of a scenario: the agents alone (sequential baseline), then together."""

    model_config = ConfigDict(extra="forbid")

    run_number: int = Field(description="1.. for measured runs; warm-ups count separately")
    warmup: bool = False
    order: Order
    agents: list[AgentOutcome]
    wall_s: float = Field(description="concurrent phase: all launched -> last finished")
    figures: ConcurrencyFigures | None = Field(
        None, description="None when an agent's call failed: its times would not be comparable"
    )
    folder: Path | None = Field(None, description="where the run's files were written")

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.agents)

    @property
    def valid(self) -> bool:
        """Every agent finished and the figures are possible: the run counts in averages."""
        return self.figures is not None and self.figures.valid

    @property
    def invalid_reasons(self) -> list[str]:
        return self.figures.invalid_reasons if self.figures is not None else []

    @property
    def failed_agents(self) -> list[str]:
        return [a.agent_id for a in self.agents if not a.ok]

    @property
    def name(self) -> str:
        return f"warmup_{self.run_number}" if self.warmup else f"run_{self.run_number}"


def build_record(
    run_number: int,
    *,
    warmup: bool,
    order: Order,
    agents: list[AgentOutcome],
    wall_s: float,
    threshold: float,
    tolerance: float = VALIDITY_TOLERANCE,
) -> RunRecord:
    """The run's record, with its concurrency figures when every agent finished."""
    record = RunRecord(
        run_number=run_number, warmup=warmup, order=order, agents=agents, wall_s=wall_s
    )
    if all(a.measured for a in agents) and wall_s > 0 and all(a.alone_s > 0 for a in agents):
        record.figures = concurrency_figures(
            {a.agent_id: a.alone_s for a in agents},
            {a.agent_id: a.together_s for a in agents},
            wall_s,
            threshold,
            tolerance,
            output_tokens={
                a.agent_id: (a.totals("alone").output_tokens, a.totals("together").output_tokens)
                for a in agents
            },
        )
    return record


class MultiAgentOutcome(BaseModel):
    """What a session did: its runs (finished ones only), files, notes and the store's id."""

    model_config = ConfigDict(extra="forbid")

    scenario: ScenarioSpec
    specs: list[AgentSpec] = Field(
        default_factory=list, description="the agents as run: endpoints resolved"
    )
    status: Literal["running", "ok", "failed", "interrupted", "error"]
    runs_planned: int
    warmups_planned: int
    records: list[RunRecord] = Field(default_factory=list)
    warmups: list[RunRecord] = Field(default_factory=list)
    files: list[Path] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    run_id: str | None = None
    output_dir: Path
    prompt_nonce: bool = Field(True, description="each phase's prompts started with a nonce")
    validity_tolerance: float = Field(
        VALIDITY_TOLERANCE, description="the noise allowed before a figure is impossible"
    )

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed_runs(self) -> int:
        return sum(1 for r in self.records if not r.ok)

    @property
    def invalid_runs(self) -> int:
        """Runs whose agents all finished but whose figures are impossible."""
        return sum(1 for r in self.records if r.figures is not None and not r.figures.valid)

    @property
    def valid_runs(self) -> list[RunRecord]:
        return [r for r in self.records if r.valid]

    @property
    def failed_agent_runs(self) -> int:
        return sum(len(r.failed_agents) for r in self.records)
