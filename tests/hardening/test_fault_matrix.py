"""The fault matrix: every command that calls a server, against every fault a server can have,
over both protocols. Each must give the fault's typed error, record each failed call with its
reason (in its files and the store), go on with the rest of its plan, and count the failures
in its summary; its exit code is the one in the table.

The table in docs/reliability.md is rendered from ``EXPECTED`` and ``COMMANDS`` here
(``test_the_table_in_the_docs_is_the_one_tested``), so it says what these tests check.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chimera.testing import FaultKind, ServerThread

from .conftest import Cli

MODEL = "gemma3:latest"
ANSWER = "# Summary\n\ngemma3:latest decodes at 50.5 tok/s with num_gpu=80.\n"
# a short idle timeout where a stall is the fault, a long one elsewhere (10 MB take a while
# to arrive on a busy machine, and a line still coming is no token)
STALLS = ("stall", "drip", "keepalive")


def timeouts(kind: str) -> list[str]:
    idle = "0.5" if kind in STALLS else "10"
    return ["--idle-timeout", idle, "--first-token-timeout", "10", "--connect-timeout", "10"]


DOCS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

# What a client sees of each fault: the error type and a phrase of its one-line message.
ERRORS = {
    "ServerUnreachableError": "cannot reach the server",
    "ModelNotFoundError": "is not available on",
    "ServerHTTPError": "answered HTTP 500",
    "StreamError": "reported an error mid-stream",
    "StreamCutError": "ended before it was done",
    "IdleTimeoutError": "no token after the previous one within",
    "MalformedResponseError": "malformed response from",
    "EmptyResponseError": "answered with an empty completion",
}


@dataclass(frozen=True)
class Fault:
    """A fault as the test server injects it, and the error each protocol's client gives."""

    kind: FaultKind
    what: str
    ollama: str | None  # None: no call fails
    openai: str | None


UNREACHABLE, IDLE = "ServerUnreachableError", "IdleTimeoutError"
FAULTS = {
    "refused": Fault("down", "connection refused (the server gone)", *[UNREACHABLE] * 2),
    "404": Fault("http_404", "404 model", *["ModelNotFoundError"] * 2),
    "500": Fault("http_500", "500 mid-run", *["ServerHTTPError"] * 2),
    "error_line": Fault("error_line", "an error line mid-stream", *["StreamError"] * 2),
    "cut": Fault("cut", "a cut stream", *["StreamCutError"] * 2),
    "stall": Fault("stall", "a stall after 3 tokens", *[IDLE] * 2),
    "drip": Fault("drip", "a slow drip (a byte every 50 ms, no line)", *[IDLE] * 2),
    "keepalive": Fault(
        "keepalive", "a stall behind lines with no token (every 50 ms)", *[IDLE] * 2
    ),
    # an SSE reader skips a line that is no field, as the SSE standard says: the stream then
    # ends without its [DONE]
    "garbage": Fault("garbage", "garbage bytes", "MalformedResponseError", "StreamCutError"),
    "huge_line": Fault("huge_line", "a 10 MB line", *["MalformedResponseError"] * 2),
    "empty": Fault("empty", "an empty completion", *["EmptyResponseError"] * 2),
    "restart": Fault("restart", "a server restart between calls", None, None),
}


@dataclass(frozen=True)
class Outcome:
    """What a command left: planned units (runs, trials, requests), those that failed, and
    every error text it recorded in its files and in the store."""

    planned: int
    failed: int
    counted: int | None  # the failures its summary counts (None: it has no summary)
    in_files: list[str]
    in_store: list[str]


