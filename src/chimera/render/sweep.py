"""A sweep's plots and HTML page: heatmaps of mean decode rate and TTFT over two swept options
(num_ctx x num_gpu when both were swept), and each point's distribution of runs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chimera.bench.sweep import SweepResult
from chimera.render.html import Image, Section, Table, html_page, write_html, write_plots
from chimera.render.plots import plot_distributions, plot_heatmap

METRICS = (("decode_tokens_per_s", "decode rate", "tok/s"), ("ttft_ms", "TTFT", "ms"))
PREFERRED_AXES = ("num_gpu", "num_ctx")  # rows, columns: the num_ctx x num_gpu map


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def heatmap_axes(option_names: Sequence[str]) -> tuple[str, str] | None:
    """The two options a heatmap shows (rows, columns); None with fewer than two swept."""
    if all(name in option_names for name in PREFERRED_AXES):
        return PREFERRED_AXES
    if len(option_names) >= 2:
        return option_names[0], option_names[1]
    return None


def _order(values: set[str]) -> list[str]:
    return sorted(values, key=lambda v: (_float(v) is None, _float(v) or 0.0, v))


def heatmap_matrix(
    summary: Sequence[Mapping[str, Any]], rows: str, cols: str, column: str
) -> tuple[list[list[float | None]], list[str], list[str]]:
    """Mean of ``column`` per (rows value, cols value), averaged over the other options."""
    cells: dict[tuple[str, str], list[float]] = {}
    for row in summary:
        value = _float(row.get(column))
        if value is not None:
            cells.setdefault((str(row[rows]), str(row[cols])), []).append(value)
    y = _order({k[0] for k in cells})
    x = _order({k[1] for k in cells})
    matrix = [[(sum(v) / len(v)) if (v := cells.get((r, c))) else None for c in x] for r in y]
    return matrix, x, y


def sweep_plots(result: SweepResult) -> dict[str, bytes]:
    """PNG plots of a sweep, by file name; an empty dict when nothing was measured."""
    plots: dict[str, bytes] = {}
    axes = heatmap_axes(result.option_names)
    for column, name, unit in METRICS:
        if axes is not None:
            matrix, x, y = heatmap_matrix(result.summary, axes[0], axes[1], f"{column}_mean")
            if x and y:
                plots[f"heatmap_{column}.png"] = plot_heatmap(
                    matrix,
                    x,
                    y,
                    f"Mean {name} by {axes[0]} and {axes[1]}",
                    unit,
                    x_name=axes[1],
                    y_name=axes[0],
                )
        groups: dict[str, list[float | None]] = {}
        for row in result.rows:
            if row.get("status") == "ok":
                groups.setdefault(row["point"], []).append(_float(row.get(column)))
        if any(v is not None for values in groups.values() for v in values):
            plots[f"runs_{column}.png"] = plot_distributions(
                groups, f"{name[0].upper()}{name[1:]} of each run, per point", unit
            )
    return plots


def _fmt(v: Any, digits: int = 1) -> str:
    f = _float(v)
    return "n/a" if f is None else f"{f:,.{digits}f}"


def render_sweep_html(result: SweepResult, plots: Mapping[str, bytes], title: str) -> str:
    """The sweep's page: settings, the per-point table, the plots, and failures."""
    rows = [
        [
            str(r["point"]),
            str(r.get("endpoint") or ""),
            f"{r.get('completed_runs', '')}/{r.get('total_runs', '')}",
            _fmt(r.get("decode_tokens_per_s_mean")),
            _fmt(r.get("decode_tokens_per_s_std")),
            _fmt(r.get("ttft_ms_mean"), 2),
            _fmt(r.get("ttft_ms_std"), 2),
            _fmt(r.get("e2e_ms_mean"), 2),
        ]
        for r in result.summary
    ]
    table = Table(
        [
            *("point", "endpoint", "runs", "decode tok/s mean", "± std"),
            *("TTFT ms mean", "± std", "e2e ms mean"),
        ],
        rows,
        caption="Per point, with the server it ran on (failed runs excluded)",
        numeric=frozenset({3, 4, 5, 6, 7}),
    )
    failures = [
        f"{r['point']} run {r['run_index']} on {r.get('endpoint') or '?'}: "
        f"{r.get('error') or 'failed'}"
        for r in result.rows
        if r.get("status") != "ok"
    ]
    sections = [
        Section(
            "Points",
            tables=[table],
            paragraphs=[
                f"{len(result.rows)} runs in {result.csv_path.name}; "
                f"{result.failed} failed. Status: {result.status}."
            ],
        ),
        Section(
            "Plots",
            images=[
                Image(png, alt=name.removesuffix(".png").replace("_", " "))
                for name, png in plots.items()
            ],
        ),
    ]
    if failures:
        sections.append(Section("Failed runs", errors=failures[:50]))
    meta = [("swept", ", ".join(result.option_names)), ("output", str(result.output_dir))]
    if result.endpoints:
        meta.append(("endpoints", "; ".join(result.endpoints)))
    if result.run_id:
        meta.append(("store run", result.run_id))
    return html_page(title, sections, meta=meta)


def write_sweep_html(result: SweepResult, title: str | None = None) -> list[Path]:
    """Write the sweep's PNG plots and ``sweep.html`` into its folder; returns the files."""
    plots = sweep_plots(result)
    files = write_plots(result.output_dir, plots)
    page = render_sweep_html(result, plots, title or f"Sweep: {result.output_dir.name}")
    files.append(write_html(result.output_dir / "sweep.html", page))
    return files
