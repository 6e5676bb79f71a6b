"""``chimera compare`` from the command line: sweep points, labelled rows, store runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.backends import base
from chimera.store import Store
from chimera.store.load import add_level, add_requests

Cli = Callable[..., int]


@pytest.fixture
def sweep_dir(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A synthetic sweep: num_gpu 33 decodes 139/40 times as fast as num_gpu 0 (3% noise)."""
    monkeypatch.setitem(base._REGISTRY, "synthetic", "chimera.testing.synthetic:SyntheticBackend")
    out = tmp_path / "sw"
    code = cli(
        "sweep", "--backend", "synthetic", "--model", "m", "--num-gpu", "0,33", "--num-ctx",
        "512", "--runs", "5", "--output-dir", str(out), "--db", str(tmp_path / "runs.db"), "-q",
    )  # fmt: skip
    assert code == 0
    return out


def test_two_points_of_a_sweep(
    cli: Cli, sweep_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli("compare", f"{sweep_dir}@num_gpu=0", "@num_gpu=33") == 0
    out = capsys.readouterr().out
    assert f"A: {sweep_dir / 'sweep.csv'}@num_gpu=0" in out
    assert "decode_tokens_per_s (tok/s): B is better: +2" in out
    assert "ttft_ms (ms): B is better: -" in out  # all 33 layers on the GPU: shorter TTFT
    assert "output_tokens (tokens): no difference: the same value in every run" in out
    assert "95% CI" in out and "Welch p" in out and "Mann-Whitney p" in out
    assert "verdicts by Welch's t-test, two-sided, alpha 0.05" in out


def test_json_output_carries_the_figures(
    cli: Cli, sweep_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = cli(
        "compare", f"{sweep_dir}@num_gpu=0", "@num_gpu=33", "--json",
        "--metric", "decode_tokens_per_s", "--test", "mannwhitney",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    [m] = doc["metrics"]
    assert doc["test"] == "mannwhitney" and m["metric"] == "decode_tokens_per_s"
    d = m["difference"]
    assert d["a"]["n"] == 5 and d["b"]["n"] == 5
    assert d["pct_change"] == pytest.approx((139 / 40 - 1) * 100, rel=0.1)
    assert d["ci_low"] < d["diff"] < d["ci_high"]
    assert m["significant"] is True and m["p_value"] == pytest.approx(2 / 252)  # U = 25


def test_one_run_each_says_the_test_cannot_be_done(
    cli: Cli, sweep_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.csv"
    lines = (sweep_dir / "sweep.csv").read_text(encoding="utf-8").splitlines()
    one.write_text("\n".join([lines[0], lines[1], lines[6]]) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert cli("compare", f"{one}@num_gpu=0", "@num_gpu=33", "--metric", "ttft_ms") == 0
    out = capsys.readouterr().out
    assert "cannot test: n=1 on A and B" in out and "repeat the runs (--runs)" in out


def test_baseline_and_chimera_rows_of_one_file(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "config,tokens_per_s,ttft_ms\n"
        "baseline,50,100\nbaseline,51,110\nbaseline,49,90\nbaseline,50,105\n"
        "chimera,50,101\nchimera,51,109\nchimera,50,92\nchimera,49,104\n",
        encoding="utf-8",
    )
    assert cli("compare", str(path)) == 0  # the words baseline and chimera by default
    out = capsys.readouterr().out
    assert "A = baseline:" in out and "B = chimera:" in out
    assert "decode_tokens_per_s (tok/s): no significant difference (p = 1 ≥ 0.05)" in out
    assert "ttft_ms (ms): no significant difference" in out
    assert cli("compare", str(path), "--baseline", "chimera", "--chimera", "baseline") == 0
    assert "A = baseline: " + f"{path}@chimera" in capsys.readouterr().out


def test_two_runs_from_the_store(
    cli: Cli, sweep_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "runs.db")
    code = cli(
        "sweep", "--backend", "synthetic", "--model", "m", "--num-gpu", "33", "--num-ctx", "512",
        "--runs", "4", "--output-dir", str(tmp_path / "sw2"), "--db", db, "-q",
    )  # fmt: skip
    assert code == 0
    capsys.readouterr()
    assert cli("runs", "list", "--db", db, "--json") == 0
    first, second = (r["id"] for r in reversed(json.loads(capsys.readouterr().out)))
    assert cli("compare", f"{first[:8]}@num_gpu=33", second[:8], "--db", db, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["a"]["source"] == f"run {first[:12]}@num_gpu=33"
    assert doc["a"]["notes"] == ["one sample per call"]
    [tps] = [m for m in doc["metrics"] if m["metric"] == "decode_tokens_per_s"]
    assert (tps["difference"]["a"]["n"], tps["difference"]["b"]["n"]) == (5, 4)


def test_errors_are_one_line(
    cli: Cli, tmp_path: Path, sweep_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli("compare", "nosuchthing", "other", "--db", str(tmp_path / "none.db")) == 2
    assert "no such file, folder or run store" in capsys.readouterr().err
    assert cli("compare", "abc", "--db", str(tmp_path / "runs.db")) == 2
    assert "no run 'abc'" in capsys.readouterr().err
    assert cli("compare", str(sweep_dir), "x", "--baseline", "num_gpu=0") == 2
    assert "not both" in capsys.readouterr().err
    assert cli("compare", f"{sweep_dir}@num_gpu=7", "@num_gpu=0") == 2
    assert "no successful rows match" in capsys.readouterr().err


def _load_run(db: Path) -> str:
    """A load run with one level (0, c=2) of four ok, measured requests."""
    with Store(db) as store:
        run_id = store.start_run("load")
        rows = [
            {"level": 0, "idx": i, "warmup": False, "status": "ok", "ttft_ms": 30.0 + i}
            for i in range(4)
        ]
        add_requests(store, run_id, rows)
        add_level(store, run_id, {"level": 0, "label": "c=2", "summary_json": {}})
    return run_id


def test_a_load_run_and_a_sweep_run_are_refused(
    cli: Cli, sweep_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.db"
    load = _load_run(db)
    capsys.readouterr()
    assert cli("runs", "list", "--db", str(db), "--kind", "sweep", "--json") == 0
    [sweep] = [r["id"] for r in json.loads(capsys.readouterr().out)]
    assert cli("compare", load[:8], sweep[:8], "--db", str(db)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "B is worse" not in captured.err
    err = " ".join(captured.err.split())
    assert "cannot compare runs of different kinds" in err
    assert (
        f"A (run {load[:12]}) is a load run" in err
        and f"B (run {sweep[:12]}) is a sweep run" in err
    )
    assert "Compare a load run with load runs; a sweep run with sweep or optimize runs" in err
    assert cli("compare", sweep[:8], f"{load[:8]}@level=0", "--db", str(db)) == 2
    assert "cannot compare runs of different kinds" in capsys.readouterr().err


def test_a_level_the_run_does_not_have_is_named(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.db"
    load, other = _load_run(db), _load_run(db)
    assert cli("compare", f"{load}@level=7", other, "--db", str(db)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"run {load[:12]} has no level 7; its levels are 0 (c=2)" in err
    assert f"pick one with {load[:12]}@level=0" in err
    assert cli("compare", f"{load}@level=0", other, "--db", str(db)) == 0
