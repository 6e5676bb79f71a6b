"""``chimera ingest``: inventory, facts, statistics and data-quality findings for a folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chimera.cli.app import app
from chimera.errors import ConfigError
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, render_digest
from chimera.ingest.export import result_json, write_facts_csv
from chimera.ingest.inventory import TYPE_LABELS, data_summary_block
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import load_settings

DEFAULT_DIRS = ("reports", "csv_data")
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def default_paths(cwd: Path) -> list[Path]:
    """The old agent's defaults: ./reports and ./csv_data, those that exist."""
    found = [cwd / d for d in DEFAULT_DIRS if (cwd / d).is_dir()]
    if not found:
        raise ConfigError(
            f"no path given and neither ./reports nor ./csv_data exists in {cwd}; run "
            f"`chimera ingest PATH` with the folder that holds your benchmark results"
        )
    return found


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to ingest (default: ./reports and ./csv_data)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print inventory, skipped, findings and stats as JSON.")
    ] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the facts table to this CSV file.")
    ] = None,
    digest: Annotated[
        bool, typer.Option("--digest", help="Print the compact digest meant for an LLM prompt.")
    ] = False,
    budget: Annotated[
        int, typer.Option(min=100, help="Token budget of --digest (estimated as chars/3.5).")
    ] = DEFAULT_BUDGET_TOKENS,
    data_summary: Annotated[
        bool, typer.Option("--data-summary", help="Print the old agent's 'Data summary' block.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="TOML file with an [ingest] table (aliases, caps, ...).")
    ] = None,
    max_file_mb: Annotated[
        float | None, typer.Option(min=0.001, help="Skip files larger than this (MB).")
    ] = None,
    first_n: Annotated[int | None, typer.Option(min=0, help="Paths listed per type.")] = None,
    show: Annotated[int, typer.Option(min=0, help="Findings shown in the summary.")] = 12,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache",
            help="Reuse the parse of files unchanged since the last ingest of these paths "
            "(kept in CHIMERA_CACHE_DIR or the user cache directory).",
        ),
    ] = True,
) -> None:
    """Read a folder of benchmark artifacts into facts, statistics and data-quality findings."""
    settings = load_settings(
        config,
        max_file_bytes=int(max_file_mb * 2**20) if max_file_mb is not None else None,
        first_n=first_n,
        cache=None if cache else False,
    )
    targets = list(paths) if paths else default_paths(Path.cwd())
    result = ingest_paths(targets, settings)
    if csv_file is not None:
        rows = write_facts_csv(result.facts, csv_file)
        note = f"wrote {rows} facts to {csv_file}"
        print(note, file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(result_json(result), indent=2, ensure_ascii=False))
        return
    if digest or data_summary:
        if data_summary:
            print(data_summary_block(result.inventory), end="")
        if digest:
            if data_summary:
                print()
            print(render_digest(result, budget), end="")
        return
    print_summary(Console(highlight=False, soft_wrap=True), result, show)


def print_summary(console: Console, r: IngestResult, show: int) -> None:
    """The human summary: inventory, skipped files, top findings, counts."""
    inv = r.inventory
    console.print(
        f"[bold]Ingested {inv.ingested} files[/] ({inv.bytes:,} bytes) under "
        f"{escape(inv.base)} in {r.timings_s.get('total', 0):.2f} s; "
        f"{inv.skipped} skipped, {inv.duplicates} duplicate copies"
        + (
            f"; {r.cached_files} files unchanged since the last ingest, their parses reused."
            if r.cached_files
            else "."
        )
    )
    t = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("type", "files", "bytes", "latest modified", "first path"):
        t.add_column(col, justify="right" if col in ("files", "bytes") else "left")
    for fmt, s in inv.types.items():
        t.add_row(
            TYPE_LABELS[fmt],
            str(s.count),
            f"{s.bytes:,}",
            s.latest_modified or "-",
            escape(s.first[0]) if s.first else "-",
        )
    console.print(t)
    dirs = sorted(inv.directories, key=lambda d: (-d.files, d.path))[:10]
    console.print(
        "[bold]Directories[/] (most files first): "
        + ", ".join(f"{escape(d.path)} {d.files}" for d in dirs)
        + (" ..." if len(inv.directories) > 10 else "")
    )
    if r.skipped:
        console.print(f"[bold]Skipped ({len(r.skipped)})[/]")
        for sk in r.skipped[:20]:
            console.print(f"  {escape(sk.path)}  [magenta]{sk.reason}[/]  {escape(sk.detail)}")
        if len(r.skipped) > 20:
            console.print(f"  ... and {len(r.skipped) - 20} more (see --json)")
    known = [f for f in r.facts if f.recognized]
    failed = sum(1 for f in known if f.failed)
    console.print(
        f"[bold]Facts[/] {len(r.facts):,} numbers ({len(known):,} of known metrics, {failed:,} "
        f"from failed runs, excluded from statistics); {len(r.models())} models; "
        f"{len(r.stats):,} statistics groups."
    )
    if r.findings:
        counts = {
            s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")
        }
        console.print(
            f"[bold]Findings[/] ({counts['error']} error, {counts['warning']} warning, "
            f"{counts['info']} info)"
        )
        for f in r.findings[:show]:
            style = _SEVERITY_STYLE[f.severity]
            console.print(f"  [{style}]{f.severity:7}[/] {f.kind}: {escape(f.title)}")
            for line in f.evidence[:2]:
                console.print(f"           [dim]{escape(line)}[/]")
        if len(r.findings) > show:
            console.print(f"  ... and {len(r.findings) - show} more (see --json)")
    if r.unrecognized:
        top = ", ".join(f"{escape(k)} ({n})" for k, n in list(r.unrecognized.items())[:8])
        console.print(
            f"[dim]Numeric fields not in the alias table: {top}. Map them in an "
            f"{escape('[ingest.aliases]')} table of a --config file.[/]"
        )
