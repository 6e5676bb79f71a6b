"""A load run as a document (``--json``) and as tables on the terminal (pure rendering)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chimera.load.metrics import Distribution, LevelSummary
from chimera.load.plan import FindMaxResult

# ok: every level ran to its bound (failed requests are results, counted by type); stopped: a
# level was cut short because the server stopped answering; failed: a level served nothing;
# interrupted: Ctrl-C
RunStatus = Literal["ok", "stopped", "failed", "interrupted"]
STATUS_MEANING = {
    "stopped": "a level stopped early: the server stopped answering",
    "failed": "a level served nothing",
    "interrupted": "Ctrl-C: the finished requests are recorded",
}


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
    environment: dict[str, Any] = Field(
        default_factory=dict,
        description="client machine; the server and model before (server) and after the run",
    )
    prompts: dict[str, Any] = Field(description="source, targets and the token calibration")
    levels: list[LevelSummary]
    find_max: FindMaxResult | None = None
    status: RunStatus
    records_path: str | None = None
    run_id: str | None = None


def interrupted_note(s: LevelSummary) -> str | None:
    """What a level cut short by Ctrl-C says of itself; None for a complete level."""
    if not s.interrupted:
        return None
    return f"interrupted: {s.requests_cancelled} requests cancelled"


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
    if s.label.startswith("ramp") and s.requested_rate_rps is not None:
        rate = (
            f"{_f(s.achieved_rate_rps, 2)} req/s achieved on a ramp to "
            f"{_f(s.requested_rate_rps, 2)} (its mean {_f(s.requested_rate_rps / 2, 2)}; "
            f"schedule {_f(s.scheduled_rate_rps, 2)})"
        )
    elif s.mode == "open" and s.requested_rate_rps is not None:
        rate = (
            f"{_f(s.achieved_rate_rps, 2)} req/s achieved of {_f(s.requested_rate_rps, 2)} "
            f"requested (schedule {_f(s.scheduled_rate_rps, 2)})"
        )
    elif s.mode == "closed":
        rate = f"{_f(s.achieved_rate_rps, 2)} req/s completed"
    else:
        rate = f"{_f(s.achieved_rate_rps, 2)} req/s dispatched"
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
    for name in ("ttft_ms", "ttfot_ms", "itl_ms", "tpot_ms", "e2e_ms", "queue_ms"):
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
    if s.over_saturated:
        parts.append(f"[bold yellow]over-saturated:[/] {escape(s.over_saturated)}")
    if s.stopped:
        parts.append(f"[red]{escape(s.stopped)}[/]")
    if s.interrupted:
        parts.append(
            f"[yellow]{interrupted_note(s)}; the figures cover the requests that finished[/]"
        )
    return Group(*parts)


def _short(s: LevelSummary) -> str:
    if s.concurrency is not None:
        return f"c={s.concurrency}"
    return f"{s.requested_rate_rps or 0:.3g}/s"


def levels_table(levels: list[LevelSummary]) -> Table:
    """One line a level: the load (c=streams or requested rate), the rate achieved, what
    was served and the latencies, in ms."""
    t = Table(box=None, header_style="bold", pad_edge=False)
    slo = any(s.slo_met is not None for s in levels)
    cols = ["#", "load", "rps", "ok", "fail", "tok/s", "ttft50", "ttft99", "itl99", "e2e99"]
    cols += ["good", "notes"] if slo else ["notes"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("load", "notes") else "right")
    for s in levels:
        notes = []
        if s.slo_met is not None:
            notes.append("met" if s.slo_met else "missed")
        if s.over_saturated:
            notes.append("over-sat")
        if s.generator.saturated:
            notes.append("[red]gen-sat[/]")
        if s.stopped:
            notes.append("[red]stopped[/]")
        if s.interrupted:
            notes.append(f"[yellow]{interrupted_note(s)}[/]")
        row = [
            str(s.level), _short(s), _f(s.achieved_rate_rps, 2), str(s.requests_ok),
            str(s.requests_failed), _f(s.output_tokens_per_s, 0), _f(s.ttft_ms.p50, 0),
            _f(s.ttft_ms.p99, 0), _f(s.itl_ms.p99, 0), _f(s.e2e_ms.p99, 0),
        ]  # fmt: skip
        if slo:
            row.append(_f(s.goodput_rps, 2))
        t.add_row(*row, " ".join(notes))
    return t


def render(report: LoadReport) -> Group:
    """One level in detail; several as one table, then the search's answer if any."""
    title = Text(f"chimera load: {report.model} on {report.backend} {report.url}", style="bold")
    note = Text(str((report.prompts.get("calibration") or {}).get("note", "")), style="dim")
    parts: list[Any] = [title, note]
    if len(report.levels) == 1:
        parts.append(level_table(report.levels[0]))
    else:
        parts.append(levels_table(report.levels))
        arrival = next((s.label.split()[-1] for s in report.levels if s.mode == "open"), None)
        parts.append(
            Text(
                "rps: requests dispatched per second (closed loop: completed); latencies in ms"
                + (f"; open-loop arrivals {arrival}" if arrival else ""),
                style="dim",
            )
        )
        for s in report.levels:
            if s.generator.saturated:
                parts.append(
                    f"[red]level {s.level}: generator saturated[/] "
                    f"({escape('; '.join(s.generator.notes))}): the client's limit, not the "
                    "server's"
                )
            if s.over_saturated:
                parts.append(f"level {s.level}: over-saturated: {escape(s.over_saturated)}")
            if s.stopped:
                parts.append(f"[red]level {s.level}: {escape(s.stopped)}[/]")
    if report.find_max is not None:
        parts.append(Text(f"find-max: {report.find_max.statement}", style="bold"))
    if report.status != "ok":
        parts.append(
            Text(f"status: {report.status}: {STATUS_MEANING[report.status]}", style="bold red")
        )
    return Group(*parts)
