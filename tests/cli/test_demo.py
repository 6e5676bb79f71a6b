"""``chimera demo``: the README's main job, end to end on the embedded llama.cpp backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]

pytest.importorskip("llama_cpp")


@pytest.mark.slow
def test_demo_writes_model_sweep_reports_and_pages(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert cli("demo", "--output-dir", str(out), "--db", str(tmp_path / "runs.db"), "-q") == 0
    printed = capsys.readouterr().out
    assert "speedup" in printed and "efficiency" in printed and "noise" in printed
    assert (out / "model" / "tiny.gguf").is_file()
    rows = (out / "sweep" / "sweep.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 4 * 3  # header, 4 points x 3 runs
    for name in (
        "sweep/sweep.html",
        "multiagent/summary.json",
        "multiagent/summary.md",
        "multiagent/summary.html",
        "multiagent/run_1/collector_report.md",
        "multiagent/run_1/insight_report.md",
        "multiagent/run_1/combined_report.md",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "multiagent" / "summary.json").read_text(encoding="utf-8"))
    assert summary["aggregate"]["average_concurrency_speedup"] > 0
    for page in ("sweep/sweep.html", "multiagent/summary.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script" not in html and "data:image/png;base64," in html
    report = (out / "multiagent" / "run_1" / "insight_report.md").read_text(encoding="utf-8")
    assert "## Fact Check" in report and "**Backend:** llamacpp" in report
