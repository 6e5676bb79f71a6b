"""``chimera import PATH...``: load the old demos' result folders into the run store, judged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from chimera.app.importer import ImportReport, import_paths
from chimera.cli.app import app
from chimera.errors import ConfigError
from chimera.store import default_db_path

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Folders (or files) of old results.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print what was found as JSON.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Find, read and judge, but write nothing.")
    ] = False,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="The folder the old agents analysed: their responses' numbers are "
            "fact-checked against it (repeatable).",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    evidence: Annotated[int, typer.Option(min=0, help="Evidence lines shown per finding.")] = 2,
) -> None:
    """Import the old Python and Rust demos' results (multi-agent summary.json and run_N/
    folders, single-agent configuration folders) as runs of kind legacy-multiagent and
    legacy-run; every old speedup is kept as legacy_concurrency_speedup and flagged."""
    for path in [*paths, *(data or [])]:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory; give a folder of old results")
    store_path = db or default_db_path()
    report = import_paths(
        paths, store_path, dry_run=dry_run, data=data or [], command=["chimera", *sys.argv[1:]]
    )
    if as_json:
        print(json.dumps(report_document(report, store_path, dry_run), indent=2, default=str))
    else:
        _print(Console(highlight=False, soft_wrap=True), report, store_path, dry_run, evidence)


def report_document(report: ImportReport, store: Path, dry_run: bool) -> dict[str, Any]:
    """What ``--json`` prints: each folder with its run id, status, runs and findings."""
    return {
        "store": str(store),
        "dry_run": dry_run,
        "folders": [
            {
                "path": o.folder.path,
                "run_id": o.run_id,
                "status": o.status,
                "kind": o.folder.kind,
                "origin": o.folder.origin,
                "format": o.folder.fmt,
                "model": o.folder.model,
                "scenario": o.folder.scenario,
                "configuration": o.folder.folder_config,
                "runs": len(o.folder.runs),
                "legacy_concurrency_speedups": [
                    r.legacy_speedup for r in o.folder.runs if r.legacy_speedup is not None
                ],
                "notes": o.folder.notes,
                "findings": [f.model_dump() for f in o.findings],
            }
            for o in report.outcomes
        ],
        "chimera_summaries": report.chimera,
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
    }


def _print(
    console: Console, report: ImportReport, store: Path, dry_run: bool, evidence: int
) -> None:
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        f = o.folder
        console.print(
            f"[bold]{escape(o.status)}[/] {o.run_id[:12]}  {escape(f.kind)} {escape(f.origin)}  "
            f"{len(f.runs)} run(s)  {escape(f.label)}\n  {escape(f.path)}"
        )
        for finding in o.findings:
            style = _SEVERITY_STYLE[finding.severity]
            console.print(f"  [{style}]{finding.severity}[/] {escape(finding.title)}")
            for line in finding.evidence[:evidence]:
                console.print(f"    {escape(line)}", overflow="ellipsis", no_wrap=True)
    for path in report.chimera:
        console.print(f"[cyan]not imported[/] {escape(path)}: Chimera's own summary, already a run")
    for s in report.skipped:
        console.print(f"[red]skipped[/] {escape(s.path)}: {escape(s.reason)}")
    multi = [o for o in report.outcomes if o.folder.kind == "legacy-multiagent"]
    speedups = sum(1 for o in multi for r in o.folder.runs if r.legacy_speedup is not None)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no old results found"
    origins: dict[str, int] = {}
    for o in report.outcomes:
        origins[o.folder.origin] = origins.get(o.folder.origin, 0) + 1
    if origins:
        summary += " (" + ", ".join(f"{o} {n}" for o, n in sorted(origins.items())) + ")"
    console.print(
        f"\n{summary}; {sum(len(o.folder.runs) for o in multi)} multi-agent runs, {speedups} "
        f"old speedups kept as legacy_concurrency_speedup and flagged; "
        f"{len(report.skipped)} skipped. "
        + ("Dry run: nothing written." if dry_run else f"Store: {escape(str(store))}")
    )
