"""``chimera import``: old result folders read, judged and written to the run store, each in
one transaction under an id made from its files' hash, so importing twice adds nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from chimera.ingest.findings import Finding, sort_findings
from chimera.legacy.datacheck import check_folder, data_known
from chimera.legacy.definitions import definitions_for
from chimera.legacy.findings import folder_findings, inconsistencies, speedup_reason
from chimera.legacy.read import read_paths
from chimera.legacy.records import LegacyAgent, LegacyFolder, LegacyRun, Skipped
from chimera.store import Store
from chimera.store.readonly import present_run_ids

# "copy": the same files as a folder met earlier in this import (stored once)
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
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


def run_id_of(folder: LegacyFolder) -> str:
    """The imported run's id: the first 32 hex digits of its files' hash."""
    return folder.content_hash[:32]


def import_paths(
    paths: Sequence[Path],
    db: Path,
    *,
    dry_run: bool = False,
    data: Sequence[Path] = (),
    command: list[str] | None = None,
) -> ImportReport:
    """Find, read, judge and (unless ``dry_run``) store every old result folder in ``paths``."""
    read = read_paths(paths)
    report = ImportReport(chimera=read.chimera, skipped=read.skipped)
    known = data_known(data) if data else None
    ids = {run_id_of(f) for f in read.folders}
    present = present_run_ids(db, ids)
    store = None if dry_run or not read.folders else Store(db)
    met: set[str] = set()
    try:
        for folder in read.folders:
            run_id = run_id_of(folder)
            found = folder_findings(folder)
            if known is not None:
                found += check_folder(folder, known)
            found = sort_findings(found)
            if run_id in met:
                status: Status = "copy"
            elif run_id in present:
                status = "already imported"
            elif store is None:
                status = "would import"
            else:
                write_folder(store, folder, run_id, found, command)
                present.add(run_id)
                status = "imported"
            met.add(run_id)
            report.outcomes.append(Outcome(folder, run_id, status, found))
    finally:
        if store is not None:
            store.close()
    return report


def parse_when(text: str) -> datetime | None:
    """An old tool's timestamp: nanoseconds cut to microseconds (the Rust demo wrote
    ``...27.902651100Z``), ``Z`` read as UTC, and a time without a zone (the Python demo's
    local ``datetime.now()``) taken as UTC rather than as this machine's zone."""
    m = _STAMP.match(text.strip())
    if m is None:
        return None
    zone = m.group(3) or "+00:00"
    stamp = m.group(1) + (m.group(2) or "")[:7] + ("+00:00" if zone == "Z" else zone)
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError:
        return None


def _when(folder: LegacyFolder) -> str:
    """When the old run was made: its generated_at, else its newest file's time (UTC)."""
    when = parse_when(folder.generated_at) if folder.generated_at else None
    if when is not None:
        return when.isoformat(timespec="milliseconds")
    root = Path(folder.path)
    times = [(root / f).stat().st_mtime for f in folder.files if (root / f).exists()]
    stamp = max(times) if times else 0.0
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def _definitions(folder: LegacyFolder) -> dict[str, str]:
    return definitions_for(folder.fmt, folder.origin, folder.kind == "legacy-multiagent")


def _insert(db: Any, table: str, row: dict[str, Any]) -> int:
    cur = db.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        tuple(_json(v) if isinstance(v, dict | list) else v for v in row.values()),
    )
    return int(cur.lastrowid or 0)


