"""Importing into the store: kinds and origins, the old speedup kept as legacy only, the
definitions stored, idempotent, --dry-run writing nothing, --data fact-checking."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import ModuleType

from chimera.app.importer import import_paths
from chimera.store import Store
from chimera.store.queries import list_runs, table_rows

TABLES = ("runs", "agents", "calls", "scenario_runs", "findings")


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def test_import_writes_runs_with_kind_origin_and_legacy_speedup(
    tree: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "store" / "runs.db"
    report = import_paths([tmp_path / "old"], db)
    assert [o.status for o in report.outcomes] == ["imported"] * 6
    with Store(db) as store:
        runs = {r.output_dir: r for r in list_runs(store)}
        python = runs[str(tree["python"])]
        assert (python.kind, python.origin, python.calls) == ("legacy-multiagent", "python", 4)
        assert runs[str(tree["rust"])].origin == "rust"
        assert runs[str(tree["python_single"])].kind == "legacy-run"
        scen = table_rows(store, "scenario_runs", python.id)
        assert len(scen) == 2
        for s in scen:
            assert s["concurrency_speedup"] is None and s["sequential_s"] is None
            assert s["legacy_concurrency_speedup"] > 1.0 and s["valid"] == 0
            assert "not a measurement" in s["invalid_reasons_json"][0]
            assert s["legacy_json"]["efficiency_percent"] > 0
        calls = table_rows(store, "calls", python.id)
        assert calls[0]["decode_tokens_per_s"] == 44.3 and calls[0]["ttft_ms"] == 57.2
        assert "prompt_eval_duration" in calls[0]["definitions_json"]["ttft_ms"]
        rust_calls = table_rows(store, "calls", runs[str(tree["rust"])].id)
        assert "first streamed chunk" in rust_calls[0]["definitions_json"]["ttft_ms"]
        kinds = {f["kind"] for f in table_rows(store, "findings", python.id)}
        assert {"legacy_speedup", "legacy_empty_answer"} <= kinds


def test_importing_twice_adds_nothing(tree: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    import_paths([tmp_path / "old"], db)
    before = _counts(db)
    again = import_paths([tree["python"], tmp_path / "old"], db)
    assert {o.status for o in again.outcomes} == {"already imported"}
    assert _counts(db) == before


def test_the_same_folder_elsewhere_is_the_same_run(trees: ModuleType, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    first = import_paths([trees.python_multiagent(tmp_path / "a")], db)
    second = import_paths([trees.python_multiagent(tmp_path / "b" / "c")], db)
    assert second.outcomes[0].run_id == first.outcomes[0].run_id
    assert second.outcomes[0].status == "already imported"


def test_dry_run_writes_nothing(tree: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    report = import_paths([tmp_path / "old"], db, dry_run=True)
    assert {o.status for o in report.outcomes} == {"would import"}
    assert not db.exists()
    import_paths([tree["python"]], db)
    before, files = _counts(db), sorted(p.name for p in tmp_path.iterdir())
    report = import_paths([tmp_path / "old"], db, dry_run=True)
    statuses = {Path(o.folder.path): o.status for o in report.outcomes}
    assert statuses[tree["python"]] == "already imported"
    assert statuses[tree["rust"]] == "would import"
    assert _counts(db) == before and sorted(p.name for p in tmp_path.iterdir()) == files


def test_data_fact_checks_the_old_responses(trees: ModuleType, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "bench.csv").write_text(
        "model,num_ctx,tokens_per_s\ngemma3,512,98.8\ngemma3,512,98.8\n", encoding="utf-8"
    )
    folder = trees.python_multiagent(tmp_path / "old")
    report = import_paths([folder], tmp_path / "runs.db", dry_run=True, data=[data])
    assert "legacy_unsupported_numbers" not in {f.kind for f in report.outcomes[0].findings}
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    doc["runs"][1]["insight"]["response"] = "Throughput was 71.5 tok/s, TTFT 230 ms."
    (folder / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    report = import_paths([folder], tmp_path / "runs.db", dry_run=True, data=[data])
    found = {f.kind: f for f in report.outcomes[0].findings}
    unsupported = found["legacy_unsupported_numbers"]
    assert "2 numbers in 1 old responses" in unsupported.title
    assert unsupported.evidence == [
        "run 2 insight: 2 of 2 numbers unsupported, e.g. 71.5 tok/s, 230 ms"
    ]


def test_a_copy_of_a_folder_in_the_same_import_is_stored_once(
    trees: ModuleType, tmp_path: Path
) -> None:
    trees.python_multiagent(tmp_path / "old" / "a")
    trees.python_multiagent(tmp_path / "old" / "b")
    for dry_run in (True, False):
        report = import_paths([tmp_path / "old"], tmp_path / "runs.db", dry_run=dry_run)
        first = "would import" if dry_run else "imported"
        assert [o.status for o in report.outcomes] == [first, "copy"]
    assert _counts(tmp_path / "runs.db")["runs"] == 1


def test_old_timestamps_are_read_as_written(tree: dict[str, Path], tmp_path: Path) -> None:
    from chimera.legacy.rows import parse_when

    assert str(parse_when("2025-11-12T22:56:27.902651100Z")) == "2025-11-12 22:56:27.902651+00:00"
    assert str(parse_when("2025-10-09T23:17:14.137404")) == "2025-10-09 23:17:14.137404+00:00"
    assert str(parse_when("2025-10-09T23:17:14+02:00")) == "2025-10-09 21:17:14+00:00"
    assert parse_when("last tuesday") is None
    db = tmp_path / "runs.db"
    import_paths([tree["rust"]], db)
    with Store(db) as store:
        [run] = list_runs(store)
    assert run.started_at == "2025-11-12T22:56:27.902+00:00"


def test_a_folder_becomes_rows_as_values_without_a_store(trees: ModuleType, tmp_path: Path) -> None:
    from chimera.legacy.read import read_paths
    from chimera.legacy.rows import folder_rows, judge, run_id_of

    [folder] = read_paths([trees.python_multiagent(tmp_path / "old")]).folders
    rows = folder_rows(folder, run_id_of(folder), judge(folder))
    assert (rows.run["id"], rows.run["kind"]) == (run_id_of(folder), "legacy-multiagent")
    assert "command" not in rows.run  # the application layer adds the command line
    assert len(rows.agents) == 4 and len(rows.scenario_runs) == 2
    assert rows.agents[0].call["definitions_json"]["ttft_ms"]
    assert "legacy_speedup" in {f["kind"] for f in rows.findings}
    assert list(tmp_path.iterdir()) == [tmp_path / "old"]
