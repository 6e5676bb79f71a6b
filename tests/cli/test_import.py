"""``chimera import``: the old demos' folders into the store, then ``chimera runs`` shows them
with their origin; --json, --dry-run, missing paths."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

Cli = Callable[..., int]


def _trees() -> ModuleType:
    path = Path(__file__).parents[1] / "legacy" / "trees.py"
    spec = importlib.util.spec_from_file_location("chimera_tests_legacy_trees_cli", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("CHIMERA_DB", str(tmp_path / "store" / "runs.db"))
    return dict(_trees().every_kind(tmp_path / "old"))


def test_import_json_then_runs_list_and_show(
    cli: Cli, old: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", str(tmp_path / "old"), "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    folders = {Path(f["path"]): f for f in doc["folders"]}
    assert {f["status"] for f in folders.values()} == {"imported"}
    python = folders[old["python"]]
    assert (python["kind"], python["origin"], python["runs"]) == ("legacy-multiagent", "python", 2)
    assert len(python["legacy_concurrency_speedups"]) == 2
    assert "legacy_speedup" in {f["kind"] for f in python["findings"]}
    assert folders[old["rust"]]["origin"] == "rust"
    assert doc["chimera_summaries"] == [str(old["chimera"] / "summary.json")]
    assert doc["skipped"] == []

    assert cli("runs", "list", "--json") == 0
    listed = {r["output_dir"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[str(old["python"])]["origin"] == "python"
    assert listed[str(old["rust_single"])]["kind"] == "legacy-run"

    assert cli("runs", "list") == 0
    out = capsys.readouterr().out
    assert "origin" in out and "legacy-multiagent" in out and "rust" in out
    # an imported run shows no duration: its times are the old files'
    assert not any("0.0s" in line for line in out.splitlines() if "legacy" in line)

    assert cli("runs", "show", python["run_id"][:10]) == 0
    out = capsys.readouterr().out
    assert "origin: python" in out and "legacy speedup" in out and "not a measurement" in out

    assert cli("runs", "export", python["run_id"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["run"]["origin"] == "python"
    assert exported["scenario_runs"][0]["concurrency_speedup"] is None
    assert exported["calls"][0]["definitions_json"]["ttft_ms"]

    # compare says an imported side keeps the old definitions
    rust = listed[str(old["rust_single"])]["id"]
    assert cli("compare", python["run_id"], rust) == 0
    out = capsys.readouterr().out
    assert "imported from the old python demo" in out and "imported from the old rust" in out


def test_import_twice_and_dry_run(
    cli: Cli, old: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", str(old["rust"]), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "would import" in out and "Dry run: nothing written" in out
    assert not (tmp_path / "store" / "runs.db").exists()
    assert cli("import", str(old["rust"])) == 0
    assert "1 imported" in capsys.readouterr().out
    assert cli("import", str(old["rust"])) == 0
    assert "1 already imported" in capsys.readouterr().out


def test_a_missing_path_is_one_line_and_exit_2(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("import", str(tmp_path / "nowhere")) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such file or directory" in err and "Traceback" not in err


def test_a_bad_file_is_listed_not_a_crash(
    cli: Cli, old: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (old["python"] / "summary.json").write_text('{"runs": [{"run_number": 1, "collector"', "utf-8")
    assert cli("import", str(tmp_path / "old"), "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"skipped {old['python'] / 'summary.json'}: not valid JSON" in out


def test_data_fact_checks_from_the_command_line(
    cli: Cli, old: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "bench.csv").write_text("model,tokens_per_s\ngemma3,12.0\ngemma3,12.0\n", "utf-8")
    assert cli("import", str(old["python"]), "--dry-run", "--json", "--data", str(data)) == 0
    [folder] = json.loads(capsys.readouterr().out)["folders"]
    [unsupported] = [f for f in folder["findings"] if f["kind"] == "legacy_unsupported_numbers"]
    assert "98.8 tok/s" in " ".join(unsupported["evidence"])
    assert cli("import", str(old["python"]), "--data", str(tmp_path / "absent")) == 2
    assert "absent: no such file or directory" in capsys.readouterr().err
