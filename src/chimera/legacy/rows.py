"""An old result folder made ready for the run store, as values: its run id (from its files'
hash, so importing twice adds nothing), its findings, and the rows it becomes (the run, per
old run each agent with its call, the scenario runs, the findings). The application layer
(``chimera.app.importer``) writes them, each folder in one transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chimera.agent.factcheck import KnownNumber
from chimera.ingest.findings import Finding, sort_findings
from chimera.legacy.datacheck import check_folder
from chimera.legacy.definitions import definitions_for
from chimera.legacy.findings import folder_findings, inconsistencies, speedup_reason
from chimera.legacy.records import LegacyAgent, LegacyFolder, LegacyRun

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")

Row = dict[str, Any]  # column -> value; dicts and lists are stored as JSON


@dataclass(slots=True)
class AgentRows:
    """One agent of one old run: its ``agents`` row and its one ``calls`` row (whose
    ``agent_row`` is the agents row's id, known once that row is written)."""

    agent: Row
    call: Row


@dataclass(slots=True)
class FolderRows:
    """Everything one old folder becomes in the store, each row without its ``run_id``
    (the run's own ``id`` is in ``run``) and the run without its command line."""

    run: Row
    agents: list[AgentRows] = field(default_factory=list)
    scenario_runs: list[Row] = field(default_factory=list)
    findings: list[Row] = field(default_factory=list)


def run_id_of(folder: LegacyFolder) -> str:
    """The imported run's id: the first 32 hex digits of its files' hash."""
    return folder.content_hash[:32]


def judge(folder: LegacyFolder, known: Sequence[KnownNumber] | None = None) -> list[Finding]:
    """The folder's findings, sorted; with ``known`` (the numbers of the data the old agents
    analysed, ``datacheck.data_known``) also the numbers their responses made up."""
    found = folder_findings(folder)
    if known is not None:
        found += check_folder(folder, known)
    return sort_findings(found)


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


def _definitions(folder: LegacyFolder) -> dict[str, str]:
    return definitions_for(folder.fmt, folder.origin, folder.kind == "legacy-multiagent")


def folder_rows(folder: LegacyFolder, run_id: str, found: Sequence[Finding]) -> FolderRows:
    """The folder as one run's rows: the run, per old run each agent and its call, the
    scenario runs (multi-agent) and the findings."""
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
    rows = FolderRows(
        run={
            "id": run_id,
            "kind": folder.kind,
            "label": folder.label,
            "status": "ok" if ok else "failed",
            "started_at": when,
            "finished_at": when,
            "settings_json": settings,
            "output_dir": folder.path,
            "origin": folder.origin,
            "source_hash": folder.content_hash,
        }
    )
    for run in folder.runs:
        rows.agents += [_agent(folder, run, agent, when, defs) for agent in run.agents]
        if folder.kind == "legacy-multiagent":
            rows.scenario_runs.append(_scenario_run(folder, run, defs))
    rows.findings = [
        {
            "kind": f.kind,
            "severity": f.severity,
            "files_json": f.files,
            "evidence": "\n".join([f.title, *f.evidence]),
        }
        for f in found
    ]
    return rows


def _agent(
    folder: LegacyFolder, run: LegacyRun, a: LegacyAgent, when: str, defs: dict[str, str]
) -> AgentRows:
    answered = bool(a.response) or bool(a.tokens) or bool(a.throughput)
    report = str(Path(folder.path) / a.report_path) if a.report_path else None
    agent = {
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
    }
    call = {
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
    }
    return AgentRows(agent, call)


def _scenario_run(folder: LegacyFolder, run: LegacyRun, defs: dict[str, str]) -> Row:
    reasons = [speedup_reason(folder, run), *inconsistencies(run)]
    ok = all(a.response or a.throughput for a in run.agents)
    return {
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
    }
