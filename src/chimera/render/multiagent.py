"""A multi-agent session's plots and HTML page: speedup and efficiency per run, each agent's
alone and together times, throughput and TTFT per agent."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from chimera.atomic import write_text
from chimera.bench.results import MultiAgentOutcome
from chimera.render.html import Image, Section, Table, html_page, write_html, write_plots
from chimera.render.plots import plot_bars, plot_distributions


def multiagent_plots(outcome: MultiAgentOutcome) -> dict[str, bytes]:
    """PNG plots by file name; only what the finished runs can show."""
    plots: dict[str, bytes] = {}
    done = [r for r in outcome.records if r.valid]  # an impossible figure is never plotted
    if done:
        labels = [r.name for r in done]
        plots["speedup.png"] = plot_bars(
            labels,
            [r.figures.concurrency_speedup for r in done if r.figures],
            None,
            "Concurrency speedup per run (sum of alone times / concurrent wall time)",
            "x",
            reference=1.0,
        )
        plots["efficiency.png"] = plot_bars(
            labels,
            [r.figures.efficiency_percent for r in done if r.figures],
            None,
            "Efficiency per run (speedup / agents)",
            "%",
            reference=100.0,
        )
    times: dict[str, list[float | None]] = {}
    tput: dict[str, list[float | None]] = {}
    ttft: dict[str, list[float | None]] = {}
    for record in outcome.records:
        for a in record.agents:
            times.setdefault(f"{a.agent_id} alone", []).append(a.alone_s)
            times.setdefault(f"{a.agent_id} together", []).append(a.together_s)
            for phase in ("alone", "together"):
                t = a.totals(phase)
                tput.setdefault(f"{a.agent_id} {phase}", []).append(t.decode_tokens_per_s)
                ttft.setdefault(f"{a.agent_id} {phase}", []).append(t.ttft_ms)
    for name, groups, title, unit in (
        ("agent_times.png", times, "Each agent's workflow time, alone and together", "s"),
        ("throughput.png", tput, "Decode rate over each agent's calls", "tok/s"),
        ("ttft.png", ttft, "Mean TTFT over each agent's calls", "ms"),
    ):
        if any(v is not None for values in groups.values() for v in values):
            plots[name] = plot_distributions(groups, title, unit)
    return plots


def _f(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def render_multiagent_html(outcome: MultiAgentOutcome, plots: Mapping[str, bytes]) -> str:
    """The session's page: runs with their honest figures, agents, failures, plots."""
    run_rows = []
    for r in outcome.records:
        f = r.figures
        run_rows.append(
            [
                r.name,
                _f(r.wall_s),
                _f(f.sequential_s if f else None),
                _f(f.concurrency_speedup if f else None),
                _f(f.efficiency_percent if f else None, 1),
                _f(f.legacy_concurrency_speedup if f else None),
                ", ".join(f.contended_agents)
                if f and f.contended_agents
                else ("no" if f else "n/a"),
                ", ".join(r.failed_agents) or "-",
                "INVALID" if r.invalid_reasons else ("yes" if r.valid else "n/a"),
            ]
        )
    runs = Table(
        [
            "run",
            "wall s",
            "sequential s",
            "speedup",
            "efficiency %",
            "legacy speedup",
            "contention",
            "failed agents",
            "valid",
        ],
        run_rows,
        caption="Runs",
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    agent_rows = []
    for r in outcome.records:
        for a in r.agents:
            t = a.totals("together")
            slow = r.figures.slowdowns.get(a.agent_id) if r.figures else None
            agent_rows.append(
                [
                    r.name,
                    a.agent_id,
                    a.together.spec.label,
                    a.together.spec.model,
                    a.together.spec.options.legacy_line(),
                    _f(a.alone_s),
                    _f(a.together_s),
                    _f(slow),
                    _f(t.decode_tokens_per_s, 1),
                    _f(t.ttft_ms, 1),
                    a.error or "ok",
                ]
            )
    agents = Table(
        [
            "run",
            "agent",
            "label",
            "model",
            "configuration",
            "alone s",
            "together s",
            "slowdown",
            "tok/s",
            "TTFT ms",
            "status",
        ],
        agent_rows,
        caption="Agents (throughput and TTFT over the calls made together)",
        numeric=frozenset({5, 6, 7, 8, 9}),
    )
    sections = [
        Section(
            "Runs",
            tables=[runs],
            notes=outcome.notes,
            errors=[
                f"{r.name} is invalid and left out of every average: {reason}"
                for r in outcome.records
                for reason in r.invalid_reasons
            ],
            paragraphs=[
                "speedup = sum of the agents' times alone / wall time together; efficiency = "
                "speedup / agents; slowdown = together / alone. The legacy speedup (sum of the "
                "times measured together / wall time) is the old tool's figure, shown for "
                "comparison only."
            ],
        ),
        Section("Agents", tables=[agents]),
        Section(
            "Plots",
            images=[
                Image(png, alt=n.removesuffix(".png").replace("_", " ")) for n, png in plots.items()
            ],
        ),
    ]
    meta = [
        ("scenario", outcome.scenario.name),
        ("status", outcome.status),
        ("runs", f"{len(outcome.records)} of {outcome.runs_planned}"),
    ]
    if outcome.run_id:
        meta.append(("store run", outcome.run_id))
    return html_page(f"Multi-agent benchmark: {outcome.scenario.name}", sections, meta=meta)


def write_multiagent_html(outcome: MultiAgentOutcome) -> list[Path]:
    """Write the plots and ``summary.html`` into the session's output folder, and link the
    plots from ``summary.md``."""
    plots = multiagent_plots(outcome)
    files = write_plots(outcome.output_dir, plots)
    summary_md = outcome.output_dir / "summary.md"
    if plots and summary_md.is_file():  # the Markdown summary shows the same plots
        text = summary_md.read_text(encoding="utf-8").split("\n## Plots\n")[0].rstrip()
        links = [f"![{n.removesuffix('.png').replace('_', ' ')}]({n})" for n in plots]
        files.append(write_text(summary_md, text + "\n\n## Plots\n\n" + "\n".join(links) + "\n"))
    files.append(
        write_html(outcome.output_dir / "summary.html", render_multiagent_html(outcome, plots))
    )
    return files
