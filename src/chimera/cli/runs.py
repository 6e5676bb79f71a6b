"""``chimera runs list | show ID | export ID``: what the run store holds."""

from __future__ import annotations

import csv
import io
import json
import statistics
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chimera.atomic import write_text
from chimera.cli.app import app
from chimera.errors import ConfigError
from chimera.legacy.definitions import LEGACY_SPEEDUP_WHY
from chimera.load.metrics import LevelSummary
from chimera.load.report import levels_table
from chimera.store import Store, default_db_path
from chimera.store.load import load_rows
from chimera.store.queries import (
    calls_table,
    export_document,
    list_runs,
    resolve_run,
    run_row,
    table_rows,
)

runs_app = typer.Typer(
    name="runs", help="List, show and export the runs in the run store.", no_args_is_help=True
)
app.add_typer(runs_app)

Db = Annotated[
    Path | None,
    typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
]
RunRef = Annotated[str, typer.Argument(help="Run id, or its first characters.")]


def _open(db: Path | None) -> Store:
    path = db or default_db_path()
    if not path.exists():
        raise ConfigError(
            f"no run store at {path} yet; chimera run, sweep and optimize record runs there "
            "(or pass another with --db / CHIMERA_DB)"
        )
    return Store(path)


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


@runs_app.command("list")
def list_command(
    db: Db = None,
    limit: Annotated[int, typer.Option(min=1, help="Show this many, latest first.")] = 20,
    kind: Annotated[
        str | None, typer.Option(help="Only runs of this kind (run, sweep, optimize, ...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The latest runs: id, kind, status, when (UTC), how long, calls, trials, label."""
    path = db or default_db_path()
    if not path.exists():
        print(f"no runs recorded yet (no run store at {path})")
        return
    with Store(path) as store:
        found = list_runs(store, limit=limit, kind=kind)
    if as_json:
        print(json.dumps([asdict(r) for r in found], indent=2))
        return
    console = Console(highlight=False)  # no soft wrap: the table fits the terminal's width
    if not found:
        console.print(f"no runs in {escape(str(path))}")
        return
    # Borderless, one line per run; the label gives way first: ids must stay whole to copy.
    columns = ["id", "kind", "status", "started", "took", "calls"]
    columns += ["trials"] if any(r.trials for r in found) else []
    columns += ["origin"] if any(r.origin != "chimera" for r in found) else []
    rows = [
        [
            r.id[:12],
            r.kind,
            r.status,
            r.started_at[5:16].replace("T", " "),
            # an imported run's start and end are the old tool's file times, not a duration
            _dur(r.duration_s) if r.origin == "chimera" else "-",
            f"{r.calls}" + (f" ({r.failed_calls} failed)" if r.failed_calls else ""),
            *([str(r.trials or "")] if "trials" in columns else []),
            *([r.origin] if "origin" in columns else []),
        ]
        for r in found
    ]
    # Every column keeps its full width (an id must stay whole to be copied); the label
    # gets what is left of the terminal and is cut with an ellipsis.
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    table = Table(
        box=None,
        padding=(0, 2, 0, 0),
        header_style="bold",
    )
    for col, width in zip(columns, widths, strict=True):
        right = col in ("calls", "trials", "took")
        table.add_column(col, justify="right" if right else "left", min_width=width)
    left = console.width - sum(widths) - 2 * len(columns)
    table.add_column("label", no_wrap=True, overflow="ellipsis", max_width=max(8, left))
    styles = {
        "ok": "green",
        "failed": "red",
        "stopped": "red",
        "interrupted": "yellow",
        "running": "cyan",
    }
    for r, row in zip(found, rows, strict=True):
        cells = [escape(c) for c in row]
        cells[2] = f"[{styles.get(r.status, '')}]{cells[2]}[/]"
        table.add_row(*cells, escape(r.label or ""))
    Console(highlight=False, soft_wrap=True).print(f"runs in {escape(str(path))}")
    console.print(table)


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):,.2f}" if values else "-"


def _call_groups(calls: list[dict[str, Any]]) -> Table:
    """Measured calls grouped by point and stage: counts and mean figures."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in calls:
        groups.setdefault((c.get("point") or "", c.get("stage") or ""), []).append(c)
    table = Table(title="calls (warm-ups excluded)", title_justify="left")
    for col in ("point", "stage", "ok", "failed", "decode tok/s", "TTFT ms", "e2e ms"):
        table.add_column(col, justify="left" if col in ("point", "stage") else "right")
    for (point, stage), group in groups.items():
        ok = [c for c in group if c["status"] == "ok"]

        def values(name: str, ok: list[dict[str, Any]] = ok) -> list[float]:
            return [float(c[name]) for c in ok if c.get(name) is not None]

        table.add_row(
            escape(point or "-"),
            escape(stage),
            str(len(ok)),
            str(len(group) - len(ok)),
            _mean(values("decode_tokens_per_s")),
            _mean(values("ttft_ms")),
            _mean(values("e2e_ms")),
        )
    return table


@runs_app.command("show")
def show_command(run: RunRef, db: Db = None) -> None:
    """One run: what, when and how it went; its agents, calls by point, and trials."""
    with _open(db) as store:
        run_id = resolve_run(store, run)
        row = run_row(store, run_id)
        agents = table_rows(store, "agents", run_id)
        calls = [c for c in table_rows(store, "calls", run_id) if not c.get("warmup")]
        warmups = sum(1 for c in table_rows(store, "calls", run_id) if c.get("warmup"))
        trials = table_rows(store, "trials", run_id)
        scenario_rows = table_rows(store, "scenario_runs", run_id)
        facts = len(table_rows(store, "facts", run_id))
        findings = len(table_rows(store, "findings", run_id))
        levels = load_rows(store, "load_levels", run_id) if row["kind"] == "load" else []
    console = Console(highlight=False, soft_wrap=True)
    command = row.get("command")
    for label, value in (
        ("run", run_id),
        ("kind", row["kind"]),
        ("origin", _origin(row)),
        ("label", row.get("label")),
        ("status", row["status"]),
        ("error", row.get("error")),
        ("started", row["started_at"]),
        ("finished", row.get("finished_at")),
        ("command", " ".join(command) if isinstance(command, list) else command),
        ("output", row.get("output_dir")),
        (
            "recorded",
            f"{len(agents)} agents, {len(calls)} calls (+{warmups} warm-ups), "
            f"{len(trials)} trials, {facts} facts, {findings} findings",
        ),
    ):
        if value:
            console.print(f"[bold]{label}:[/] {escape(str(value))}")
    if agents:
        table = Table(title="agents", title_justify="left")
        for col in ("agent", "label", "model", "backend", "status", "total s", "quality"):
            table.add_column(col)
        for a in agents:
            table.add_row(
                escape(a["agent_id"]),
                escape(a.get("label") or ""),
                escape(a.get("model") or ""),
                escape(a.get("backend") or ""),
                escape(a["status"]),
                "-" if a.get("total_s") is None else f"{a['total_s']:.2f}",
                "-" if a.get("quality_score") is None else f"{a['quality_score']:.0f}",
            )
        console.print(table)
    if levels:  # a chimera load run: its levels as the command printed them
        console.print(
            levels_table([LevelSummary.model_validate_json(v["summary_json"]) for v in levels])
        )
    if calls:
        console.print(_call_groups(calls))
    if any(r.get("legacy_json") for r in scenario_rows):
        console.print(_legacy_runs(scenario_rows))
        console.print(f"[yellow]legacy speedup:[/] {escape(LEGACY_SPEEDUP_WHY)}")
    if row.get("origin"):
        console.print(
            "[dim]Throughput, TTFT and e2e above are the old tool's, under its definitions "
            "(stored with each call: chimera runs export).[/]"
        )
    if trials:
        table = Table(title="trials", title_justify="left")
        for col in ("#", "point", "state", "runs ok", "decode tok/s", "TTFT ms", "objective"):
            table.add_column(col, justify="left" if col in ("point", "state") else "right")
        for t in trials:
            table.add_row(
                str(t["number"]),
                escape(t["point"]),
                escape(t["state"]),
                str(t.get("runs_ok") or 0),
                _fmt(t.get("decode_tokens_per_s")),
                _fmt(t.get("ttft_ms")),
                _fmt(t.get("objective"), 4),
            )
        console.print(table)


def _origin(row: dict[str, Any]) -> str:
    origin = row.get("origin")
    if not origin:
        return "chimera"
    return f"{origin} (the old {origin} demo's figures, imported; see docs/legacy.md)"


def _legacy_runs(rows: list[dict[str, Any]]) -> Table:
    """An imported run's old runs: their figures as written, the speedup as legacy."""
    table = Table(title="old runs (figures as the old tool wrote them)", title_justify="left")
    for col in ("run", "scenario", "wall s", "legacy speedup", "old eff. %", "figures"):
        table.add_column(col, justify="left" if col in ("scenario", "figures") else "right")
    for r in rows:
        old = r.get("legacy_json") or {}
        reasons = r.get("invalid_reasons_json") or []
        table.add_row(
            str(r["run_number"]),
            escape(r.get("scenario") or ""),
            _fmt(r.get("wall_s")),
            _fmt(r.get("legacy_concurrency_speedup")) + "x",
            _fmt(old.get("efficiency_percent") if isinstance(old, dict) else None, 1),
            escape("; ".join(reasons[1:]) or "consistent"),
        )
    return table


def _fmt(value: object, digits: int = 2) -> str:
    return "-" if value is None else f"{float(str(value)):,.{digits}f}"


def _csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buf.getvalue()


@runs_app.command("export")
def export_command(
    run: RunRef,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json: everything (prompts and responses too); csv: the measured calls, one "
            "row each, options and metrics as columns (chimera ingest reads it).",
        ),
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    db: Db = None,
) -> None:
    """Export one run as JSON (everything) or CSV (its calls)."""
    if fmt not in ("json", "csv"):
        raise typer.BadParameter("choose json or csv", param_hint="--format")
    with _open(db) as store:
        run_id = resolve_run(store, run)
        if fmt == "json":
            text = json.dumps(export_document(store, run_id), indent=2, default=str) + "\n"
        else:
            text = _csv_text(*calls_table(store, run_id))
    if output is not None:
        write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