@dataclass(frozen=True)
class Command:
    plan: str  # what it is asked to do, for the docs
    planned: int  # the units (runs, agent runs, trials, requests) it must account for
    line: str  # the command line, {url}, {p} (protocol) and {tmp} filled in
    first_fault: int  # the first generation request the fault hits (after any set-up)
    exit_failed: Callable[[int, int], int]  # (planned, failed) -> the exit code
    recorded: str  # where a failed call is recorded and counted (for the docs)
    read: Callable[[Path, str], Outcome]  # (tmp, stdout) -> what it left


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _store(tmp: Path, sql: str) -> list[Any]:
    con = sqlite3.connect(tmp / "runs.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return [row[0] for row in con.execute(sql).fetchall() if row[0]]
    finally:
        con.close()


def _read_run(tmp: Path, stdout: str) -> Outcome:
    docs = [_json(tmp / "out" / f"run_{i}" / "metrics.json") for i in (1, 2)]
    failed = sum(d["status"] != "ok" for d in docs)
    errors = [c.get("error") or "" for d in docs for c in d["calls"]] + [
        d["error"] or "" for d in docs
    ]
    stored = _store(tmp, "SELECT error FROM calls WHERE status = 'failed'")
    counted = _json(tmp / "out" / "summary.json")["failed"]
    return Outcome(2, failed, counted, errors, stored)


def _read_multiagent(tmp: Path, stdout: str) -> Outcome:
    summary = _json(tmp / "out" / "summary.json")
    agent_runs = 2 * summary["counts"]["runs_planned"]
    failed = summary["counts"]["agent_runs_failed"]
    errors = [
        a["error"] or ""
        for i in (1, 2)
        for a in _json(tmp / "out" / f"run_{i}" / "metrics.json")["agents"]
    ]
    stored = _store(tmp, "SELECT error FROM calls WHERE status = 'failed'")
    counted = sum(summary["counts"]["calls_failed"].values()) and failed
    return Outcome(agent_runs, failed, counted, errors, stored)


def _read_sweep(tmp: Path, stdout: str) -> Outcome:
    with (tmp / "out" / "sweep.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    failed = [r for r in rows if r["status"] != "ok"]
    stored = _store(tmp, "SELECT error FROM calls WHERE status = 'failed'")
    counted = int(stdout.split(" failed")[0].rsplit(", ", 1)[1]) if " failed" in stdout else 0
    return Outcome(len(rows), len(failed), counted, [r["error"] for r in failed], stored)


def _read_optimize(tmp: Path, stdout: str) -> Outcome:
    trials = json.loads(stdout)["trials"]
    failed = [t for t in trials if t["state"] == "failed"]
    stored = _store(tmp, "SELECT error FROM trials")
    (note,) = _store(tmp, "SELECT error FROM runs") or [""]
    counted = int(note.split(" of ")[0]) if note else 0
    return Outcome(len(trials), len(failed), counted, [t["error"] or "" for t in failed], stored)


def _read_load(tmp: Path, stdout: str) -> Outcome:
    lines = (tmp / "out" / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines]
    failed = [r for r in records if r["status"] == "failed"]
    level = _json(tmp / "out" / "load.json")["levels"][0]
    stored = _store(tmp, "SELECT error FROM requests WHERE status = 'failed'")
    errors = [r["error"] for r in failed]
    assert sum(level["failures_by_type"].values()) == level["requests_failed"]
    return Outcome(len(records), len(failed), level["requests_failed"], errors, stored)


def _read_probe(tmp: Path, stdout: str) -> Outcome:
    [server] = json.loads(stdout)["servers"]
    error = server["error"]
    return Outcome(1, int(error is not None), None, [error or ""], [error or ""])


COMMON = "--backend {p} --url {url} --model gemma3:latest --db {tmp}/runs.db"
COMMANDS: dict[str, Command] = {
    "run": Command(
        "2 runs",
        2,
        f"run {{tmp}}/data {COMMON} --runs 2 --output-dir {{tmp}}/out -q",
        1,
        lambda planned, failed: 4 if failed else 0,
        "each run's `metrics.json` (the call's `error_type` and `error`, the run's `error`); "
        "`summary.json` (`failed`); the store's `calls` (`status` failed, `error`)",
        _read_run,
    ),
    "multiagent": Command(
        "2 runs of 2 agents",
        4,
        "multiagent --runs 2 --warmup 0 --no-preload --output-dir {tmp}/out --backend {p} "
        "--collector-ollama-url {url} --insight-ollama-url {url} --model gemma3:latest "
        "--db {tmp}/runs.db -q {tmp}/data",
        1,
        lambda planned, failed: 4 if failed else 0,
        "each run's `metrics.json` (each agent's `error`); `summary.json` "
        "(`counts.agent_runs_failed`, `counts.calls_failed` by error type); the store's `calls`",
        _read_multiagent,
    ),
    "sweep": Command(
        "3 points x 1 run",
        3,
        f"sweep {COMMON} --temperature 0.1,0.2,0.3 --runs 1 --warmup 0 --num-predict 8 "
        "--output-dir {tmp}/out",
        2,
        lambda planned, failed: 4 if failed == planned else 0,
        "`sweep.csv` (`status`, `error` per run); the store's `calls`; "
        "'N runs measured, ..., F failed' and the run's note 'F of N runs failed'",
        _read_sweep,
    ),
    "optimize": Command(
        "3 trials of 1 run",
        3,
        f"optimize {COMMON} --temperature 0.1:0.9 --trials 3 --runs 1 --warmup 0 "
        "--num-predict 8 --json -q",
        2,
        lambda planned, failed: 4 if failed == planned else 0,
        "each trial's `error` (`--json`, the store's `trials`); the run's note "
        "'F of N trials failed'",
        _read_optimize,
    ),
    "load": Command(
        "4 requests, concurrency 1",
        4,
        # given prompts: no calibration requests before the run
        "load {url} --backend {p} --model gemma3:latest -c 1 -n 4 --warmup 0 "
        "--prompts {tmp}/prompts.jsonl --output-dir {tmp}/out --db {tmp}/runs.db --json",
        2,
        lambda planned, failed: 4 if failed == planned else 0,
        "`requests.jsonl` (`status`, `error_type`, `error`); `load.json` "
        "(`requests_failed`, `failures_by_type`); the store's `requests`",
        _read_load,
    ),
    "probe": Command(
        "1 test call",
        1,
        "probe {url} --kind {p} --model gemma3:latest --num-predict 4 --json",
        1,
        lambda planned, failed: 3 if failed else 0,
        "the server's `error` in the `--json` output (one test call: nothing to go on with)",
        _read_probe,
    ),
}


def expected(fault: Fault, protocol: str, command: str) -> tuple[str | None, int, int]:
    """(error type, failed units, exit code) the tests require of ``command`` under ``fault``:
    every unit from the first one the fault hits fails."""
    error = fault.ollama if protocol == "ollama" else fault.openai
    cmd = COMMANDS[command]
    failed = 0 if error is None else cmd.planned - (cmd.first_fault - 1)
    return error, failed, cmd.exit_failed(cmd.planned, failed)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bench.csv").write_text(
        "model,num_gpu,tokens_per_s\ngemma3:latest,80,50.5\ngemma3:latest,40,42.0\n",
        encoding="utf-8",
    )
    (tmp_path / "prompts.jsonl").write_text(
        '{"prompt": "Say hi.", "output_tokens": 8}\n', encoding="utf-8"
    )
    return tmp_path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_typed_recorded_and_counted(
    fault: str,
    command: str,
    protocol: str,
    data: Path,
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
) -> None:
    f, cmd = FAULTS[fault], COMMANDS[command]
    error, failed, code = expected(f, protocol, command)
    with ServerThread(
        protocol=protocol,
        models=[MODEL],
        responses=[ANSWER],
        fault=f.kind,
        fault_from_request=cmd.first_fault,
        prefill_ms=2,
        token_interval_ms=1,  # a decode rate to measure (optimize scores it)
        stall_s=30,
    ) as srv:
        line = cmd.line.format(url=srv.url, p=protocol, tmp=data)
        exit_code = cli(*line.split(), *timeouts(f.kind))
    out, err = capsys.readouterr()
    assert exit_code == code, err
    assert "Traceback" not in err
    outcome = cmd.read(data, out)
    # the run went on: every planned unit is there, the expected ones failed, all counted
    assert outcome.failed == failed, (outcome, err)
    if outcome.counted is not None:
        assert outcome.counted == failed
    if error is None:
        return
    phrases = [ERRORS[error]]
    if f.kind == "down":  # the call in flight when the server went is cut, the next refused
        phrases.append(ERRORS["StreamCutError"])
    # each failure is recorded with its typed reason, in the files and in the store
    found = [t for t in outcome.in_files if any(p in t for p in phrases)]
    assert len(found) >= failed, outcome.in_files
    if failed > 1:
        assert any(phrases[0] in t for t in found), found
    assert any(p in text for p in phrases for text in outcome.in_store), outcome.in_store


def table() -> str:
    """The fault matrix as docs/reliability.md shows it."""
    lines = [
        "| fault | error (Ollama / OpenAI) | " + " | ".join(f"`{n}`" for n in COMMANDS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in COMMANDS) + " |",
    ]
    for f in FAULTS.values():
        err = f"`{f.ollama}`" if f.ollama == f.openai else f"`{f.ollama}` / `{f.openai}`"
        if f.kind == "down":
            err += " (the call in flight: `StreamCutError`)"
        cells = []
        for name, cmd in COMMANDS.items():
            _, failed, code = expected(f, "ollama", name)
            cells.append(f"{failed}/{cmd.planned} failed, exit {code}")
        row = [f.what, err if f.ollama else "none", *cells]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def recorded() -> str:
    """Where each command records and counts a failed call, as docs/reliability.md shows it."""
    lines = [
        "| command | plan | first request hit | where a failure is recorded and counted |",
        "| --- | --- | --- | --- |",
    ]
    for name, cmd in COMMANDS.items():
        lines.append(f"| `{name}` | {cmd.plan} | #{cmd.first_fault} | {cmd.recorded} |")
    return "\n".join(lines) + "\n"


def test_the_table_in_the_docs_is_the_one_tested() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert table() in text, "docs/reliability.md's fault table is stale:\n" + table()
    assert recorded() in text, "docs/reliability.md's record table is stale:\n" + recorded()


def test_a_sweep_where_every_run_fails_exits_4_and_says_why(
    data: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(models=[MODEL], fault="http_500") as srv:
        line = COMMANDS["sweep"].line.format(url=srv.url, p="ollama", tmp=data)
        code = cli(*line.split(), *timeouts("http_500"))
    out = capsys.readouterr().out
    assert code == 4
    assert "3 runs measured, 0 already done, 3 failed" in out
    assert "every run failed: nothing was measured" in out
    assert "3 failed: " in out and "answered HTTP 500" in out  # the reason, once, counted
    assert _store(data, "SELECT status FROM runs") == ["failed"]
