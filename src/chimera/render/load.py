"""``load.html``: a load run's levels, latency against load, a timeline and distributions.

Pure plots (records in, PNG bytes out) drawn like ``render.plots``; the page is built from
``render.html``'s sections. matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chimera.load.metrics import LevelSummary
from chimera.load.records import RequestRecord
from chimera.load.report import LoadReport, interrupted_note
from chimera.render.html import Image, Section, Table, html_page, write_html, write_plots
from chimera.render.plots import PALETTE, WIDE_IN, _figure, _png, plot_distributions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FAILED_COLOR = "#cc2222"


def _short(s: LevelSummary) -> str:
    if s.concurrency is not None:
        return f"c={s.concurrency}"
    return "trace" if s.requested_rate_rps is None else f"{s.requested_rate_rps:.3g}/s"


def plot_latency_vs_load(levels: Sequence[LevelSummary]) -> bytes:
    """TTFT p50 and p99, e2e p99 (ms) and output tokens/s against the request rate each
    level achieved (dispatched; labels give what was asked): where latency turns up is the
    knee."""
    pts = sorted(
        (s for s in levels if s.achieved_rate_rps and s.ttft_ms.n),
        key=lambda s: s.achieved_rate_rps or 0.0,
    )
    if len(pts) < 2:
        raise ValueError("latency against load needs two levels with ok requests")
    x = [s.achieved_rate_rps or 0.0 for s in pts]
    with _figure(6.0, width=WIDE_IN) as fig:
        ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
        for i, (name, values) in enumerate(
            (
                ("TTFT p50", [s.ttft_ms.p50 for s in pts]),
                ("TTFT p99", [s.ttft_ms.p99 for s in pts]),
                ("e2e p99", [s.e2e_ms.p99 for s in pts]),
            )
        ):
            ax.plot(x, values, marker="o", color=PALETTE[i], label=name)
        for s, xi in zip(pts, x, strict=True):
            ax.annotate(
                _short(s) + (" (interrupted)" if s.interrupted else ""),
                (xi, s.ttft_ms.p99 or 0.0),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
            )
        ax.set_ylabel("ms")
        ax.set_title("Latency against load (requests per second achieved)")
        ax.legend(loc="upper left")
        ax2.plot(x, [s.output_tokens_per_s or 0.0 for s in pts], marker="o", color=PALETTE[3])
        ax2.set_ylabel("output tok/s")
        ax2.set_xlabel("requests / s achieved")
        return _png(fig)


def level_starts(records: Sequence[RequestRecord]) -> dict[int, float]:
    """Each level's start on one clock: levels run one after another, so a level starts
    where the one before ended (its last request's end)."""
    ends: dict[int, float] = {}
    for r in records:
        ends[r.level] = max(ends.get(r.level, 0.0), r.done_s)
    starts, t = {}, 0.0
    for level in sorted(ends):
        starts[level] = t
        t += ends[level]
    return starts


def plot_timeline(records: Sequence[RequestRecord]) -> bytes:
    """Every request's TTFT at the time it was sent, failed requests on a row of their own
    at the time they were sent, and the requests in flight, levels end to end."""
    if not records:
        raise ValueError("no requests to plot")
    with _figure(5.5, width=WIDE_IN) as fig:
        draw_timeline(fig, records)
        return _png(fig)


def draw_timeline(fig: Figure, records: Sequence[RequestRecord]) -> None:
    starts = level_starts(records)
    bad = [r for r in records if r.status == "failed"]
    # a failed request has no TTFT to plot: it gets its own row, never a fake 0 ms
    ratios = [2.0, 0.35, 1.0] if bad else [2.0, 1.0]
    axes = fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios)
    ax, ax2 = axes[0], axes[-1]
    timed = [r for r in records if r.status == "ok" and r.ttft_ms]
    for level in sorted(starts):
        rows = [r for r in timed if r.level == level and not r.warmup]
        ax.scatter(
            [starts[level] + r.sent_s for r in rows],
            [r.ttft_ms or 0 for r in rows],
            s=6,
            color=PALETTE[level % len(PALETTE)],
            label=f"level {level}",
        )
    warm = [r for r in timed if r.warmup]  # left out of the figures: drawn hollow, apart
    if warm:
        ax.scatter(
            [starts[r.level] + r.sent_s for r in warm],
            [r.ttft_ms or 0 for r in warm],
            s=8,
            facecolors="none",
            edgecolors="grey",
            linewidths=0.6,
            label="warm-up",
        )
    ax.set_ylabel("TTFT ms")
    fig.suptitle("Timeline: TTFT of each request when sent; failed requests when sent; in flight")
    # above the panel, never over its points
    ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False,
        ncols=min(7, len(starts) + bool(warm)),
    )  # fmt: skip
    if bad:
        rug = axes[1]
        rug.scatter(
            [starts[r.level] + r.sent_s for r in bad],
            [0.0] * len(bad),
            marker="|",
            s=60,
            linewidths=1.5,
            color=FAILED_COLOR,
            label="failed",
        )
        rug.set_yticks([0.0], ["failed"])
        rug.tick_params(axis="y", colors=FAILED_COLOR)
    events = sorted(
        [(starts[r.level] + r.sent_s, 1) for r in records]
        + [(starts[r.level] + r.done_s, -1) for r in records]
    )
    xs, ys, n = [0.0], [0], 0
    for t, step in events:
        n += step
        xs.append(t)
        ys.append(n)
    ax2.step(xs, ys, where="post", color=PALETTE[1])
    ax2.set_ylabel("in flight")
    ax2.set_xlabel("seconds")


