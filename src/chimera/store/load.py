"""Records of load runs (migration 005): every request of every level, and the levels' figures.

Rows come in as plain mappings (column -> value), so the store knows nothing of the load
generator; lists and dicts are stored as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chimera.store.db import Store

REQUEST_COLUMNS = (
    "level",
    "idx",
    "warmup",
    "status",
    "error_type",
    "error",
    "scheduled_s",
    "sent_s",
    "done_s",
    "queue_ms",
    "ttft_ms",
    "ttfot_ms",
    "e2e_ms",
    "itl_ms_mean",
    "itl_ms_p50",
    "itl_ms_p99",
    "tpot_ms",
    "output_tokens",
    "prompt_tokens",
    "load_ms",
    "prompt_eval_ms",
    "eval_ms",
    "server_total_ms",
    "done_reason",
    "chunks",
    "estimated_json",
)
LEVEL_COLUMNS = (
    "level",
    "label",
    "requests_ok",
    "requests_failed",
    "achieved_rate_rps",
    "output_tokens_per_s",
    "ttft_ms_p99",
    "generator_saturated",
    "summary_json",
)


def _value(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v, default=str, sort_keys=True)
    return int(v) if isinstance(v, bool) else v


def _insert(
    store: Store, table: str, cols: tuple[str, ...], run_id: str, rows: Iterable[Mapping[str, Any]]
) -> int:
    sql = (
        f"INSERT INTO {table} (run_id, {', '.join(cols)}) "
        f"VALUES (?, {', '.join('?' for _ in cols)})"
    )
    n = 0
    with store.transaction() as db:
        for row in rows:
            unknown = set(row) - set(cols)
            if unknown:
                raise ValueError(f"unknown {table} columns: {sorted(unknown)}")
            db.execute(sql, (run_id, *(_value(row.get(c)) for c in cols)))
            n += 1
    return n


def add_requests(store: Store, run_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Record a level's requests in one transaction; returns how many."""
    return _insert(store, "requests", REQUEST_COLUMNS, run_id, rows)


def add_level(store: Store, run_id: str, row: Mapping[str, Any]) -> None:
    """Record one level's figures."""
    _insert(store, "load_levels", LEVEL_COLUMNS, run_id, [row])


def load_rows(store: Store, table: str, run_id: str) -> list[dict[str, Any]]:
    """The ``requests`` or ``load_levels`` rows of a run, in order."""
    if table not in ("requests", "load_levels"):
        raise ValueError(table)
    with store.transaction() as db:
        cur = db.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY id", (run_id,))
        return [dict(r) for r in cur]
