"""``chimera run`` from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]


def test_offline_run_writes_report_and_exits_0(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "bench.csv").write_text(
        "model,num_gpu,tokens_per_s\nm:1b,80,50.5\nm:1b,40,42.0\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)  # no path given: ./reports and ./csv_data, as the old tool
    code = cli(
        "run",
        "--backend",
        "offline",
        "--num-gpu",
        "80",
        "--temperature",
        "1",
        "--output-dir",
        "out",
        "-q",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "**Configuration:** num_gpu=80, num_ctx=default, temp=1, top_p=default" in report
    assert "wrote out/report.md" in out and "recorded as run" in out
    assert (tmp_path / "chimera-home" / "chimera.db").is_file()  # the default store (tmp)


def test_bad_option_and_persona_are_one_line_errors(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("run", str(tmp_path), "--backend", "offline", "-o", "top_p=7") == 2
    err = capsys.readouterr().err
    assert "invalid inference options: top_p" in err and "Traceback" not in err
    assert cli("run", str(tmp_path), "--backend", "offline", "--persona", "nobody") == 2
    assert "unknown persona 'nobody'; known: collector, insight" in capsys.readouterr().err


def test_failed_run_exits_nonzero(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").write_text('{"model": "m", "tokens_per_s": 3}', encoding="utf-8")
    code = cli(
        "run",
        str(tmp_path / "a.json"),
        "--backend",
        "ollama",
        "--url",
        "http://127.0.0.1:9",
        "--output-dir",
        str(tmp_path / "out"),
        "--no-store",
        "-q",
    )
    assert code == 4
    out = capsys.readouterr().out
    assert "failed: analysis call failed: cannot reach the server at http://127.0.0.1:9" in out
    assert (tmp_path / "out" / "report.md").is_file()


def test_shape_and_mode_flags_reach_metrics_json(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    (tmp_path / "a.csv").write_text("model,tokens_per_s\nm:1b,50.5\nm:1b,42.0\n", encoding="utf-8")
    out = tmp_path / "out"
    code = cli(
        "run", str(tmp_path / "a.csv"), "--backend", "offline",
        "--analysis-shape", "lines", "--report-mode", "compose",
        "--output-dir", str(out), "--no-store", "-q",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    analysis = metrics["analysis"]
    assert (analysis["shape_asked"], analysis["report_mode"]) == ("lines", "compose")
    # offline, the narrator writes the findings, and says so
    assert analysis["shape"] == "narrator" and analysis["fallback"]
    assert analysis["findings"] and all(f["facts"] for f in analysis["findings"])
    assert metrics["factsheet"].startswith("F1. ")
    assert cli("run", str(tmp_path), "--analysis-shape", "xml") == 2
    err = capsys.readouterr().err
    assert "--analysis-shape" in err and "'xml' is not one of" in err


def test_the_store_keeps_the_fact_sheet_and_the_analysis(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import sqlite3

    (tmp_path / "a.csv").write_text("model,tokens_per_s\nm:1b,50.5\nm:1b,42.0\n", encoding="utf-8")
    db = tmp_path / "runs.db"
    code = cli(
        "run", str(tmp_path / "a.csv"), "--backend", "offline",
        "--output-dir", str(tmp_path / "out"), "--db", str(db), "-q",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().out
    with sqlite3.connect(db) as con:
        factsheet, analysis = con.execute("SELECT factsheet, analysis_json FROM agents").fetchone()
    assert factsheet.startswith("F1. ")
    doc = json.loads(analysis)
    assert doc["shape"] == "narrator" and doc["findings"][0]["facts"]
