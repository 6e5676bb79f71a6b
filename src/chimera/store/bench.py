"""Records of sweeps and guided searches: calls tagged with their point, and optimize trials.

``Store`` writes the generic rows (runs, agents, calls); this module adds what migration
002 introduced: each call's point, repeat and warm-up flag, and the ``trials`` table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chimera.calls import CallResult
from chimera.store.db import Store, now_iso


def add_bench_call(
    store: Store,
    run_id: str,
    *,
    stage: str,
    point: str,
    repeat: int | None,
    warmup: bool = False,
    trial: int | None = None,
    agent_row: int | None = None,
    result: CallResult | None = None,
    prompt: str | None = None,
    error: str | None = None,
    backend: str | None = None,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    url: str | None = None,
) -> int:
    """Record one call of a sweep or a trial, with where in the grid it was made (and on
    which server: ``url`` names it for a failed call, which has no result)."""
    call_id = store.add_call(
        run_id,
        stage=stage,
        agent_row=agent_row,
        result=result,
        prompt=prompt,
        error=error,
        backend=backend,
        url=url,
        model=model,
        options=options,
    )
    # add_call has no slot for the 002 columns
    with store.transaction() as db:
        db.execute(
            "UPDATE calls SET point = ?, repeat = ?, warmup = ?, trial = ? WHERE id = ?",
            (point, repeat, int(warmup), trial, call_id),
        )
    return call_id


def add_trial(
    store: Store,
    run_id: str,
    *,
    number: int,
    point: str,
    params: Mapping[str, Any],
    state: str,
    objective: float | None,
    decode_tokens_per_s: float | None,
    ttft_ms: float | None,
    runs_ok: int,
    samples: Mapping[str, Any],
    error: str | None,
    started_at: str,
) -> int:
    """Record one finished (complete or failed) optimize trial."""
    row = {
        "run_id": run_id,
        "number": number,
        "point": point,
        "params_json": json.dumps(dict(params), sort_keys=True),
        "state": state,
        "objective": objective,
        "decode_tokens_per_s": decode_tokens_per_s,
        "ttft_ms": ttft_ms,
        "runs_ok": runs_ok,
        "samples_json": json.dumps(dict(samples), sort_keys=True),
        "error": error,
        "started_at": started_at,
        "finished_at": now_iso(),
    }
    with store.transaction() as db:
        cur = db.execute(
            f"INSERT INTO trials ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )
    return int(cur.lastrowid or 0)


def reopen_run(store: Store, run_id: str) -> bool:
    """Mark a recorded run as running again (a resumed sweep); False if it is not there."""
    with store.transaction() as db:
        cur = db.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL WHERE id = ?",
            (run_id,),
        )
    return cur.rowcount > 0
