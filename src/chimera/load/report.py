"""A load run as a document (``--json``) and as tables on the terminal (pure rendering)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chimera.load.metrics import Distribution, LevelSummary


class LoadReport(BaseModel):
    """What ``chimera load --json`` prints and ``load.json`` holds."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["load"] = "load"
    chimera_version: str
    started_at: str
    backend: str
    url: str
    model: str
    settings: dict[str, Any]
    prompts: dict[str, Any] = Field(description="source, targets and the token calibration")
    levels: list[LevelSummary]
    status: Literal["ok", "failed", "interrupted"]
    records_path: str | None = None
    run_id: str | None = None


def _f(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _dist_row(name: str, d: Distribution) -> list[str]:
    return [name, str(d.n), *(_f(d.stat(s)) for s in ("mean", "p50", "p90", "p95", "p99", "p999"))]


def level_table(s: LevelSummary) -> Group:
    """One level: its load and outcome, the latency distributions, SLOs and the generator."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    rate = (
        f"{_f(s.achieved_rate_rps, 2)} req/s achieved of {_f(s.requested_rate_rps, 2)} "
        f"requested (schedule {_f(s.scheduled_rate_rps, 2)})"
        if s.mode == "open"
        else f"{_f(s.achieved_rate_rps, 2)} req/s dispatched"
    )
    failures = ", ".join(f"{k} {v}" for k, v in s.failures_by_type.items()) or "none"
    head.add_row(
        "requests",
        f"{s.requests_ok} ok, {s.requests_failed} failed ({failures})"
        + (f", {s.requests_cancelled} cancelled" if s.requests_cancelled else "")
        + f"; {s.warmup_requests} warm-up left out",
    )
    head.add_row("rate", rate)
    head.add_row("in flight", f"{_f(s.mean_concurrency, 2)} mean over {_f(s.duration_s, 2)} s")
    head.add_row(
        "throughput",
        f"{_f(s.output_tokens_per_s)} output tok/s, {_f(s.requests_per_s, 2)} ok req/s"
        + (f", goodput {_f(s.goodput_rps, 2)} req/s" if s.goodput_rps is not None else ""),
    )
    head.add_row(
        "tokens",
        f"{_f(s.input_tokens_mean)} in, {_f(s.output_tokens_mean)} out per request (server)",
    )
    lat = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("ms", "n", "mean", "p50", "p90", "p95", "p99", "p99.9"):
        lat.add_column(col, justify="left" if col == "ms" else "right")
    for name in ("ttft_ms", "itl_ms", "tpot_ms", "e2e_ms", "queue_ms"):
        lat.add_row(*_dist_row(name.removesuffix("_ms"), getattr(s, name)))
    parts: list[Any] = [Text(f"{s.label}", style="bold underline"), head, lat]
    for r in s.slo:
        mark = "[green]met[/]" if r.met else "[red]missed[/]"
        parts.append(f"SLO {escape(r.target)}: {mark} (observed {_f(r.observed_ms)} ms)")
    g = s.generator
    client = (
        f"client: loop lag p99 {_f(g.loop_lag_ms.p99)} ms, CPU {_f(g.client_cpu_percent, 0)}%"
        + (f", dispatch lag p99 {_f(g.send_lag_ms.p99)} ms" if g.send_lag_ms.n else "")
    )
    if g.saturated:
        parts.append(
            f"[bold red]generator saturated[/] ({escape('; '.join(g.notes))}): these figures "
            "show the client's limit, not the server's"
        )
    parts.append(client)
    if s.stopped:
        parts.append(f"[red]{escape(s.stopped)}[/]")
    if s.interrupted:
        parts.append("[yellow]interrupted: the figures cover the requests that finished[/]")
    return Group(*parts)


def render(report: LoadReport) -> Group:
    title = Text(f"chimera load: {report.model} on {report.backend} {report.url}", style="bold")
    note = Text(str(report.prompts.get("calibration", {}).get("note", "")), style="dim")
    return Group(title, note, *(level_table(s) for s in report.levels))
