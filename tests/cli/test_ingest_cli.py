"""``chimera ingest``: defaults, the --json shape, --csv export, --digest, --data-summary."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]


def _tree(root: Path) -> None:
    (root / "reports").mkdir()
    (root / "csv_data").mkdir()
    (root / "reports" / "m_runs.csv").write_text(
        "model,num_ctx,ttft_s,tokens_s,error\n"
        "m:1b,2048,0.10,50,\nm:1b,2048,0.12,52,\nm:1b,2048,0,0,connection refused\n"
    )
    (root / "csv_data" / "m.json").write_text('{"model": "m:1b", "tokens_per_second": 51.0}')
    (root / "csv_data" / "blob.csv").write_bytes(bytes(range(256)) * 8)


def test_json_has_exactly_the_documented_shape(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("ingest", "--json") == 0  # no path: ./reports and ./csv_data
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["inventory", "skipped", "findings", "stats"]
    assert doc["inventory"]["types"]["csv"]["count"] == 1
    assert doc["inventory"]["types"]["csv"]["first"] == ["reports/m_runs.csv"]
    assert [(s["path"], s["reason"]) for s in doc["skipped"]] == [("csv_data/blob.csv", "binary")]
    assert {f["kind"] for f in doc["findings"]} >= {"failed_as_zeros"}
    assert all(
        set(f) == {"kind", "severity", "title", "files", "evidence"} for f in doc["findings"]
    )
    required = {
        "model",
        "config",
        "metric",
        "n",
        "mean",
        "median",
        "std",
        "min",
        "max",
        "p05",
        "p95",
        "source",
    }
    assert doc["stats"] and all(required <= set(s) for s in doc["stats"])
    [tps] = [
        s for s in doc["stats"] if s["metric"] == "tokens_per_s" and s["source"] == "m_runs.csv"
    ]
    assert (tps["model"], tps["config"], tps["n"], tps["n_failed"], tps["mean"]) == (
        "m:1b",
        {"num_ctx": "2048"},
        2,
        1,
        51.0,
    )


def test_csv_exports_the_facts_table_atomically(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _tree(tmp_path)
    out = tmp_path / "facts.csv"
    assert cli("ingest", str(tmp_path / "reports"), "--csv", str(out)) == 0
    assert f"wrote 6 facts to {out}" in capsys.readouterr().out
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == {
        "source": "m_runs.csv",
        "locator": "row 1",
        "origin": "data",
        "family": "m_runs.csv",
        "model": "m:1b",
        "model_from": "field",
        "config": "num_ctx=2048",
        "metric": "ttft_s",
        "aggregate": "",
        "value": "0.1",
        "unit": "s",
        "original_key": "ttft_s",
        "recognized": "True",
        "failed": "False",
        "failure": "",
    }
    assert [r["failed"] for r in rows].count("True") == 2
    assert not list(tmp_path.glob(".facts.csv.*"))  # no temp file left behind


def test_summary_digest_and_data_summary(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _tree(tmp_path)
    assert cli("ingest", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "Ingested 2 files" in out and "csv_data/blob.csv  binary" in out
    assert "failed_as_zeros" in out
    assert cli("ingest", str(tmp_path), "--digest", "--budget", "200") == 0
    digest = capsys.readouterr().out
    assert digest.startswith("Files: 2 read (CSV 1, JSON 1); 1 skipped (binary 1)")
    assert len(digest) <= 700
    assert cli("ingest", str(tmp_path), "--data-summary") == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "Total files analyzed: 2",
        "",
        "CSV Files (1)",
    ]


def test_no_default_folders_is_a_clear_error(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("ingest") == 2
    err = capsys.readouterr().err
    assert "neither ./reports nor ./csv_data exists" in err
    assert "chimera ingest PATH" in err


def test_missing_path_and_bad_config_are_one_line_errors(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli("ingest", str(tmp_path / "nope")) == 2  # bad input
    assert "no such file or directory; check the path" in capsys.readouterr().err
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ingest]\nbogus = 1\n")
    assert cli("ingest", str(tmp_path), "--config", str(cfg)) == 2
    assert "bogus: Extra inputs are not permitted" in capsys.readouterr().err


def test_a_second_ingest_says_its_parses_came_from_the_cache(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chimera.ingest import walk

    monkeypatch.setattr(walk, "RACY_WINDOW_NS", 0)  # the files count as settled at once
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("ingest") == 0
    assert "unchanged since the last ingest" not in capsys.readouterr().out
    assert cli("ingest") == 0
    assert "3 files unchanged since the last ingest" in capsys.readouterr().out
    assert cli("ingest", "--no-cache") == 0
    assert "unchanged since the last ingest" not in capsys.readouterr().out
    assert list((tmp_path / "chimera-home" / "cache").glob("ingest-*.pickle"))
