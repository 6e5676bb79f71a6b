"""``chimera optimize`` from the command line, on a backend whose speed is known."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.backends import base

Cli = Callable[..., int]

pytest.importorskip("optuna")


@pytest.fixture(autouse=True)
def synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base._REGISTRY, "synthetic", "chimera.testing.synthetic:SyntheticBackend")


ARGS = ["optimize", "--backend", "synthetic", "--model", "m", "--num-predict", "16"]


def test_best_configuration_with_its_uncertainty(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    code = cli(*ARGS, "--num-gpu", "0:40", "--num-ctx", "512,16384", "--trials", "12", "--db", db)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "12 trials" in out and "objective: decode tokens/s (higher is better)" in out
    assert "best configuration:" in out and "num_ctx=512" in out
    assert "decode tokens/s: " in out and "sd, 95% CI [" in out and "n=" in out
    assert "recorded as run" in out
    assert cli("runs", "list", "--db", db, "--json") == 0
    [run] = json.loads(capsys.readouterr().out)
    assert run["kind"] == "optimize" and run["trials"] == 12


def test_json_pareto(cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        *ARGS, "--num-gpu", "0:40", "--num-ctx", "512,4096", "--objective", "pareto",
        "--trials", "6", "--runs", "2", "--no-store", "--json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["objective"] == "pareto" and len(doc["trials"]) == 6 and doc["run_id"] is None
    assert doc["best"] and all(b["objective"] is None for b in doc["best"])


def test_a_single_run_says_there_is_no_ci(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(*ARGS, "--num-ctx", "512,4096", "--trials", "2", "--runs", "1", "--no-store")
    assert code == 0
    assert "n=1: no spread or CI; raise --runs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-gpu", "0:8", "--objective", "fastest"], "choose throughput, ttft, mix or pareto"),
        ([], "give at least one option to search"),
        (["--num-gpu", "9:0"], "LOW must not exceed HIGH"),
        (["--weight", "2", "--num-gpu", "0:8"], "--weight"),
    ],
)
def test_bad_arguments(
    cli: Cli, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert cli(*ARGS, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
