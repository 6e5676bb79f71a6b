"""``chimera import``'s lifecycle: the old result folders are read and judged
(``legacy.read``, ``legacy.rows``) and each becomes one run in the store, written in one
transaction under an id made from its files' hash, so importing twice adds nothing; a dry run
opens no store (it only reads which runs are there already)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chimera.ingest.findings import Finding
from chimera.legacy.datacheck import data_known
from chimera.legacy.read import read_paths
from chimera.legacy.records import LegacyFolder, Skipped
from chimera.legacy.rows import FolderRows, folder_rows, judge, run_id_of
from chimera.store import Store
from chimera.store.readonly import present_run_ids

__all__ = ["ImportReport", "Outcome", "Status", "import_paths", "write_folder"]

# "copy": the same files as a folder met earlier in this import (stored once)
Status = Literal["imported", "already imported", "would import", "copy"]


@dataclass(slots=True)
class Outcome:
    folder: LegacyFolder
    run_id: str
    status: Status
    findings: list[Finding]


@dataclass(slots=True)
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)
    chimera: list[str] = field(default_factory=list)  # Chimera's own summaries, not imported
    skipped: list[Skipped] = field(default_factory=list)


def import_paths(
    paths: Sequence[Path],
    db: Path,
    *,
    dry_run: bool = False,
    data: Sequence[Path] = (),
    command: list[str] | None = None,
) -> ImportReport:
    """Find, read, judge and (unless ``dry_run``) store every old result folder in ``paths``;
    ``command`` is the command line each imported run is stored with."""
    read = read_paths(paths)
    report = ImportReport(chimera=read.chimera, skipped=read.skipped)
    known = data_known(data) if data else None
    present = present_run_ids(db, {run_id_of(f) for f in read.folders})
    store = None if dry_run or not read.folders else Store(db)
    met: set[str] = set()
    try:
        for folder in read.folders:
            run_id = run_id_of(folder)
            found = judge(folder, known)
            if run_id in met:
                status: Status = "copy"
            elif run_id in present:
                status = "already imported"
            elif store is None:
                status = "would import"
            else:
                write_folder(store, folder_rows(folder, run_id, found), command)
                present.add(run_id)
                status = "imported"
            met.add(run_id)
            report.outcomes.append(Outcome(folder, run_id, status, found))
    finally:
        if store is not None:
            store.close()
    return report


def write_folder(store: Store, rows: FolderRows, command: list[str] | None) -> None:
    """One old folder's rows as one run, all in one transaction."""
    run_id = rows.run["id"]
    with store.transaction() as db:
        _insert(db, "runs", {**rows.run, "command": command})
        for a in rows.agents:
            agent_row = _insert(db, "agents", {"run_id": run_id, **a.agent})
            _insert(db, "calls", {"run_id": run_id, "agent_row": agent_row, **a.call})
        for row in rows.scenario_runs:
            _insert(db, "scenario_runs", {"run_id": run_id, **row})
        for row in rows.findings:
            _insert(db, "findings", {"run_id": run_id, **row})


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def _insert(db: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    cur = db.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        tuple(_json(v) if isinstance(v, dict | list) else v for v in row.values()),
    )
    return int(cur.lastrowid or 0)