def write_folder(
    store: Store,
    folder: LegacyFolder,
    run_id: str,
    found: Sequence[Finding],
    command: list[str] | None,
) -> None:
    """The folder as one run: the run, per old run each agent and its call, the scenario
    runs (multi-agent) and the findings; all in one transaction."""
    when = _when(folder)
    defs = _definitions(folder)
    settings = {
        "origin": folder.origin,
        "format": folder.fmt,
        "source": folder.path,
        "files": folder.files,
        "scenario": folder.scenario,
        "model": folder.model,
        "folder_config": folder.folder_config,
        "aggregate_as_written": folder.aggregate,
        "definitions": defs,
        "notes": folder.notes,
    }
    ok = any(a.response or a.throughput for r in folder.runs for a in r.agents)
    with store.transaction() as db:
        _insert(
            db,
            "runs",
            {
                "id": run_id,
                "kind": folder.kind,
                "label": folder.label,
                "status": "ok" if ok else "failed",
                "started_at": when,
                "finished_at": when,
                "command": command,
                "settings_json": settings,
                "output_dir": folder.path,
                "origin": folder.origin,
                "source_hash": folder.content_hash,
            },
        )
        for run in folder.runs:
            for agent in run.agents:
                _agent(db, folder, run_id, run, agent, when, defs)
            if folder.kind == "legacy-multiagent":
                _scenario_run(db, folder, run_id, run, defs)
        for f in found:
            _insert(
                db,
                "findings",
                {
                    "run_id": run_id,
                    "kind": f.kind,
                    "severity": f.severity,
                    "files_json": f.files,
                    "evidence": "\n".join([f.title, *f.evidence]),
                },
            )


def _agent(
    db: Any,
    folder: LegacyFolder,
    run_id: str,
    run: LegacyRun,
    a: LegacyAgent,
    when: str,
    defs: dict[str, str],
) -> None:
    answered = bool(a.response) or bool(a.tokens) or bool(a.throughput)
    report = str(Path(folder.path) / a.report_path) if a.report_path else None
    row = _insert(
        db,
        "agents",
        {
            "run_id": run_id,
            "agent_id": a.agent_id,
            "label": a.label,
            "persona": a.persona,
            "model": a.model,
            "backend": "ollama",
            "url": a.url,
            "options_json": a.options,
            "status": "ok" if answered else "failed",
            "report_path": report,
            "total_s": None if a.wall_ms is None else a.wall_ms / 1000.0,
            "run_number": run.run_number,
            "phase": "together" if folder.kind == "legacy-multiagent" else None,
        },
    )
    _insert(
        db,
        "calls",
        {
            "run_id": run_id,
            "agent_row": row,
            "stage": "legacy",
            "backend": "ollama",
            "url": a.url,
            "model": a.model,
            "options_json": a.options,
            "prompt": a.prompt,
            "response": a.response,
            "status": "ok" if answered else "failed",
            "error": None if answered else "the old tool recorded no answer and no tokens",
            "started_at": when,
            "repeat": run.run_number,
            "ttft_ms": a.ttft_ms,
            "e2e_ms": a.e2e_ms,
            "eval_ms": a.eval_ms,
            "load_ms": a.load_ms,
            "prompt_eval_ms": a.prompt_eval_ms,
            "output_tokens": a.tokens,
            "decode_tokens_per_s": a.throughput,
            "definitions_json": {
                "decode_tokens_per_s": defs["throughput"],
                "ttft_ms": defs["ttft_ms"],
                "e2e_ms": defs["e2e_ms"],
            },
        },
    )


def _scenario_run(
    db: Any, folder: LegacyFolder, run_id: str, run: LegacyRun, defs: dict[str, str]
) -> None:
    reasons = [speedup_reason(folder, run), *inconsistencies(run)]
    ok = all(a.response or a.throughput for a in run.agents)
    _insert(
        db,
        "scenario_runs",
        {
            "run_id": run_id,
            "run_number": run.run_number,
            "warmup": 0,
            "scenario": run.scenario or folder.scenario,
            "status": "ok" if ok else "failed",
            "agents": len(run.agents),
            "failed_agents_json": [],
            "wall_s": run.wall_s,
            "legacy_concurrency_speedup": run.legacy_speedup,
            "valid": 0,
            "invalid_reasons_json": reasons,
            "agent_times_json": {
                a.agent_id: {"together_s": None if a.wall_ms is None else a.wall_ms / 1000.0}
                for a in run.agents
            },
            "legacy_json": {
                "source": run.source,
                "written": run.written,
                "sequential_estimate_s": run.sequential_estimate_s,
                "efficiency_percent": run.efficiency_percent,
                "throughput_delta": run.throughput_delta,
                "ttft_delta_ms": run.ttft_delta_ms,
                "resource_contention_detected": run.contention,
                "definitions": defs,
            },
        },
    )
