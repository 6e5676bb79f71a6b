"""``chimera compare A B``: two samples of runs, metric by metric, with a plain verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chimera.bench.compare import Comparison, TestName, compare_sides
from chimera.bench.sides import load_side, split_ref
from chimera.cli.app import app
from chimera.errors import ConfigError
from chimera.stats import Summary
from chimera.store import Store, default_db_path


class LazyStore:
    """Opens the run store only when a side names a run (comparing CSVs needs none)."""

    def __init__(self, db: Path | None) -> None:
        self.path = db or default_db_path()
        self.store: Store | None = None

    def __call__(self) -> Store:
        if self.store is None:
            if not self.path.exists():
                raise ConfigError(
                    f"no such file, folder or run store ({self.path} does not exist); runs "
                    "are recorded by chimera run, sweep and optimize (--db / CHIMERA_DB)"
                )
            self.store = Store(self.path)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _num(value: float, digits: int, sign: bool = False) -> str:
    return f"{value:{'+' if sign else ''},.{digits}f}"


def _side(s: Summary, digits: int) -> str:
    sd = f" ± {_num(s.std, digits)} sd" if s.std is not None else ""
    return f"{_num(s.mean, digits)}{sd} (n={s.n})"


def _digits(metric: str, scale: float) -> int:
    if metric.endswith("tokens"):
        return 0
    return 1 if abs(scale) >= 100 else (2 if abs(scale) >= 1 else 4)


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value >= 0.001 else "< 0.001"


def comparison_lines(result: Comparison) -> list[str]:
    """The comparison as Rich-markup lines: sides, then three lines per metric."""
    lines = []
    for side, name in ((result.a, "A"), (result.b, "B")):
        said = f" ({'; '.join(side.notes)})" if side.notes else ""
        named = "" if side.label == name else f" = {escape(side.label)}"
        lines.append(f"[bold]{name}[/]{named}: {escape(side.source + said)}")
    for m in result.metrics:
        unit = f" ({m.unit})" if m.unit else ""
        style = "green" if m.significant else ("yellow" if m.significant is None else "")
        verdict = f"[{style}]{escape(m.verdict)}[/]" if style else escape(m.verdict)
        lines.append("")
        lines.append(f"[bold]{escape(m.metric)}[/]{unit}: {verdict}")
        d = m.difference
        if d is None:
            continue
        digits = _digits(m.metric, d.a.mean)
        lines.append(f"  A {_side(d.a, digits)}   B {_side(d.b, digits)}")
        parts = [f"B-A {_num(d.diff, digits, True)}"]
        if d.pct_change is not None:
            parts[0] += f" ({d.pct_change:+.1f}%)"
        if d.ci_low is not None and d.ci_high is not None:
            ci = f"[{_num(d.ci_low, digits, True)}, {_num(d.ci_high, digits, True)}]"
            parts.append(f"{result.confidence:.0%} CI {ci}")
        if d.welch_p is not None:
            parts.append(f"Welch p {_p(d.welch_p)}")
            parts.append(f"Mann-Whitney p {_p(d.mannwhitney_p)}")
        if d.cohen_d is not None:
            parts.append(f"Cohen's d {d.cohen_d:+.2f} ({m.effect})")
        lines.append("  " + "; ".join(parts))
    notes: dict[str, list[str]] = {}
    for m in result.metrics:
        for note in m.notes:
            notes.setdefault(note, []).append(m.metric)
    test = "Welch's t-test" if result.test == "welch" else "the Mann-Whitney U test"
    lines.append("")
    lines.append(f"verdicts by {test}, two-sided, alpha {result.alpha:g}")
    for note, metrics in notes.items():
        lines.append(f"[dim]note ({escape(', '.join(metrics))}): {escape(note)}[/]")
    return lines


@app.command()
def compare(
    a: Annotated[
        str,
        typer.Argument(
            help="A: a run id (or prefix), a sweep folder or CSV, optionally @NAME=VALUE,... "
            "to pick rows (e.g. chimera_sweep@num_ctx=256)."
        ),
    ],
    b: Annotated[
        str | None,
        typer.Argument(help="B, like A; @NAME=VALUE alone reuses A's sweep or CSV."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="With one sweep/CSV: the rows of A (NAME=VALUE,... or a label)."),
    ] = None,
    chimera: Annotated[
        str | None,
        typer.Option(help="With one sweep/CSV: the rows of B (NAME=VALUE,... or a label)."),
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="Compare only this metric (repeatable).")
    ] = None,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="Significance level.")] = 0.05,
    test: Annotated[
        str, typer.Option(help="The test that decides the verdict: welch or mannwhitney.")
    ] = "welch",
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Compare two runs, two sweep points, or baseline and chimera rows of one sweep.

    Per metric: means, % change, 95% CI of the difference, Welch and Mann-Whitney p-values,
    Cohen's d, and a verdict ("no significant difference" when p >= alpha).
    """
    if test not in ("welch", "mannwhitney"):
        raise typer.BadParameter("choose welch or mannwhitney", param_hint="--test")
    chosen: TestName = "welch" if test == "welch" else "mannwhitney"
    if b is None or baseline is not None or chimera is not None:
        if b is not None:
            raise typer.BadParameter("give B, or --baseline/--chimera with one sweep, not both")
        target, sel = split_ref(a)
        if sel:
            raise typer.BadParameter("with --baseline/--chimera give the sweep without @")
        refs = [
            (f"{target}@{baseline or 'baseline'}", "baseline"),
            (f"{target}@{chimera or 'chimera'}", "chimera"),
        ]
    else:
        refs = [(a, "A"), (b, "B")]
    store = LazyStore(db)
    try:
        side_a = load_side(refs[0][0], refs[0][1], store)
        side_b = load_side(refs[1][0], refs[1][1], store, default_target=split_ref(a)[0])
    finally:
        store.close()
    result = compare_sides(side_a, side_b, alpha=alpha, test=chosen, metrics=metric)
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        console = Console(highlight=False, soft_wrap=True)
        for line in comparison_lines(result):
            console.print(line)
