"""Reads of the run store for ``chimera runs`` and ``chimera compare``: lists, details, exports.

Every function takes an open :class:`Store` and returns plain values; JSON columns come back
parsed. Runs are named by their id or any unique prefix of it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chimera.calls import CallMetrics
from chimera.errors import ConfigError
from chimera.store.db import METRIC_COLUMNS, Store

_JSON_COLUMNS: tuple[str, ...] = (
    "command",
    "settings_json",
    "system_json",
    "options_json",
    "estimated_json",
    "quality_json",
    "config_json",
    "files_json",
    "params_json",
    "samples_json",
    "failed_agents_json",
    "slowdowns_json",
    "agent_times_json",
    "invalid_reasons_json",
    "definitions_json",
    "legacy_json",
    "analysis_json",
)
# Columns of the tidy calls CSV before the options and metrics.
CALL_CSV_LEAD = (
    "run_id",
    "call_id",
    "agent_id",
    "stage",
    "point",
    "run_index",
    "trial_index",
    "model",
    "backend",
    "status",
    "error",
    "started_at",
)


def _db(store: Store) -> sqlite3.Connection:
    # Store keeps its connection private; reads need no transaction of their own.
    return store._db


def _parse(row: sqlite3.Row | Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        if isinstance(out.get(key), str):
            with contextlib.suppress(ValueError):
                out[key] = json.loads(out[key])
    return out


def resolve_run(store: Store, ref: str) -> str:
    """The full id of the run ``ref`` names (its id or a unique prefix)."""
    ref = ref.strip().lower()
    if not ref:
        raise ConfigError("give a run id (or its first characters); `chimera runs list` shows them")
    ids: list[str] = [
        str(r[0])
        for r in _db(store).execute(
            "SELECT id FROM runs WHERE id LIKE ? ORDER BY started_at DESC LIMIT 6",
            (ref.replace("%", "").replace("_", "") + "%",),
        )
    ]
    if not ids:
        raise ConfigError(
            f"no run {ref!r} in the run store {store.path}; `chimera runs list` shows the runs "
            "(or pass the store with --db / CHIMERA_DB)"
        )
    if len(ids) > 1:
        raise ConfigError(
            f"{ref!r} matches several runs ({', '.join(i[:12] for i in ids[:5])}"
            f"{', ...' if len(ids) > 5 else ''}); give more of the id"
        )
    return ids[0]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of ``chimera runs list``."""

    id: str
    kind: str
    label: str | None
    status: str
    started_at: str
    finished_at: str | None
    duration_s: float | None
    agents: int
    calls: int
    failed_calls: int
    trials: int
    output_dir: str | None
    origin: str = "chimera"  # who measured: chimera, or an old demo (python, rust) imported


def _duration(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def list_runs(store: Store, *, limit: int = 20, kind: str | None = None) -> list[RunSummary]:
    """The latest runs first, with counts of their agents, calls and trials."""
    sql = (
        "SELECT r.*, (SELECT COUNT(*) FROM agents a WHERE a.run_id = r.id) AS n_agents,"
        " (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id) AS n_calls,"
        " (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.status != 'ok') AS n_failed,"
        " (SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id) AS n_trials"
        " FROM runs r"
    )
    params: list[Any] = []
    if kind:
        sql += " WHERE r.kind = ?"
        params.append(kind)
    sql += " ORDER BY r.started_at DESC LIMIT ?"
    params.append(limit)
    return [
        RunSummary(
            id=r["id"],
            kind=r["kind"],
            label=r["label"],
            status=r["status"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            duration_s=_duration(r["started_at"], r["finished_at"]),
            agents=r["n_agents"],
            calls=r["n_calls"],
            failed_calls=r["n_failed"],
            trials=r["n_trials"],
            output_dir=r["output_dir"],
            origin=r["origin"] or "chimera",
        )
        for r in _db(store).execute(sql, params)
    ]


def run_row(store: Store, run_id: str) -> dict[str, Any]:
    """The run itself, JSON columns parsed."""
    row = _db(store).execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise ConfigError(f"no run {run_id!r} in the run store {store.path}")
    return _parse(row)


def table_rows(store: Store, table: str, run_id: str) -> list[dict[str, Any]]:
    """A run's agents, calls, facts, findings, trials or scenario runs, in recorded order."""
    if table not in ("agents", "calls", "facts", "findings", "trials", "scenario_runs"):
        raise ValueError(table)
    cur = _db(store).execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY id", (run_id,))
    return [_parse(r) for r in cur]


def export_document(store: Store, run_id: str) -> dict[str, Any]:
    """Everything recorded about a run: itself, agents, calls (prompts and responses too),
    trials, scenario runs, facts and findings."""
    return {
        "run": run_row(store, run_id),
        **{t: table_rows(store, t, run_id) for t in ("agents", "calls", "trials")},
        "scenario_runs": table_rows(store, "scenario_runs", run_id),
        **{t: table_rows(store, t, run_id) for t in ("facts", "findings")},
    }


def calls_table(store: Store, run_id: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The run's measured calls as a tidy table (warm-ups left out): one row per call, the
    options as columns, then the metrics; the names are those ``chimera ingest`` reads."""
    agents = {a["id"]: a["agent_id"] for a in table_rows(store, "agents", run_id)}
    calls = [c for c in table_rows(store, "calls", run_id) if not c.get("warmup")]
    option_names: list[str] = []
    for c in calls:
        for name in c.get("options_json") or {}:
            if name not in option_names:
                option_names.append(name)
    metrics = [m for m in METRIC_COLUMNS if m != "done_reason"]
    columns = [*CALL_CSV_LEAD, *option_names, *metrics]
    rows = []
    for c in calls:
        options = c.get("options_json") or {}
        row: dict[str, Any] = {
            "run_id": run_id,
            "call_id": c["id"],
            "agent_id": agents.get(c["agent_row"]),
            "stage": c["stage"],
            "point": c.get("point"),
            "run_index": c.get("repeat"),
            "trial_index": c.get("trial"),
            "model": c["model"],
            "backend": c["backend"],
            "status": c["status"],
            "error": c["error"],
            "started_at": c["started_at"],
        }
        row.update({name: options.get(name) for name in option_names})
        row.update({m: c[m] for m in metrics})
        rows.append(row)
    return columns, rows


def _matches(options: Mapping[str, Any], where: Mapping[str, str]) -> bool:
    for name, wanted in where.items():
        have = options.get(name)
        if have is None:
            return False
        try:
            if float(have) != float(wanted):
                return False
        except (TypeError, ValueError):
            if str(have).lower() != wanted.lower():
                return False
    return True


def call_metrics(row: Mapping[str, Any]) -> CallMetrics:
    """A stored call's metrics, as the backend measured them."""
    values = {m: row[m] for m in METRIC_COLUMNS if row.get(m) is not None}
    estimated = row.get("estimated_json")
    if isinstance(estimated, str):
        estimated = json.loads(estimated)
    return CallMetrics(**values, estimated=list(estimated or []))


def measured_calls(
    store: Store, run_id: str, where: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The run's successful, non-warm-up calls whose options match ``where`` (name -> value)."""
    return [
        c
        for c in table_rows(store, "calls", run_id)
        if c["status"] == "ok"
        and not c.get("warmup")
        and _matches(c.get("options_json") or {}, where or {})
    ]
