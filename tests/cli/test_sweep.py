"""``chimera sweep`` from the command line: output, resume, errors, a real interrupt."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.backends import base
from chimera.store import Store

Cli = Callable[..., int]
SYNTHETIC = "chimera.testing.synthetic:SyntheticBackend"


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--backend synthetic``: speed a known function of the options, no server."""
    monkeypatch.setitem(base._REGISTRY, "synthetic", SYNTHETIC)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def sweep_args(out: Path, *extra: str) -> list[str]:
    return [
        "sweep",
        "--backend",
        "synthetic",
        "--model",
        "m:7b",
        "--num-gpu",
        "0,33",
        "--num-ctx",
        "512,4096",
        "--runs",
        "2",
        "--num-predict",
        "16",
        "--output-dir",
        str(out),
        *extra,
    ]


def test_sweep_prints_the_points_and_resumes(
    cli: Cli, synthetic: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    assert cli(*sweep_args(out)) == 0
    captured = capsys.readouterr()
    assert "sweep: 4 points" in captured.out
    assert "num_gpu=33, num_ctx=512" in captured.out
    assert "8 runs measured, 0 already done, 0 failed" in captured.out
    assert f"wrote {out / 'sweep.csv'} and {out / 'sweep_summary.csv'}" in captured.out
    assert "recorded as run " in captured.out
    assert captured.err == ""  # not a terminal: no progress bar
    assert len(rows(out / "sweep.csv")) == 8
    assert (tmp_path / "chimera-home" / "chimera.db").is_file()  # the default store

    assert cli(*sweep_args(out), "--runs", "3") == 0
    captured = capsys.readouterr()
    assert "resuming: 8 of 12 runs already done" in captured.err
    assert "4 runs measured, 8 already done" in captured.out
    assert len(rows(out / "sweep.csv")) == 12


def test_any_option_sweeps_with_dash_o(
    cli: Cli, synthetic: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    args = ["sweep", "--backend", "synthetic", "--model", "m", "--runs", "1", "--warmup", "0"]
    code = cli(*args, "-o", "num_batch=64,128", "--temp", "0.6,0.8", "--output-dir", str(out))
    assert code == 0, capsys.readouterr().err
    got = rows(out / "sweep.csv")
    assert [(r["temperature"], r["num_batch"]) for r in got] == [
        ("0.6", "64"),
        ("0.6", "128"),
        ("0.8", "64"),
        ("0.8", "128"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-ctx", "256,0"], "num_ctx"),
        (["--num-gpus", "1"], "No such option"),
        (["-o", "bogus=1,2"], "unknown option 'bogus'"),
        (["--mode", "fast"], "choose generate or agent"),
        (["somefile.csv"], "only read in --mode agent"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    cli: Cli,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert cli("sweep", "--output-dir", str(tmp_path / "x"), *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_sweep_that_only_fails_exits_4(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # nothing listens on this port: every call fails, each a row with its reason
    code = cli(
        "sweep", "--backend", "ollama", "--url", "http://127.0.0.1:9", "--num-ctx", "256",
        "--runs", "1", "--warmup", "0", "--output-dir", str(tmp_path / "sw"),
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 4
    assert "cannot reach the server at http://127.0.0.1:9" in captured.err
    [row] = rows(tmp_path / "sw" / "sweep.csv")
    assert row["status"] == "failed" and "cannot reach" in row["error"]


def test_ingest_reads_the_sweep_folder_back(
    cli: Cli, synthetic: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    assert cli(*sweep_args(out)) == 0
    capsys.readouterr()
    assert cli("ingest", str(out), "--csv", str(tmp_path / "facts.csv")) == 0
    text = capsys.readouterr().out
    assert "Ingested 2 files" in text and "not in the alias table" not in text
    facts = [f for f in rows(tmp_path / "facts.csv") if f["source"] == "sweep.csv"]
    assert {f["model"] for f in facts} == {"m:7b"}
    assert {f["model_from"] for f in facts} == {"field"}
    decode = [f for f in facts if f["metric"] == "tokens_per_s"]
    assert len(decode) == 8 and all(f["recognized"] == "True" for f in decode)
    assert {f["config"] for f in decode} == {
        f"num_gpu={g}, num_ctx={c}, num_predict=16, backend=synthetic"
        for g in (0, 33)
        for c in (512, 4096)
    }


def test_ctrl_c_midway_then_resume(cli: Cli, tmp_path: Path) -> None:
    """A user's interrupt: the process stops at once, finished runs stay, a re-run completes."""
    pytest.importorskip("llama_cpp")
    from chimera.models import write_tiny_gguf

    model = write_tiny_gguf(tmp_path / "t.gguf")
    out = tmp_path / "sw"
    args = [
        "sweep", "--backend", "llamacpp", "--model", str(model), "--num-ctx", "256,512",
        "--num-thread", "1,2", "--runs", "25", "--num-predict", "64", "--output-dir", str(out),
        "--db", str(tmp_path / "runs.db"),
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "chimera", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    csv_path = out / "sweep.csv"
    while time.monotonic() < deadline and proc.poll() is None:
        if csv_path.exists() and csv_path.read_text(encoding="utf-8").count("\n") >= 4:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"interrupted: the finished runs are in {csv_path}" in err
    done = rows(csv_path)
    assert 3 <= len(done) < 100
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
    assert run["status"] == "interrupted"
    assert cli(*args, "-q") == 0
    final = rows(csv_path)
    pairs = [(r["point"], r["run_index"]) for r in final]
    assert len(pairs) == 100 and len(set(pairs)) == 100
    assert final[: len(done)] == done  # the earlier rows kept as they were
    with Store(tmp_path / "runs.db") as store:
        [again] = store.runs()
    assert again["id"] == run["id"] and again["status"] == "ok"
