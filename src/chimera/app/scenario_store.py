"""The run store's record of a multi-agent session: every agent run in each phase, its calls,
and each scenario run's figures and validity (the ``scenario_runs`` table of migrations
003_multiagent and 004_validity)."""

from __future__ import annotations

import json

from chimera.app.recording import record_agent
from chimera.bench.results import RunRecord
from chimera.store import Store


def record_run(
    store: Store, run_id: str, record: RunRecord, scenario: str, *, prompt_nonce: bool = True
) -> None:
    """A finished scenario run (measured or warm-up): its agent runs, calls and figures."""
    folder = record.folder
    for a in record.agents:
        report = folder / f"{a.agent_id}_report.md" if folder else None
        # Warm-ups are numbered negative in the agents table so that run_number alone tells
        # measured runs from warm-ups.
        number = -record.run_number if record.warmup else record.run_number
        record_agent(store, run_id, a.alone, None, run_number=number, phase="alone")
        record_agent(store, run_id, a.together, report, run_number=number, phase="together")
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
        "valid": None if fig is None else int(fig.valid),
        "invalid_reasons_json": json.dumps(fig.invalid_reasons) if fig else None,
        "prompt_nonce": int(prompt_nonce),
        "agent_times_json": json.dumps(
            {a.agent_id: {"alone_s": a.alone_s, "together_s": a.together_s} for a in record.agents}
        ),
    }
    # Store owns the connection and has no writer for this table: one transaction here.
    with store.transaction() as db:
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