SERVER_FIGURES = (
    ("requests_running", "running"),
    ("requests_waiting", "waiting"),
    ("kv_cache_usage", "KV cache use"),
    ("on_cpu_bytes", "model bytes on the CPU"),
    ("gpu_memory_used_bytes", "GPU memory used"),
    ("gpu_utilization_percent", "GPU use %"),
)


def plot_server(levels: Sequence[LevelSummary], starts: dict[int, float]) -> bytes:
    """What the server said through the run (its /metrics, Ollama's /api/ps), levels end
    to end on the timeline's clock: one panel per figure it gave."""
    shown = [
        (key, name)
        for key, name in SERVER_FIGURES
        if any(key in row for s in levels for row in s.telemetry)
    ]
    if not shown:
        raise ValueError("the server gave no figures to plot")
    with _figure(1.2 + 1.6 * len(shown), width=WIDE_IN) as fig:
        axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (key, name) in zip(axes, shown, strict=True):
            for s in levels:
                rows = [r for r in s.telemetry if isinstance(r.get(key), int | float)]
                ax.plot(
                    [starts.get(s.level, 0.0) + r["t_s"] for r in rows],
                    [r[key] for r in rows],
                    drawstyle="steps-post",
                    color=PALETTE[s.level % len(PALETTE)],
                )
            ax.set_ylabel(name)
        axes[0].set_title("The server through the run")
        axes[-1].set_xlabel("seconds")
        return _png(fig)


def load_plots(report: LoadReport, records: Sequence[RequestRecord]) -> dict[str, bytes]:
    plots: dict[str, bytes] = {}
    if sum(1 for s in report.levels if s.achieved_rate_rps and s.ttft_ms.n) >= 2:
        plots["latency_vs_load.png"] = plot_latency_vs_load(report.levels)
    if records:
        plots["timeline.png"] = plot_timeline(records)
        figures = {k for s in report.levels for row in s.telemetry for k in row}
        if figures & {key for key, _ in SERVER_FIGURES}:
            plots["server.png"] = plot_server(report.levels, level_starts(records))
    labels = {s.level: s.label for s in report.levels}
    shown = [("ttft_ms", "TTFT"), ("e2e_ms", "End to end")]
    if any(r.ttfot_ms not in (None, r.ttft_ms) for r in records if r.status == "ok"):
        shown.insert(1, ("ttfot_ms", "Time to the answer's first token"))  # after reasoning
    for field, name in shown:
        groups: dict[str, list[float | None]] = {}
        for r in records:
            if r.counted and r.status == "ok":
                groups.setdefault(labels.get(r.level, str(r.level)), []).append(getattr(r, field))
        if any(v is not None for vs in groups.values() for v in vs):
            plots[f"{field}.png"] = plot_distributions(groups, f"{name} of each request", "ms")
    return plots


