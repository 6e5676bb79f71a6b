"""The run store: migrations on open, records of runs, calls, facts and findings."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chimera.backends.base import CallMetrics, CallResult
from chimera.errors import ConfigError
from chimera.store import Store, default_db_path
from chimera.store.migrations import MIGRATIONS


def test_empty_file_gets_every_migration(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "runs.db") as store:
        assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
        assert store.migrate() == []  # opening again applies nothing


def test_store_written_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES ('999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="newer Chimera"):
        Store(path)


def test_default_path_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_db_path() == tmp_path / "chimera-home" / "chimera.db"
    monkeypatch.setenv("CHIMERA_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def test_run_with_calls_facts_and_findings(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        run = store.start_run("run", label="demo", command=["chimera", "run"])
        agent = store.add_agent(
            run,
            {
                "agent_id": "insight",
                "status": "ok",
                "total_s": 1.5,
                "options_json": {"num_ctx": 1024},
            },
        )
        result = CallResult(
            backend="ollama",
            url="http://127.0.0.1:11434",
            model="m",
            endpoint="/api/chat",
            text="hello",
            done_reason="stop",
            started_at=datetime.now(UTC),
            metrics=CallMetrics(ttft_ms=12.5, output_tokens=3, estimated=["output_tokens"]),
        )
        store.add_call(run, stage="analysis", agent_row=agent, result=result, prompt="p")
        store.add_call(
            run, stage="report", agent_row=agent, error="server died", backend="ollama", model="m"
        )
        store.add_rows(
            "facts",
            run,
            [
                {
                    "source": "a.csv",
                    "metric": "tokens_per_s",
                    "value": 10.0,
                    "config_json": {"num_gpu": 80},
                }
            ],
        )
        store.add_rows(
            "findings",
            run,
            [{"kind": "duplicate", "severity": "warning", "files_json": ["a.csv", "a.json"]}],
        )
        store.finish_run(run, "failed", "report call failed")

        [row] = store.runs()
        assert row["status"] == "failed" and row["error"] == "report call failed"
        calls = store.rows("calls", run)
        assert [c["status"] for c in calls] == ["ok", "failed"]
        assert calls[0]["ttft_ms"] == 12.5 and calls[0]["prompt_eval_ms"] is None
        assert calls[1]["error"] == "server died"
        assert store.rows("facts", run)[0]["config_json"] == '{"num_gpu": 80}'
        assert len(store.rows("findings", run)) == 1


def test_a_transaction_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run_id = store.start_run("run")
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute("UPDATE runs SET status = 'changed' WHERE id = ?", (run_id,))
            db.execute("INSERT INTO agents (run_id) VALUES ('no such run')")
        assert store.runs()[0]["status"] != "changed"
        with store.transaction() as db:  # the connection is usable again
            db.execute("UPDATE runs SET status = 'changed' WHERE id = ?", (run_id,))
        assert store.runs()[0]["status"] == "changed"
