"""Where a load run ends: the JSONL records and the store's requests and load_levels rows."""

from __future__ import annotations

import json
from pathlib import Path

from chimera.app.recording import record_load_run
from chimera.errors import EmptyResponseError, ServerHTTPError, StreamCutError, StreamError
from chimera.load.metrics import summarize
from chimera.load.output import write_jsonl
from chimera.load.records import LevelRun, RequestRecord, error_type
from chimera.load.spec import LoadLevel
from chimera.store.db import Store
from chimera.store.load import load_rows


def _run() -> LevelRun:
    ok = RequestRecord(index=0, level=0, warmup=False, status="ok", sent_s=0.0, done_s=0.2)
    ok.ttft_ms, ok.e2e_ms, ok.itl_ms, ok.output_tokens = 50.0, 200.0, [10.0, 20.0, 30.0], 4
    bad = RequestRecord(index=1, level=0, warmup=False, sent_s=0.1, done_s=0.3)
    bad.error_type, bad.error, bad.estimated = "stream_cut", "cut", ["e2e_ms"]
    return LevelRun(0, LoadLevel(concurrency=2), records=[ok, bad], wall_s=0.3)


def test_records_go_to_jsonl_one_a_line(tmp_path: Path) -> None:
    run = _run()
    path = write_jsonl(tmp_path / "out" / "requests.jsonl", run.records)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in lines] == ["ok", "failed"]
    assert lines[0]["itl_ms"] == [10.0, 20.0, 30.0] and lines[1]["error_type"] == "stream_cut"
    assert not list(path.parent.glob(".*.tmp"))  # written through a temp file, renamed


def test_a_run_goes_to_the_store(tmp_path: Path) -> None:
    run = _run()
    db = tmp_path / "c.db"
    run_id = record_load_run(
        db, label="t", command=["chimera", "load"], settings={"x": 1},
        records=run.records, summaries=[summarize(run)], status="ok",
    )  # fmt: skip
    with Store(db) as store:
        assert "005_load_requests" in store.applied_migrations()
        (meta,) = [r for r in store.runs() if r["id"] == run_id]
        requests = load_rows(store, "requests", run_id)
        levels = load_rows(store, "load_levels", run_id)
    assert meta["kind"] == "load" and meta["status"] == "ok"
    assert [r["status"] for r in requests] == ["ok", "failed"]
    assert requests[0]["itl_ms_p50"] == 20.0 and requests[0]["idx"] == 0
    assert json.loads(requests[1]["estimated_json"]) == ["e2e_ms"]
    (level,) = levels
    assert level["requests_ok"] == 1 and level["requests_failed"] == 1
    assert json.loads(level["summary_json"])["failures_by_type"] == {"stream_cut": 1}


def test_error_types_are_short_stable_names() -> None:
    assert error_type(ServerHTTPError("u", 503, "busy")) == "http_503"
    assert error_type(StreamCutError("u")) == "stream_cut"
    assert error_type(EmptyResponseError("u", "d")) == "empty_response"
    assert error_type(StreamError("u", "oom")) == "stream_error"  # as docs/load.md names it
    assert error_type(RuntimeError("x")) == "runtime_error"
