"""Ctrl-C and SIGTERM in the middle of a command: the process exits 130 or 143, what finished
is kept whole (no torn CSV row, every JSON file parses), the store passes SQLite's integrity
check with the run marked interrupted, and a sweep run again finishes what was left.

Each command runs as a subprocess against a test server that drips its tokens, and the signal
goes out when the command is seen mid-run (a first finished run, CSV row or request on the
server, or for ingest an artifact open in the process), never after a sleep."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chimera.testing import ServerThread

MODEL = "gemma3:latest"
ANSWER = (
    "# Summary\n\ngemma3:latest decodes at 50.5 tok/s with num_gpu=80 and 42.0 tok/s with "
    "num_gpu=40.\n\n## Findings\n\n- more GPU layers are faster.\n"
)
SIGNALS = [
    pytest.param(signal.SIGINT, 130, False, id="SIGINT"),
    pytest.param(signal.SIGINT, 130, True, id="SIGINTx2"),
    pytest.param(signal.SIGTERM, 143, False, id="SIGTERM"),
]
DEADLINE_S = 90.0  # generous: two shared cores


@dataclass
class Case:
    """A command line (``{url}`` and ``{tmp}`` filled in) and when it is mid-run."""

    line: str
    midway: Callable[[Path, ServerThread, int], bool]  # (tmp, server, pid) -> mid-run yet?


def _rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file, asserting none is torn: every row has the header's width and
    the file ends with a line break."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), f"{path} ends mid-row"
    table = list(csv.reader(text.splitlines()))
    width = len(table[0])
    assert all(len(row) == width for row in table[1:]), f"a torn row in {path}"
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def _csv_lines(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n") if path.exists() else 0


def _artifact_open(tmp: Path, pid: int) -> bool:
    """Whether process ``pid`` has a file of the data folder open (ingest is reading)."""
    data = str(tmp / "big")
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            if str(fd.readlink()).startswith(data):
                return True
        except OSError:
            continue
    return False


COMMON = "--backend ollama --url {url} --model gemma3:latest --db {tmp}/runs.db"
CASES: dict[str, Case] = {
    "ingest": Case(
        "ingest {tmp}/big --csv {tmp}/facts.csv --no-cache",
        lambda tmp, srv, pid: _artifact_open(tmp, pid),
    ),
    "run": Case(
        f"run {{tmp}}/data {COMMON} --runs 4 --output-dir {{tmp}}/out -q",
        lambda tmp, srv, pid: (tmp / "out" / "run_1" / "metrics.json").exists(),
    ),
    "multiagent": Case(
        "multiagent --runs 20 --warmup 0 --output-dir {tmp}/out --backend ollama "
        "--collector-ollama-url {url} --insight-ollama-url {url} --model gemma3:latest "
        "--db {tmp}/runs.db -q {tmp}/data",
        lambda tmp, srv, pid: (tmp / "out" / "summary.json").exists(),
    ),
    "sweep": Case(
        f"sweep {COMMON} --temperature 0.1,0.2,0.3 --runs 4 --warmup 0 --num-predict 8 "
        "--output-dir {tmp}/out -q",
        lambda tmp, srv, pid: _csv_lines(tmp / "out" / "sweep.csv") >= 3,
    ),
    "optimize": Case(
        f"optimize {COMMON} --temperature 0.1:0.9 --trials 30 --runs 1 --warmup 0 "
        "--num-predict 8 -q",
        lambda tmp, srv, pid: srv.generation_requests >= 3,
    ),
    "load": Case(
        "load {url} --backend ollama --model gemma3:latest -c 2 --duration 300 --warmup 0 "
        "--input-tokens 16 --output-tokens 8 --output-dir {tmp}/out --db {tmp}/runs.db "
        "--csv -q",
        lambda tmp, srv, pid: srv.generation_requests >= 10,
    ),
    "load_workers": Case(  # two generator processes
        "load {url} --backend ollama --model gemma3:latest -c 2 --duration 300 --warmup 0 "
        "--input-tokens 16 --output-tokens 8 --output-dir {tmp}/out --db {tmp}/runs.db "
        "--csv -q --workers 2",
        lambda tmp, srv, pid: srv.generation_requests >= 10,
    ),
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bench.csv").write_text(
        "model,num_gpu,tokens_per_s\ngemma3:latest,80,50.5\ngemma3:latest,40,42.0\n",
        encoding="utf-8",
    )
    return tmp_path


def _big_folder(tmp: Path) -> None:
    """For ingest: 40 CSV files (10 MB) to read, and between them 8 sparse files of 60 MB
    (no disk) that it reads whole before skipping them as binary: each is open long enough
    (tens of ms) for the test to see it open."""
    big = tmp / "big"
    big.mkdir()
    for n in range(40):  # each file its own content: a copy would be read once
        rows = "".join(f"m{i % 7}:1b,{i % 64},{i * 0.37 + n:.2f},{i % 13}\n" for i in range(10_000))
        (big / f"bench_{n:02d}.csv").write_text(
            "model,num_gpu,tokens_per_s,ttft_ms\n" + rows, encoding="utf-8"
        )
        if n % 5 == 2:
            with (big / f"bench_{n:02d}_pad.txt").open("wb") as fh:
                fh.truncate(60 * 2**20)


@pytest.fixture
def drip() -> Iterator[ServerThread]:
    """A server that drips tokens: each call takes about half a second."""
    with ServerThread(
        models=[MODEL], responses=[ANSWER], prefill_ms=20, token_interval_ms=15
    ) as srv:
        yield srv


def _interrupt(
    case: Case, tmp: Path, srv: ServerThread, sig: int, twice: bool = False
) -> subprocess.CompletedProcess[str]:
    args = case.line.format(url=srv.url, tmp=tmp).split()
    env = {**os.environ, "CHIMERA_HOME": str(tmp / "home"), "PYTHONUNBUFFERED": "1"}
    # a session of its own: Ctrl-C goes to the whole group, as a terminal sends it (worker
    # processes included); SIGTERM to the command alone, as `kill PID` does
    proc = subprocess.Popen(
        [sys.executable, "-m", "chimera", *args], start_new_session=True,
        cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not case.midway(tmp, srv, proc.pid):
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"finished before it was interrupted ({proc.returncode}): {err}{out}")
            assert time.monotonic() < deadline, "never reached mid-run"
            time.sleep(0.002)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
            if twice:  # an impatient user: Ctrl-C again while the first one's stop runs
                time.sleep(0.01)
                os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=DEADLINE_S)
        assert _group_gone(proc.pid), "a process of the command (a worker) outlived it"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _group_gone(pgid: int, wait_s: float = 10.0) -> bool:
    """Whether every process of the group has ended (within ``wait_s``)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _store_intact(db: Path) -> dict[str, object]:
    """The store passes integrity_check; its one run, as a dict."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.row_factory = sqlite3.Row
        [run] = con.execute("SELECT * FROM runs").fetchall()
        return dict(run)
    finally:
        con.close()


def _json_files_parse(folder: Path) -> None:
    for path in folder.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in folder.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            json.loads(line)
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name], "a temporary file was left"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("sig", "code", "twice"), SIGNALS)
@pytest.mark.parametrize("command", list(CASES))
def test_an_interrupted_command_keeps_what_finished(
    command: str, sig: int, code: int, twice: bool, workdir: Path, drip: ServerThread
) -> None:
    if command == "ingest":
        _big_folder(workdir)
    done = _interrupt(CASES[command], workdir, drip, sig, twice)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    word = "terminated" if sig == signal.SIGTERM else "interrupted"
    assert word in done.stderr or "interrupted" in done.stdout + done.stderr
    out = workdir / "out"
    if out.exists():
        _json_files_parse(out)
    if command == "ingest":
        # the facts CSV is written whole at the end, or not at all
        assert not (workdir / "facts.csv").exists()
        assert not [p for p in workdir.iterdir() if p.name.startswith("facts.csv")]
        return
    run = _store_intact(workdir / "runs.db")
    assert run["status"] == "interrupted"
    if command == "run":
        assert json.loads((out / "run_1" / "metrics.json").read_text(encoding="utf-8"))
        assert (out / "run_1" / "report.md").read_text(encoding="utf-8").strip()
        assert not (out / "run_4" / "metrics.json").exists()
    elif command == "multiagent":
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["status"] == "interrupted"
        assert 1 <= summary["counts"]["runs_finished"] < 20
    elif command == "sweep":
        done_rows = _rows(out / "sweep.csv")
        assert 2 <= len(done_rows) < 12
        _resume_sweep(workdir, drip, done_rows)
    elif command.startswith("load"):
        kept = _rows(out / "requests.csv")
        assert sum(r["status"] == "ok" for r in kept) >= 4
        assert {r["status"] for r in kept} <= {"ok", "cancelled"}
        doc = json.loads((out / "load.json").read_text(encoding="utf-8"))
        assert doc["status"] == "interrupted"


def _resume_sweep(tmp: Path, srv: ServerThread, before: list[dict[str, str]]) -> None:
    """The same command again completes the grid, keeping the rows already there."""
    args = CASES["sweep"].line.format(url=srv.url, tmp=tmp).split()
    env = {**os.environ, "CHIMERA_HOME": str(tmp / "home")}
    again = subprocess.run(
        [sys.executable, "-m", "chimera", *args],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = _rows(tmp / "out" / "sweep.csv")
    assert len(after) == 12
    assert len({(r["point"], r["run_index"]) for r in after}) == 12
    assert after[: len(before)] == before
    assert _store_intact(tmp / "runs.db")["status"] == "ok"
