"""The multi-agent session: ingest once, then per run each agent alone and all together.

Each run measures the sequential baseline in the same session (every agent alone, same
prompts and options) and the concurrent phase (all agents launched at once), alternating which
comes first from run to run so that neither phase always meets the warmer server. Each result
goes to a ``SessionSink`` as it comes (the application layer's recorder writes the files and
the store rows: ``chimera.app.multiagent``), so an interruption keeps every finished run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.endpoint import resolve_endpoint
from chimera.agent.model_size import model_parameters
from chimera.agent.spec import AgentRun, AgentSpec
from chimera.agent.workflow import check_run, run_agent
from chimera.backends.base import Backend, EndpointSettings, generate, load_for
from chimera.bench.concurrency import DEFAULT_CONTENTION_THRESHOLD, VALIDITY_TOLERANCE
from chimera.bench.limits import BackendPool
from chimera.bench.measure import nonce_line, session_tag
from chimera.bench.progress import MultiAgentObserver, NullObserver
from chimera.bench.results import (
    AgentOutcome,
    MultiAgentOutcome,
    Order,
    Phase,
    RunRecord,
    build_record,
)
from chimera.bench.scenarios import ScenarioSpec
from chimera.calls import CallResult, GenerationRequest
from chimera.errors import ChimeraError
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import IngestSettings
from chimera.options import InferenceOptions

KEEP_CACHE_NOTE = (
    "--keep-prompt-cache: every phase sent the same prompts, so a server with a prompt cache "
    "served the second phase from the first's; the speedup then includes what the cache saves "
    "and is not a concurrency figure"
)


class SessionSink(Protocol):
    """Where a session's results go as they come: the application layer records them in the
    store and writes their files; ``run_multiagent`` itself writes nothing."""

    def started(self, outcome: MultiAgentOutcome, facts: IngestResult) -> None:
        """Before any call, with the facts the agents analyse (the store run starts here;
        ``outcome.run_id`` is set)."""

    def preload_call(self, outcome: MultiAgentOutcome, result: CallResult) -> None:
        """A preload call that answered."""

    def run_done(self, outcome: MultiAgentOutcome, record: RunRecord) -> None:
        """A finished run, warm-up or measured, already in ``outcome``."""

    def finished(self, outcome: MultiAgentOutcome) -> None:
        """Whatever ended the session (``outcome.status`` says what)."""


class NullSink:
    """Keeps results in the outcome only (tests of the session's logic, benchmarks)."""

    def started(self, outcome: MultiAgentOutcome, facts: IngestResult) -> None:
        pass

    def preload_call(self, outcome: MultiAgentOutcome, result: CallResult) -> None:
        pass

    def run_done(self, outcome: MultiAgentOutcome, record: RunRecord) -> None:
        pass

    def finished(self, outcome: MultiAgentOutcome) -> None:
        pass


class MultiAgentSettings(BaseModel):
    """Everything ``chimera multiagent`` can be told."""

    model_config = ConfigDict(extra="forbid")

    paths: list[Path]
    scenario: ScenarioSpec
    runs: int = Field(3, ge=1, description="measured runs")
    warmup: int = Field(
        1, ge=0, description="runs before the measured ones (they load the model), left out"
    )
    prompt_nonce: bool = Field(
        True,
        description="start each phase's prompts with a unique line (run, phase, agent) so a "
        "server's prompt cache cannot serve one phase from another's prompts",
    )
    output_dir: Path = Path("chimera_multiagent")
    max_in_flight: int | None = Field(
        None, ge=1, description="calls out at once per endpoint; None = no limit"
    )
    validity_tolerance: float = Field(
        VALIDITY_TOLERANCE,
        ge=0.0,
        lt=1.0,
        description="how far past 100% efficiency (or below 1 slowdown) a run may go before it "
        "is called impossible: the machine's timing noise",
    )
    contention_threshold: float = Field(
        DEFAULT_CONTENTION_THRESHOLD,
        gt=1.0,
        description="slowdown above which contention is flagged",
    )
    preload: bool = Field(
        True, description="one 1-token call per agent before the first run, to load its model"
    )
    db: Path | None = Field(None, description="run store; None = the default path")
    store: bool = True
    ingest: IngestSettings = IngestSettings()
    command: list[str] | None = Field(None, description="the command line, as the CLI hands it in")


async def resolve_agents(scenario: ScenarioSpec) -> tuple[list[AgentSpec], dict[str, str]]:
    """Each agent with its endpoint, and a note per agent for which ``auto`` chose offline."""
    cache: dict[tuple[object, ...], tuple[EndpointSettings, str | None]] = {}
    specs, notes = [], {}
    for plan in scenario.agents:
        key = (plan.backend, plan.url, plan.model, plan.api_key_env, plan.timeouts)
        if key not in cache:
            cache[key] = await resolve_endpoint(plan)
        endpoint, note = cache[key]
        if note:
            notes[plan.agent_id] = note
        specs.append(
            AgentSpec(
                agent_id=plan.agent_id,
                label=plan.label,
                persona=plan.persona,
                model=plan.model,
                endpoint=endpoint,
                options=plan.options,
            )
        )
    return specs, notes


class _Session:
    """One session's state; ``run_multiagent`` is its entry point."""

    def __init__(
        self,
        settings: MultiAgentSettings,
        facts: IngestResult,
        ingest_s: float,
        specs: list[AgentSpec],
        notes: dict[str, str],
        observer: MultiAgentObserver,
        outcome: MultiAgentOutcome,
        sink: SessionSink,
    ) -> None:
        self.settings = settings
        self.facts = facts
        self.ingest_s = ingest_s
        self.specs = specs
        self.agent_notes = notes
        self.obs = observer
        self.outcome = outcome
        self.sink = sink
        self.pool: BackendPool | None = None
        # Unique per session (a server's cache outlives a session) and per run and phase.
        self.session_tag = session_tag()
        self.run_label = ""
        self.nonces = 0

    def nonce(self, spec: AgentSpec, phase: Phase) -> str | None:
        """The line that starts this agent's prompts in this phase of this run (or None)."""
        if not self.settings.prompt_nonce:
            return None
        self.nonces += 1
        return nonce_line(self.session_tag, self.run_label, phase, spec.agent_id, f"#{self.nonces}")

    async def agent(self, spec: AgentSpec, phase: Phase) -> AgentRun:
        """One workflow run; an unexpected error fails this agent, not the session."""
        assert self.pool is not None
        self.obs.agent_stage(spec.agent_id, phase, "analysis")
        backend = self.pool[spec.agent_id]
        try:
            run = await run_agent(
                spec,
                self.facts,
                backend,
                ingest_s=self.ingest_s,
                note=self.agent_notes.get(spec.agent_id),
                on_stage=lambda stage: self.obs.agent_stage(spec.agent_id, phase, stage),
                check=False,  # checked after the timed phases: see one_run
                nonce=self.nonce(spec, phase),
            )
        except Exception as exc:  # a bug or an unmapped error: recorded, the others go on
            run = AgentRun(
                spec=spec,
                backend=backend.kind,
                url=backend.url,
                status="failed",
                error=f"unexpected error: {type(exc).__name__}: {exc}",
                started_at=datetime.now(UTC),
                finished_at=datetime.now(UTC),
            )
        self.obs.agent_stage(spec.agent_id, phase, run.status)
        return run

    async def alone(self, label: str) -> dict[str, tuple[AgentRun, float]]:
        self.obs.phase_started(label, "alone")
        out = {}
        for spec in self.specs:
            t0 = time.perf_counter()
            run = await self.agent(spec, "alone")
            out[spec.agent_id] = (run, time.perf_counter() - t0)
        return out

    async def together(self, label: str) -> tuple[dict[str, tuple[AgentRun, float]], float]:
        self.obs.phase_started(label, "together")
        t0 = time.perf_counter()

        async def one(spec: AgentSpec) -> tuple[AgentRun, float]:
            run = await self.agent(spec, "together")
            return run, time.perf_counter() - t0

        done = await asyncio.gather(*(one(s) for s in self.specs))
        wall = time.perf_counter() - t0
        return {s.agent_id: r for s, r in zip(self.specs, done, strict=True)}, wall

    async def one_run(self, number: int, total: int, *, warmup: bool) -> RunRecord:
        order: Order = "alone-first" if warmup or number % 2 == 1 else "together-first"
        label = f"{'warm-up' if warmup else 'run'} {number}/{total}"
        self.run_label = f"{'w' if warmup else 'r'}{number}"
        if order == "alone-first":
            alone = await self.alone(label)
            together, wall = await self.together(label)
        else:
            together, wall = await self.together(label)
            alone = await self.alone(label)
        # The fact check and quality score are CPU work after the calls: done here, outside
        # the timed phases, so N agents finishing at once do not queue on the event loop.
        for run, _ in (*alone.values(), *together.values()):
            check_run(run, self.facts)
        agents = [
            AgentOutcome(
                agent_id=s.agent_id,
                alone=alone[s.agent_id][0],
                together=together[s.agent_id][0],
                alone_s=alone[s.agent_id][1],
                together_s=together[s.agent_id][1],
            )
            for s in self.specs
        ]
        return build_record(
            number,
            warmup=warmup,
            order=order,
            agents=agents,
            wall_s=wall,
            threshold=self.settings.contention_threshold,
            tolerance=self.settings.validity_tolerance,
        )

    async def size_models(self) -> None:
        """Ask each server for its model's size now, so that the agents' choice of shapes
        (agent.calls.choose_mode) asks no server inside a timed phase."""
        assert self.pool is not None
        for spec in self.specs:
            if spec.endpoint.kind != "offline":
                await model_parameters(self.pool[spec.agent_id], spec.model)

    async def _load(self, backend: Backend, spec: AgentSpec) -> bool:
        """Load the agent's model with its load-time options where the backend fixes them at
        load (llama.cpp in-process); False, with a note, if that failed."""
        try:
            load = await load_for(backend, spec.model, spec.options)
        except ChimeraError as exc:
            note = f"loading {spec.model} for {spec.agent_id} failed: {exc}"
            self.outcome.notes.append(note)
            self.obs.note(note)
            return False
        if load is not None:
            self.sink.preload_call(self.outcome, load)
        return True

    async def preload(self) -> None:
        """One 1-token call per agent's model and options, so no run pays for a model load."""
        assert self.pool is not None
        done: set[tuple[int, str, str]] = set()
        loaded: set[tuple[int, str]] = set()  # one load per model and backend (BackendPool
        # refuses agents that would ask it different load-time options)
        for spec in self.specs:
            backend: Backend = self.pool[spec.agent_id]
            key = (id(backend), spec.model, spec.options.model_dump_json())
            if spec.endpoint.kind == "offline" or key in done:
                continue
            done.add(key)
            if (id(backend), spec.model) not in loaded:
                loaded.add((id(backend), spec.model))
                if not await self._load(backend, spec):
                    continue
            options = spec.options.merged(InferenceOptions(num_predict=1))
            request = GenerationRequest(
                model=spec.model, prompt="Hi", options=options, purpose="preload"
            )
            try:
                result = await generate(backend, request)
            except ChimeraError as exc:
                note = f"preload of {spec.model} for {spec.agent_id} failed: {exc}"
                self.outcome.notes.append(note)
                self.obs.note(note)
                continue
            self.sink.preload_call(self.outcome, result)


async def run_multiagent(
    settings: MultiAgentSettings,
    observer: MultiAgentObserver | None = None,
    sink: SessionSink | None = None,
) -> MultiAgentOutcome:
    """Run the scenario ``settings.runs`` times (after ``settings.warmup`` warm-ups), handing
    each result to ``sink`` as it comes."""
    obs: MultiAgentObserver = observer or NullObserver()
    sink = sink or NullSink()
    t = time.perf_counter()
    facts = await asyncio.to_thread(ingest_paths, settings.paths, settings.ingest)
    ingest_s = time.perf_counter() - t
    specs, notes = await resolve_agents(settings.scenario)
    outcome = MultiAgentOutcome(
        scenario=settings.scenario,
        specs=specs,
        status="running",
        runs_planned=settings.runs,
        warmups_planned=settings.warmup,
        notes=[n for n in [settings.scenario.note, *dict.fromkeys(notes.values())] if n],
        output_dir=settings.output_dir,
        prompt_nonce=settings.prompt_nonce,
        validity_tolerance=settings.validity_tolerance,
    )
    if not settings.prompt_nonce:
        outcome.notes.append(KEEP_CACHE_NOTE)
    session = _Session(settings, facts, ingest_s, specs, notes, obs, outcome, sink)
    for n in outcome.notes:
        obs.note(n)
    obs.session_started(settings.scenario, settings.runs, settings.warmup)
    sink.started(outcome, facts)
    try:
        async with BackendPool(specs, facts, settings.max_in_flight) as pool:
            session.pool = pool
            await session.size_models()
            if settings.preload:
                await session.preload()
            await _runs(session)
        outcome.status = "ok" if all(r.ok for r in outcome.records) else "failed"
    except (KeyboardInterrupt, asyncio.CancelledError):
        outcome.status = "interrupted"
        raise
    except BaseException as exc:
        outcome.status = "error"
        outcome.notes.append(f"the session stopped on {type(exc).__name__}: {exc}")
        raise
    finally:
        sink.finished(outcome)
        obs.session_finished(outcome)
    return outcome


async def _runs(session: _Session) -> None:
    settings, outcome, obs = session.settings, session.outcome, session.obs
    for k in range(1, settings.warmup + 1):
        record = await session.one_run(k, settings.warmup, warmup=True)
        outcome.warmups.append(record)
        session.sink.run_done(outcome, record)
        obs.run_finished(record)
    for i in range(1, settings.runs + 1):
        record = await session.one_run(i, settings.runs, warmup=False)
        outcome.records.append(record)
        session.sink.run_done(outcome, record)
        obs.run_finished(record)
