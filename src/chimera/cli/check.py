"""``chimera check``: fact-check and score any Markdown report against a folder of artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chimera.agent.check import ReportCheck, check_document, check_report
from chimera.agent.personas import get_persona, load_personas
from chimera.agent.prompts import REPORT_SECTIONS
from chimera.cli.app import app
from chimera.ingest.settings import load_settings

_SHOWN_SENTENCE = 110  # characters of a claim's sentence shown beside it


@app.command()
def check(
    report: Annotated[Path, typer.Argument(help="The Markdown report to check.")],
    data: Annotated[
        list[Path], typer.Argument(help="Files or folders of the artifacts the report is about.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the score, every claim and the junk as JSON.")
    ] = False,
    persona: Annotated[
        str,
        typer.Option(help="Persona whose word target applies (insight, collector, or --personas)."),
    ] = "insight",
    personas: Annotated[
        Path | None, typer.Option(help="TOML file with [personas.NAME] tables.")
    ] = None,
    sections: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated sections the report must have (default: the agent's six; "
            "'' for none, e.g. a team's own report)."
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Ingestion settings (TOML).")] = None,
) -> None:
    """Fact-check and score a report (by a person or any LLM) against benchmark artifacts."""
    required = (
        REPORT_SECTIONS
        if sections is None
        else tuple(s.strip() for s in sections.split(",") if s.strip())
    )
    result = check_report(
        report,
        data,
        persona=get_persona(persona, load_personas(personas)),
        required_sections=required,
        settings=load_settings(config),
    )
    if as_json:
        print(json.dumps(check_document(result), indent=2, ensure_ascii=False))
        return
    print_check(Console(highlight=False, soft_wrap=True), report, result)


def print_check(console: Console, report: Path, r: ReportCheck) -> None:
    """The human summary: unsupported numbers with the nearest facts, junk, mentions, score."""
    q = r.quality
    capped = f" (capped: {escape('; '.join(q.caps))})" if q.caps else ""
    console.print(
        f"[bold]{escape(str(report))}[/] against {r.files} files: "
        f"[bold]quality {q.total:.0f}/100[/]{capped}"
    )
    if r.note:
        console.print(f"[yellow]note:[/] {escape(r.note)}")
    _print_claims(console, r)
    console.print(
        f"\n[bold]Junk[/] ({len(r.junk)}): echoes, control tokens, stray script, repetition"
    )
    for j in r.junk:
        console.print(f"  line {j.line:>3}  [magenta]{j.kind}[/]  {escape(j.evidence)}")
    m = r.mentions
    shown = ", ".join(m.entities[:8]) + (", ..." if len(m.entities) > 8 else "")
    console.print(
        f"\n[bold]Mentions[/]: {len(m.entities)} data entities named"
        + (f" ({escape(shown)})" if m.entities else "")
        + f"; important facts covered {len(m.covered)} of {len(m.important)}"
        + (f", missing {escape(', '.join(m.missing))}" if m.missing else "")
    )
    _print_score(console, r)


def _print_claims(console: Console, r: ReportCheck) -> None:
    fc = r.factcheck
    console.print(
        f"\n[bold]Fact check[/]: {len(fc.claims)} numbers checked, {len(fc.grounded)} grounded, "
        f"{len(fc.unsupported)} unsupported; {fc.ignored} ignored (dates, ordinals, versions, "
        "names)."
    )
    seen: set[str] = set()
    for i, claim in enumerate(fc.claims):
        if claim.status != "unsupported":
            continue
        sentence = " ".join(claim.claim.sentence.split())
        if len(sentence) > _SHOWN_SENTENCE:
            sentence = sentence[: _SHOWN_SENTENCE - 3] + "..."
        raw = claim.claim.raw
        console.print(f"  line {claim.claim.line:>3}  [red]{escape(raw)}[/]  {escape(sentence)}")
        if raw in seen:
            continue  # the nearest facts of a number are shown once
        seen.add(raw)
        nearest = r.nearest.get(i, [])
        console.print(
            "            [dim]nearest facts: "
            + (escape("; ".join(nearest)) if nearest else "none in a comparable unit")
            + "[/]"
        )


def _print_score(console: Console, r: ReportCheck) -> None:
    q = r.quality
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("component", "points", "weight", "why"):
        table.add_column(column, justify="right" if column in ("points", "weight") else "left")
    for part in q.components:
        points = f"{part.score:.1f}"
        table.add_row(
            part.name,
            points if part.score >= part.weight else f"[yellow]{points}[/]",
            f"{part.weight:.0f}",
            escape(part.detail),
        )
    console.print(f"\n[bold]Score {q.total:.1f}/100[/]")
    console.print(table)
    for line in q.deductions:
        if line.startswith("cap: "):
            console.print(f"[red]{escape(line)}[/]")
