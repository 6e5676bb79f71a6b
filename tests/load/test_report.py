"""The terminal's view of a load run: a level cut short, and a run that is not ok, say so."""

from __future__ import annotations

from rich.console import Console

from chimera.load.metrics import LevelSummary, summarize
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.report import LoadReport, RunStatus, render
from chimera.load.spec import LoadLevel


def _summary(i: int, *, interrupted: bool = False, stopped: str | None = None) -> LevelSummary:
    run = LevelRun(i, LoadLevel(concurrency=2), wall_s=1.0, interrupted=interrupted)
    run.stopped = stopped
    for k in range(4):
        r = RequestRecord(index=k, level=i, warmup=False, status="ok", sent_s=k * 0.1)
        r.done_s, r.ttft_ms, r.e2e_ms = k * 0.1 + 0.2, 20.0, 200.0
        run.records.append(r)
    if interrupted:
        for k in range(4, 7):
            run.records.append(RequestRecord(index=k, level=i, warmup=False, status="cancelled"))
    return summarize(run)


def _shown(levels: list[LevelSummary], status: RunStatus = "ok") -> str:
    report = LoadReport(
        chimera_version="t", started_at="now", backend="ollama", url="http://127.0.0.1:1",
        model="m", settings={}, prompts={"source": "synthetic"}, levels=levels, status=status,
    )  # fmt: skip
    console = Console(width=160, highlight=False)
    with console.capture() as capture:
        console.print(render(report))
    return capture.get()


def test_a_level_cut_by_ctrl_c_is_marked_in_the_table() -> None:
    shown = _shown([_summary(0), _summary(1, interrupted=True)], "interrupted")
    level_0, level_1 = (line for line in shown.splitlines() if line.lstrip()[:2] in ("0 ", "1 "))
    assert "interrupted: 3 requests cancelled" in level_1
    assert "interrupted" not in level_0
    assert "status: interrupted" in shown


def test_one_interrupted_level_says_so_in_detail() -> None:
    shown = _shown([_summary(0, interrupted=True)], "interrupted")
    assert "interrupted: 3 requests cancelled; the figures cover the requests that" in shown


def test_a_run_stopped_by_a_dead_server_says_its_status() -> None:
    stopped = "stopped: 5 connections in a row failed (refused)"
    shown = _shown([_summary(0), _summary(1, stopped=stopped)], "stopped")
    assert "status: stopped: a level stopped early: the server stopped answering" in shown
    assert "level 1: " + stopped in shown
    assert "status:" not in _shown([_summary(0)])  # an ok run adds nothing
