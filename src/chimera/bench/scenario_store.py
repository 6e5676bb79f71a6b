"""The run store's record of a multi-agent session: every agent run in each phase, its calls,
and each scenario run's figures (the ``scenario_runs`` table of migration 003_multiagent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from chimera.agent.workflow import AgentRun
from chimera.bench.results import RunRecord
from chimera.store import Store


def add_agent_run(
    store: Store,
    run_id: str,
    run: AgentRun,
    *,
    run_number: int,
    phase: Literal["alone", "together"],
    report: Path | None,
) -> int:
    """One agent's workflow run in one phase, and its calls."""
    spec = run.spec
    row = store.add_agent(
        run_id,
        {
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
            "run_number": run_number,
            "phase": phase,
        },
    )
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


def record_run(store: Store, run_id: str, record: RunRecord, scenario: str) -> None:
    """A finished scenario run (measured or warm-up): its agent runs, calls and figures."""
    folder = record.folder
    for a in record.agents:
        report = folder / f"{a.agent_id}_report.md" if folder else None
        # Warm-ups are numbered negative in the agents table so that run_number alone tells
        # measured runs from warm-ups.
        number = -record.run_number if record.warmup else record.run_number
        add_agent_run(store, run_id, a.alone, run_number=number, phase="alone", report=None)
        add_agent_run(store, run_id, a.together, run_number=number, phase="together", report=report)
    fig = record.figures
    row = {
        "run_id": run_id,
        "run_number": record.run_number,
        "warmup": int(record.warmup),
        "scenario": scenario,
        "run_order": record.order,
        "status": "ok" if record.ok else "failed",
        "agents": len(record.agents),
        "failed_agents_json": json.dumps(record.failed_agents),
        "wall_s": record.wall_s,
        "sequential_s": fig.sequential_s if fig else None,
        "concurrency_speedup": fig.concurrency_speedup if fig else None,
        "efficiency_percent": fig.efficiency_percent if fig else None,
        "legacy_concurrency_speedup": fig.legacy_concurrency_speedup if fig else None,
        "contention": None if fig is None else int(fig.contention),
        "slowdowns_json": json.dumps(fig.slowdowns) if fig else None,
        "agent_times_json": json.dumps(
            {a.agent_id: {"alone_s": a.alone_s, "together_s": a.together_s} for a in record.agents}
        ),
    }
    # Store owns the connection and has no writer for this table: one transaction here.
    with store._tx() as db:
        db.execute(
            f"INSERT INTO scenario_runs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )


def scenario_runs(store: Store, run_id: str) -> list[dict[str, object]]:
    """The recorded scenario runs of a session, in order."""
    cur = store._db.execute(
        "SELECT * FROM scenario_runs WHERE run_id = ? ORDER BY warmup DESC, run_number", (run_id,)
    )
    return [dict(r) for r in cur]
