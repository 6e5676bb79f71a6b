"""Store migrations: from an empty file, and from every older schema, with the data kept."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chimera.backends.base import CallMetrics, CallResult
from chimera.store import Store
from chimera.store.bench import add_bench_call, add_trial, reopen_run
from chimera.store.migrations import MIGRATIONS
from chimera.store.queries import table_rows

NAMES = [name for name, _ in MIGRATIONS]
# What shipped must never change: a store that applied a migration will not apply it again.
SHIPPED = {
    "001_initial": "c45d6f93d1f35309a14ed87f2f0161b46d0b4bb8cbe2e1408ba084e75eb2e6a7",
    "002_sweep_points_trials": "8d73a6d70f897e8354058efd2883fcc1ef48bf126a8a19444aef629b2914095d",
}


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


def _old_store(path: Path, upto: int) -> None:
    """A store file as a Chimera that knew only the first ``upto`` migrations left it."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, sql in MIGRATIONS[:upto]:
        for statement in sql.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO _migrations VALUES (?, 'then')", (name,))
    db.execute(
        "INSERT INTO runs (id, kind, label, status, started_at) "
        "VALUES ('old', 'run', 'before the upgrade', 'ok', '2024-01-01T00:00:00+00:00')"
    )
    db.execute(
        "INSERT INTO calls (run_id, stage, status, ttft_ms, options_json) "
        "VALUES ('old', 'analysis', 'ok', 12.5, '{\"num_ctx\": 1024}')"
    )
    db.commit()
    db.close()


def test_migration_names_are_unique_and_ordered() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert sorted(NAMES) == NAMES
    assert NAMES[:2] == ["001_initial", "002_sweep_points_trials"]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_migrations_are_never_edited(name: str) -> None:
    sql = dict(MIGRATIONS)[name]
    digest = hashlib.sha256(sql.encode()).hexdigest()
    assert digest == SHIPPED[name], f"{name} was edited: add a new migration instead"


def test_an_empty_file_gets_the_whole_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Store(path) as store:
        assert store.applied_migrations() == NAMES
    db = sqlite3.connect(path)
    assert {"point", "repeat", "warmup", "trial"} <= set(_columns(db, "calls"))
    assert "samples_json" in _columns(db, "trials")
    db.close()


@pytest.mark.parametrize("upto", range(1, len(MIGRATIONS)))
def test_an_older_schema_is_brought_up_to_date_with_its_data(tmp_path: Path, upto: int) -> None:
    path = tmp_path / "old.db"
    _old_store(path, upto)
    with Store(path) as store:
        assert store.applied_migrations() == NAMES
        [run] = store.runs()
        assert (run["id"], run["label"]) == ("old", "before the upgrade")
        [call] = table_rows(store, "calls", "old")
        assert call["ttft_ms"] == 12.5 and call["options_json"] == {"num_ctx": 1024}
        assert call["warmup"] == 0 and call["point"] is None  # what old calls were
        # and the new tables work on the upgraded file
        run_id = store.start_run("optimize")
        result = CallResult(
            backend="ollama",
            url="u",
            model="m",
            endpoint="/api/generate",
            text="",
            done_reason="stop",
            started_at=datetime.now(UTC),
            metrics=CallMetrics(ttft_ms=3.0),
        )
        add_bench_call(
            store, run_id, stage="generate", point="num_ctx=256", repeat=2, trial=0, result=result
        )
        add_trial(
            store,
            run_id,
            number=0,
            point="num_ctx=256",
            params={"num_ctx": 256},
            state="complete",
            objective=10.0,
            decode_tokens_per_s=10.0,
            ttft_ms=3.0,
            runs_ok=1,
            samples={"objective": [10.0]},
            error=None,
            started_at="now",
        )
        [call] = table_rows(store, "calls", run_id)
        got = (call["point"], call["repeat"], call["trial"], call["warmup"])
        assert got == ("num_ctx=256", 2, 0, 0)
        [trial] = table_rows(store, "trials", run_id)
        assert trial["params_json"] == {"num_ctx": 256} and trial["finished_at"]
    # opening it again applies nothing
    with Store(path) as store:
        assert store.migrate() == []


def test_a_resumed_run_is_running_again(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        run_id = store.start_run("sweep")
        store.finish_run(run_id, "interrupted", "ctrl-c")
        assert reopen_run(store, run_id)
        [run] = store.runs()
        assert (run["status"], run["error"], run["finished_at"]) == ("running", None, None)
        assert not reopen_run(store, "nope")
