"""``chimera multiagent`` from the command line: the old tool's flags, files, errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chimera.testing import ServerThread, TestServerConfig

Cli = Callable[..., int]
ANSWER = (
    "## Executive Summary\nTwo rows.\n\n## Key Findings\n- 100.5 tok/s.\n\n"
    "## Recommendations\n1. Repeat.\n"
)
TIMED = TestServerConfig(
    models=["gemma3:latest"], responses=[ANSWER], prefill_ms=40, token_interval_ms=2
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "bench.csv").write_text(
        "model,num_gpu,tokens_per_s\ngemma3:latest,80,50.5\ngemma3:latest,40,42.0\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # no path given: ./reports and ./csv_data, as the old tool
    return tmp_path


def chat_options(srv: ServerThread) -> list[Any]:
    return [
        (r.body or {}).get("options")
        for r in srv.requests
        if r.path == "/api/chat" and (r.body or {}).get("messages")
    ]


def test_old_flags_baseline_vs_chimera(
    cli: Cli, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(TIMED) as a, ServerThread(TIMED) as b:
        code = cli(
            "multiagent",
            "--scenario", "baseline_vs_chimera",
            "--runs", "1",
            "--model", "gemma3:latest",
            "--output-dir", "out",
            "--collector-ollama-url", a.url,
            "--insight-ollama-url", b.url,
            "--chimera-num-gpu", "80",
            "--chimera-num-ctx", "1024",
            "--chimera-temperature", "1",
            "--backend", "ollama",
        )  # fmt: skip
        sent_a, sent_b = chat_options(a), chat_options(b)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "run_1: speedup " in out and "no contention" in out
    assert "wrote out/: summary.json, summary.md" in out and "recorded as run " in out
    assert "wrote out/run_1/: collector_report.md, insight_report.md, combined_report.md" in out
    # the default warm-up run, then run 1: 2 phases x 2 calls each
    assert all(o is None for o in sent_a) and len(sent_a) == 8
    assert all(o == {"num_gpu": 80, "num_ctx": 1024, "temperature": 1.0} for o in sent_b[1:])
    for name in ("collector_report.md", "insight_report.md", "combined_report.md", "metrics.json"):
        assert (workdir / "out" / "run_1" / name).is_file()
    summary = json.loads((workdir / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "baseline_vs_chimera"
    assert summary["aggregate"]["average_concurrency_speedup"] == pytest.approx(2.0, rel=0.1)


def test_hetero_sends_each_option_set_to_its_agent(
    cli: Cli, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(TIMED) as srv:
        code = cli(
            "multiagent",
            "--scenario", "chimera_hetero",
            "--runs", "1",
            "--output-dir", "out",
            "--collector-ollama-url", srv.url,
            "--insight-ollama-url", srv.url,
            "--chimera-top-p", "0.9",
            "--chimera-top-k", "40",
            "--chimera2-repeat-penalty", "1.1",
            "--chimera2-num-ctx", "512",
            "--chimera2-option", "seed=7",
            "--max-in-flight", "1",
            "--no-preload",
            "--no-store",
            "-q",
        )  # fmt: skip
        bodies = [r.body for r in srv.requests if r.path == "/api/chat" and r.body]
        peak = srv.max_in_flight
    out = capsys.readouterr().out
    assert code == 0, out
    assert peak == 1 and "contention" in out and "recorded as run" not in out
    by_persona: dict[str, set[str]] = {}
    for body in bodies:
        persona = "collector" if "DataCollector" in body["messages"][0]["content"] else "insight"
        by_persona.setdefault(persona, set()).add(json.dumps(body["options"], sort_keys=True))
    assert by_persona == {
        "collector": {'{"top_k": 40, "top_p": 0.9}'},
        "insight": {'{"num_ctx": 512, "repeat_penalty": 1.1, "seed": 7}'},
    }
    combined = (workdir / "out" / "run_1" / "combined_report.md").read_text(encoding="utf-8")
    assert "- Contention Detected: Yes" in combined


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "both"], "choose baseline_vs_chimera, chimera_hetero, chimera_homo"),
        (["--backend", "vllm"], "unknown backend kind 'vllm'; known kinds: auto, llamacpp"),
        (["--scenario", "chimera_homo", "--scenario-file", "s.toml"], "not both"),
        (["--scenario-file", "s.toml", "--chimera-num-gpu", "8"], "set each agent's options"),
        (["--scenario-file", "missing.toml"], "cannot read the scenario file missing.toml"),
        (["--chimera-option", "top_p=7"], "invalid --chimera-* options: top_p"),
        (["--runs", "0"], "Invalid value for '--runs'"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    cli: Cli,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    (workdir / "s.toml").write_text('[[agents]]\npersona = "collector"\n', encoding="utf-8")
    assert cli("multiagent", "--backend", "offline", *args) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.replace("│", " ").split()) and "Traceback" not in err


def test_unreachable_server_fails_its_agent_and_exits_4(
    cli: Cli, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(TIMED) as a:
        code = cli(
            "multiagent",
            "--runs", "1",
            "--output-dir", "out",
            "--collector-ollama-url", a.url,
            "--insight-ollama-url", "http://127.0.0.1:9",
            "--backend", "ollama",
            "-q",
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 4
    assert "run_1: failed: insight (alone: analysis call failed: cannot reach" in out
    assert "1 of 1 runs failed" in out
    assert "note: preload of gemma3:latest for insight failed: cannot reach" in out
    summary = json.loads((workdir / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["agent_runs_failed"] == 1
    [note] = summary["notes"]
    assert note.startswith("preload of gemma3:latest for insight failed: cannot reach")
    assert (workdir / "out" / "run_1" / "collector_report.md").is_file()


def test_ctrl_c_keeps_finished_runs_and_the_summary(workdir: Path) -> None:
    env = {**os.environ, "CHIMERA_DB": str(workdir / "runs.db")}
    with ServerThread(TIMED) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chimera", "multiagent", "--runs", "50", "--output-dir",
             "out", "--collector-ollama-url", srv.url, "--insight-ollama-url", srv.url,
             "--backend", "ollama"],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not (workdir / "out" / "summary.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    summary = json.loads((workdir / "out" / "summary.json").read_text(encoding="utf-8"))
    finished = summary["counts"]["runs_finished"]
    assert summary["status"] == "interrupted" and 1 <= finished < 50
    assert f"interrupted: {finished} of 50 runs finished" in stdout
    assert (workdir / "out" / f"run_{finished}" / "combined_report.md").is_file()
    assert not (workdir / "out" / f"run_{finished + 1}").exists()
    assert "Traceback" not in stderr


def test_auto_without_a_server_says_it_ran_offline(
    cli: Cli, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://127.0.0.1:9"
    code = cli(
        "multiagent", "--runs", "1", "--output-dir", "out", "--no-store", "-q",
        "--collector-ollama-url", url, "--insight-ollama-url", url,
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("note: No Ollama server answered at http://127.0.0.1:9") == 1
    report = (workdir / "out" / "run_1" / "collector_report.md").read_text(encoding="utf-8")
    assert "**Backend:** offline" in report and "No Ollama server answered" in report
