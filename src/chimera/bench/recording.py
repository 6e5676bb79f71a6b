"""Recording sweeps and trials in the run store: each call with its point, run and trial.

Every function accepts ``store=None`` (``--no-store``) and then does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chimera.agent.documents import analysis_document
from chimera.agent.spec import AgentRun
from chimera.bench.grid import Point
from chimera.bench.measure import CallOutcome, RunOutcome
from chimera.options import InferenceOptions
from chimera.store import Store, default_db_path
from chimera.store.bench import add_bench_call


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
    add_bench_call(
        store,
        run_id,
        stage=call.stage,
        point=point.key,
        repeat=None,
        warmup=True,
        trial=trial,
        result=call.result,
        prompt=call.prompt,
        error=call.error,
        backend=backend,
        model=model,
        options=options.set_options(),
        url=url,
    )


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
        add_bench_call(
            store,
            run_id,
            stage=call.stage,
            point=point.key,
            repeat=run_index,
            trial=trial,
            agent_row=row,
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
