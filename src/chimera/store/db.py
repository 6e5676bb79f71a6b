"""SQLite store: opens (creating and migrating) the file, and records runs and their parts."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chimera.calls import CallMetrics, CallResult
from chimera.errors import ConfigError
from chimera.store.migrations import MIGRATIONS

METRIC_COLUMNS = tuple(n for n in CallMetrics.model_fields if n not in ("estimated", "chunks"))


def default_db_path() -> Path:
    """``CHIMERA_DB``, else ``$CHIMERA_HOME/chimera.db``, else the user's data directory."""
    if env := os.environ.get("CHIMERA_DB"):
        return Path(env)
    if home := os.environ.get("CHIMERA_HOME"):
        return Path(home) / "chimera.db"
    from platformdirs import user_data_dir

    return Path(user_data_dir("chimera", appauthor=False)) / "chimera.db"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


class Store:
    """One open store. Each ``record_*`` call is its own transaction, so a crash loses nothing
    that was recorded before it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the run store {self.path}: {exc}; pass another "
                "path with --db or CHIMERA_DB"
            ) from None
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self.migrate()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- schema ---------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        return [r[0] for r in self._db.execute("SELECT name FROM _migrations ORDER BY name")]

    def migrate(self) -> list[str]:
        """Apply every migration not yet applied, each in its own transaction."""
        done = set(self.applied_migrations())
        known = {name for name, _ in MIGRATIONS}
        unknown = done - known
        if unknown:
            raise ConfigError(
                f"the run store {self.path} was written by a newer Chimera "
                f"(migrations {', '.join(sorted(unknown))}); upgrade Chimera"
            )
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as db:
                for statement in sql.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, now_iso()))
            applied.append(name)
        return applied

    # --- writes ---------------------------------------------------------------------------

    def start_run(
        self,
        kind: str,
        *,
        label: str | None = None,
        command: list[str] | None = None,
        settings: Any = None,
        system: Any = None,
        output_dir: str | None = None,
    ) -> str:
        run_id = uuid.uuid4().hex
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (id, kind, label, status, started_at, command, settings_json,"
                " system_json, output_dir) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (
                    run_id,
                    kind,
                    label,
                    now_iso(),
                    _json(command),
                    _json(settings),
                    _json(system),
                    output_dir,
                ),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                (status, error, now_iso(), run_id),
            )

    def add_agent(self, run_id: str, values: Mapping[str, Any]) -> int:
        cols = list(values)
        with self.transaction() as db:
            cur = db.execute(
                f"INSERT INTO agents (run_id, {', '.join(cols)}) "
                f"VALUES (?, {', '.join('?' for _ in cols)})",
                (run_id, *(_json(v) if isinstance(v, dict | list) else v for v in values.values())),
            )
        return int(cur.lastrowid or 0)

    def add_call(
        self,
        run_id: str,
        *,
        stage: str,
        agent_row: int | None = None,
        result: CallResult | None = None,
        prompt: str | None = None,
        error: str | None = None,
        backend: str | None = None,
        url: str | None = None,
        model: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> int:
        """Record one call: a CallResult, or a failed call with its reason."""
        m = result.metrics if result else None
        row: dict[str, Any] = {
            "run_id": run_id,
            "agent_row": agent_row,
            "stage": stage,
            "backend": result.backend if result else backend,
            "url": result.url if result else url,
            "model": result.model if result else model,
            "endpoint": result.endpoint if result else None,
            "options_json": _json(dict(result.options if result else options or {})),
            "prompt": prompt,
            "response": result.text if result else None,
            "status": "ok" if result else "failed",
            "error": error,
            "started_at": result.started_at.isoformat() if result else now_iso(),
            "done_reason": result.done_reason if result else None,
            "estimated_json": _json(m.estimated) if m else None,
        }
        for col in METRIC_COLUMNS:
            if col != "done_reason":
                row[col] = getattr(m, col) if m else None
        with self.transaction() as db:
            cur = db.execute(
                f"INSERT INTO calls ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                tuple(row.values()),
            )
        return int(cur.lastrowid or 0)

    def add_rows(self, table: str, run_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Bulk-insert facts or findings (dicts of column -> value; dicts/lists become JSON)."""
        if table not in ("facts", "findings"):
            raise ValueError(table)
        n = 0
        with self.transaction() as db:
            for row in rows:
                cols = list(row)
                db.execute(
                    f"INSERT INTO {table} (run_id, {', '.join(cols)}) "
                    f"VALUES (?, {', '.join('?' for _ in cols)})",
                    (
                        run_id,
                        *(_json(v) if isinstance(v, dict | list) else v for v in row.values()),
                    ),
                )
                n += 1
        return n

    # --- reads ----------------------------------------------------------------------------

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))
        return [dict(r) for r in cur]

    def rows(self, table: str, run_id: str) -> list[dict[str, Any]]:
        if table not in ("agents", "calls", "facts", "findings"):
            raise ValueError(table)
        cur = self._db.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY id", (run_id,))
        return [dict(r) for r in cur]
