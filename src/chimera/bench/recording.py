"""Recording sweeps and trials in the run store: each call with its point, run and trial.

Every function accepts ``store=None`` (``--no-store``) and then does nothing.
"""

from __future__ import annotations

from pathlib import Path

from chimera.agent import session
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
) -> None:
    """One measured run: its agent (agent mode) and every call it made."""
    if store is None or run_id is None:
        return
    agent_row = None
    if outcome.agent is not None:
        run = outcome.agent
        agent_row = store.add_agent(
            run_id,
            session.agent_row(
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
            agent_row=agent_row,
            result=call.result,
            prompt=call.prompt,
            error=call.error,
            backend=backend,
            model=model,
            options=options.set_options(),
        )
