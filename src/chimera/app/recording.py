"""Recording runs in the run store: agent runs with their calls, and sweeps and searches
(each call with its point, run and trial) through ``StoreLedger``.

The record_* functions accept ``store=None`` (``--no-store``) and then do nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chimera.agent.documents import analysis_document
from chimera.agent.spec import AgentRun
from chimera.bench.grid import Point
from chimera.bench.ledger import Ledger
from chimera.bench.measure import CallOutcome, RunOutcome
from chimera.load.metrics import LevelSummary
from chimera.load.output import level_row, request_row
from chimera.load.records import RequestRecord
from chimera.options import InferenceOptions
from chimera.store import Store, default_db_path
from chimera.store.bench import add_bench_call, add_trial, reopen_run
from chimera.store.load import add_level, add_requests
from chimera.system import system_info


def open_store(db: Path | None) -> Store:
    """The store at ``db``, else at the default path (CHIMERA_DB, CHIMERA_HOME, data dir)."""
    return Store(db or default_db_path())


def record_warmup(
    store: Store | None,
    run_id: str | None,
    point: Point,
    call: CallOutcome,
    backend: str,
    model: str,
    options: InferenceOptions,
    trial: int | None = None,
    url: str | None = None,
) -> None:
    """A warm-up call: kept, but flagged so no figure ever counts it."""
    if store is None or run_id is None:
        return
    _add_call(store, run_id, point, call, backend, model, options, trial, url, warmup=True)


def record_outcome(
    store: Store | None,
    run_id: str | None,
    point: Point,
    run_index: int,
    outcome: RunOutcome,
    backend: str,
    options: InferenceOptions,
    model: str,
    trial: int | None = None,
    url: str | None = None,
) -> None:
    """One measured run: its agent (agent mode) and every call it made; ``url`` names the
    server of a call that failed before any result."""
    if store is None or run_id is None:
        return
    row = None
    if outcome.agent is not None:
        run = outcome.agent
        row = store.add_agent(
            run_id,
            agent_row(
                run,
                label=f"{run.spec.label} [{point.key}] run {run_index}",
                options_json=options.set_options(),
            ),
        )
    for call in outcome.calls:
        _add_call(
            store, run_id, point, call, backend, model, options, trial, url,
            repeat=run_index, agent=row,
        )  # fmt: skip


def _add_call(
    store: Store,
    run_id: str,
    point: Point,
    call: CallOutcome,
    backend: str,
    model: str,
    options: InferenceOptions,
    trial: int | None,
    url: str | None,
    *,
    repeat: int | None = None,
    warmup: bool = False,
    agent: int | None = None,
) -> None:
    add_bench_call(
        store,
        run_id,
        stage=call.stage,
        point=point.key,
        repeat=repeat,
        warmup=warmup,
        trial=trial,
        agent_row=agent,
        result=call.result,
        prompt=call.prompt,
        error=call.error,
        backend=backend,
        model=model,
        options=options.set_options(),
        url=url,
    )


def agent_row(run: AgentRun, report: Path | None = None, **columns: Any) -> dict[str, Any]:
    """The run store's ``agents`` row of one agent run; ``columns`` add or replace columns."""
    spec = run.spec
    row: dict[str, Any] = {
        "agent_id": spec.agent_id,
        "label": spec.label,
        "persona": spec.persona.name,
        "model": spec.model,
        "backend": run.backend,
        "url": run.url,
        "options_json": spec.options.set_options(),
        "status": run.status,
        "error": run.error,
        "report_path": str(report) if report else None,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "total_s": run.timings.total_s,
        "ingest_s": run.timings.ingest_s,
        "analysis_s": run.timings.analysis_s,
        "report_s": run.timings.report_s,
        "grounded_ratio": run.factcheck.grounded_ratio if run.factcheck else None,
        "quality_score": run.quality.total if run.quality else None,
        "quality_json": run.quality.model_dump() if run.quality else None,
        "factsheet": run.factsheet or None,
        "analysis_json": analysis_document(run),
    }
    row.update(columns)
    return row


def record_agent(
    store: Store, run_id: str, run: AgentRun, report: Path | None = None, **columns: Any
) -> int:
    """Record one agent run and every call it made (prompt, response, metrics or error)."""
    spec = run.spec
    row = store.add_agent(run_id, agent_row(run, report, **columns))
    for c in run.calls:
        store.add_call(
            run_id,
            stage=c.stage,
            agent_row=row,
            result=c.result,
            prompt="\n\n".join(f"[{m.role}]\n{m.content}" for m in c.messages),
            error=c.error,
            backend=run.backend,
            url=run.url,
            model=spec.model,
            options=spec.options.set_options(),
        )
    return row


class StoreLedger(Ledger):
    """A sweep's or a search's results in the run store, as they come back
    (``bench.ledger.Ledger``); ``command`` is the command line the CLI hands in."""

    def __init__(self, db: Path | None, command: list[str] | None = None) -> None:
        self.store = open_store(db)
        self.command = command
        self.run_id: str | None = None

    def start(
        self,
        kind: str,
        *,
        label: str,
        settings: dict[str, Any],
        output_dir: str | None = None,
        resume: str | None = None,
    ) -> str | None:
        if resume is not None and reopen_run(self.store, resume):
            self.run_id = resume
        else:
            self.run_id = self.store.start_run(
                kind,
                label=label,
                command=self.command,
                settings=settings,
                system=system_info(),
                output_dir=output_dir,
            )
        return self.run_id

    def warmup(
        self,
        point: Point,
        call: CallOutcome,
        backend: str,
        model: str,
        options: InferenceOptions,
        trial: int | None = None,
        url: str | None = None,
    ) -> None:
        record_warmup(self.store, self.run_id, point, call, backend, model, options, trial, url)

    def run(
        self,
        point: Point,
        run_index: int,
        outcome: RunOutcome,
        backend: str,
        options: InferenceOptions,
        model: str,
        trial: int | None = None,
        url: str | None = None,
    ) -> None:
        record_outcome(
            self.store, self.run_id, point, run_index, outcome, backend, options, model, trial,
            url,
        )  # fmt: skip

    def trial(self, **columns: Any) -> None:
        if self.run_id is not None:
            add_trial(self.store, self.run_id, **columns)

    def finish(self, status: str, note: str | None) -> None:
        try:
            if self.run_id is not None:
                self.store.finish_run(self.run_id, status, note)
        finally:
            self.store.close()


def record_load_run(
    db_path: Path,
    *,
    label: str | None,
    command: list[str] | None,
    settings: Any,
    system: Any = None,
    records: Sequence[RequestRecord],
    summaries: Sequence[LevelSummary],
    status: str,
    error: str | None = None,
    started_at: str | None = None,
) -> str:
    """Record a whole load run (kind ``load``), started at ``started_at`` (ISO 8601) when
    given; returns its id."""
    with Store(db_path) as store:
        run_id = store.start_run(
            "load", label=label, command=command, settings=settings, system=system
        )
        if started_at is not None:  # the run is recorded once done: keep when it began
            with store.transaction() as db:
                db.execute("UPDATE runs SET started_at = ? WHERE id = ?", (started_at, run_id))
        add_requests(store, run_id, (request_row(r) for r in records))
        for s in summaries:
            add_level(store, run_id, level_row(s))
        store.finish_run(run_id, status, error)
    return run_id