def _f(v: float | int | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _level_notes(s: LevelSummary) -> str:
    """The levels table's last cell: what makes a level's row read differently."""
    notes = [
        "stopped: the server stopped answering" if s.stopped else None,
        interrupted_note(s),
        "generator saturated" if s.generator.saturated else None,
        "over-saturated" if s.over_saturated else None,
    ]
    return "; ".join(n for n in notes if n)


def render_load_html(report: LoadReport, plots: dict[str, bytes]) -> str:
    rows = [
        [
            str(s.level),
            s.label,
            _f(s.requested_rate_rps, 2),
            _f(s.achieved_rate_rps, 2),
            str(s.requests_ok),
            str(s.requests_failed),
            _f(s.mean_concurrency, 2),
            _f(s.output_tokens_per_s),
            _f(s.ttft_ms.p50),
            _f(s.ttft_ms.p99),
            _f(s.itl_ms.p99),
            _f(s.tpot_ms.p50),
            _f(s.e2e_ms.p99),
            _f(s.goodput_rps, 2),
            _level_notes(s),
        ]
        for s in report.levels
    ]
    table = Table(
        [
            "#",
            "load",
            "requested req/s",
            "achieved req/s",
            "ok",
            "failed",
            "in flight",
            "out tok/s",
            "TTFT p50",
            "TTFT p99",
            "ITL p99",
            "TPOT p50",
            "e2e p99",
            "goodput",
            "notes",
        ],
        rows,
        caption="Per level: measured requests only (warm-up left out); latencies in ms",
        numeric=frozenset(range(2, 14)),
    )
    notes, errors = [], []
    for s in report.levels:
        if s.generator.saturated:
            errors.append(
                f"level {s.level}: generator saturated ({'; '.join(s.generator.notes)}): the "
                "client's limit, not the server's"
            )
        if s.over_saturated:
            notes.append(f"level {s.level}: over-saturated: {s.over_saturated}")
        if s.stopped:
            errors.append(f"level {s.level}: {s.stopped}")
        if s.interrupted:
            errors.append(
                f"level {s.level}: {interrupted_note(s)}; its figures cover the requests that "
                "finished"
            )
        if s.failures_by_type:
            notes.append(
                f"level {s.level} failures: "
                + ", ".join(f"{k} {v}" for k, v in s.failures_by_type.items())
            )
    if report.find_max is not None:
        notes.insert(0, f"find-max: {report.find_max.statement}")
    sections = [
        Section("Levels", tables=[table], notes=notes, errors=errors),
        Section(
            "Plots",
            images=[
                Image(png, alt=name.removesuffix(".png").replace("_", " "))
                for name, png in plots.items()
            ],
        ),
    ]
    calibration = (report.prompts.get("calibration") or {}).get("note", "")
    meta = [
        ("model", report.model),
        ("server", f"{report.backend} {report.url}"),
        ("status", report.status),
        ("prompts", f"{report.prompts.get('source')}; {calibration}"),
        ("started", report.started_at),
    ]
    if report.run_id:
        meta.append(("store run", report.run_id))
    return html_page(f"Load: {report.model}", sections, meta=meta)


def write_load_html(
    report: LoadReport, records: Sequence[RequestRecord], folder: Path
) -> list[Path]:
    """The PNG plots and ``load.html`` in ``folder``; the files written."""
    plots = load_plots(report, records)
    files = write_plots(folder, plots)
    files.append(write_html(folder / "load.html", render_load_html(report, plots)))
    return files
