"""``chimera runs list | show | export`` over a store with a sweep and an agent run in it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.backends import base
from chimera.ingest.pipeline import ingest_paths

Cli = Callable[..., int]


@pytest.fixture
def db(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CHIMERA_DB with a sweep (2 points x 2 runs) and then an offline agent run in it."""
    path = tmp_path / "store" / "runs.db"
    monkeypatch.setenv("CHIMERA_DB", str(path))
    monkeypatch.setitem(base._REGISTRY, "synthetic", "chimera.testing.synthetic:SyntheticBackend")
    code = cli(
        "sweep", "--backend", "synthetic", "--model", "m:1b", "--num-ctx", "512,1024",
        "--runs", "2", "--label", "ctx sweep", "--output-dir", str(tmp_path / "sw"), "-q",
    )  # fmt: skip
    assert code == 0
    data = tmp_path / "data.csv"
    data.write_text("model,num_gpu,tokens_per_s\nm,80,50.5\nm,40,42.0\n", encoding="utf-8")
    code = cli("run", str(data), "--backend", "offline", "--output-dir", str(tmp_path / "r"), "-q")
    assert code == 0
    return path


def _ids(cli: Cli, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert cli("runs", "list", "--json") == 0
    return [r["id"] for r in json.loads(capsys.readouterr().out)]


def test_list_shows_the_latest_first(
    cli: Cli, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli("runs", "list") == 0
    out = capsys.readouterr().out
    assert f"runs in {db}" in out
    assert "ctx sweep" in out and "sweep" in out and "ok" in out
    assert cli("runs", "list", "--json") == 0
    kinds = [r["kind"] for r in json.loads(capsys.readouterr().out)]
    assert kinds == ["run", "sweep"]  # the agent run came last
    assert cli("runs", "list", "--json", "--kind", "sweep") == 0
    [sweep] = json.loads(capsys.readouterr().out)
    assert sweep["kind"] == "sweep" and sweep["label"] == "ctx sweep"
    assert sweep["calls"] == 2 * (1 + 2) and sweep["failed_calls"] == 0 and sweep["trials"] == 0
    assert sweep["duration_s"] >= 0 and sweep["status"] == "ok"


def test_show_a_sweep_by_prefix(cli: Cli, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, sweep = _ids(cli, capsys)
    assert cli("runs", "show", sweep[:6]) == 0
    out = capsys.readouterr().out
    assert f"run: {sweep}" in out and "kind: sweep" in out and "status: ok" in out
    assert "recorded: 0 agents, 4 calls (+2 warm-ups), 0 trials" in out
    assert "calls (warm-ups excluded)" in out and "num_ctx=1024" in out


def test_show_an_agent_run(cli: Cli, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_run, _ = _ids(cli, capsys)
    assert cli("runs", "show", agent_run, "--db", str(db)) == 0
    out = capsys.readouterr().out
    assert "kind: run" in out and "agents" in out and "insight" in out and "offline" in out
    assert "facts" in out


def test_export_json_has_everything(cli: Cli, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_run, sweep = _ids(cli, capsys)
    assert cli("runs", "export", agent_run) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["id"] == agent_run and doc["run"]["kind"] == "run"
    assert [c["stage"] for c in doc["calls"]] == ["analysis", "report"]
    assert doc["calls"][0]["prompt"] and doc["calls"][0]["response"]
    assert doc["agents"][0]["agent_id"] == "insight" and doc["facts"]
    assert cli("runs", "export", sweep, "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["calls"]) == 6 and doc["trials"] == [] and doc["scenario_runs"] == []
    assert doc["run"]["settings_json"]["runs"] == 2


def test_export_csv_is_tidy_and_ingest_reads_it(
    cli: Cli, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, sweep = _ids(cli, capsys)
    assert cli("runs", "export", sweep[:8], "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4  # the warm-ups left out
    assert [(r["point"], r["run_index"]) for r in rows] == [
        ("num_ctx=512", "1"),
        ("num_ctx=512", "2"),
        ("num_ctx=1024", "1"),
        ("num_ctx=1024", "2"),
    ]
    assert rows[0]["num_ctx"] == "512" and rows[0]["model"] == "m:1b"
    assert float(rows[0]["decode_tokens_per_s"]) > 0
    out = tmp_path / "export" / "calls.csv"
    assert cli("runs", "export", sweep[:8], "--format", "csv", "--output", str(out)) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    facts = ingest_paths([out])
    tps = [f for f in facts.facts if f.metric == "tokens_per_s"]
    assert len(tps) == 4 and {f.model for f in tps} == {"m:1b"}
    assert {dict(f.config)["num_ctx"] for f in tps} == {"512", "1024"}


def test_unknown_runs_and_missing_stores(
    cli: Cli, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli("runs", "show", "zzzz") == 2
    assert "no run 'zzzz'" in capsys.readouterr().err
    assert cli("runs", "export", "zzzz", "--format", "xml") == 2
    assert "choose json or csv" in capsys.readouterr().err
    missing = tmp_path / "nowhere.db"
    assert cli("runs", "list", "--db", str(missing)) == 0
    assert "no runs recorded yet" in capsys.readouterr().out
    assert not missing.exists()  # looking does not create a store
    assert cli("runs", "show", "abc", "--db", str(missing)) == 2
    assert f"no run store at {missing} yet" in capsys.readouterr().err
