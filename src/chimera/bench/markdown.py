"""combined_report.md of each run and summary.md of a session (pure: values in, text out)."""

from __future__ import annotations

from typing import Any

from chimera.bench.documents import deltas
from chimera.bench.results import AgentOutcome, RunRecord
from chimera.bench.scenarios import agent_letter

SIGN_CONVENTION = (
    "Deltas are agent B minus agent A, measured in the concurrent phase: a positive "
    "throughput delta means B decoded faster; a positive TTFT delta means B's first tokens "
    "came later."
)
HOW_MEASURED = (
    "In every run each agent ran alone, one after the other (the sequential baseline: same "
    "prompts, same options), and all agents ran together; odd runs start with the agents "
    "alone, even runs with them together. Speedup = sum of the alone times / wall time "
    "together; efficiency = speedup / number of agents; slowdown = an agent's time together "
    "/ its time alone. The "
    "legacy speedup is the old tool's metric (times measured together, summed, / wall time): "
    "it stays near N even when a server queues the calls."
)


def _num(v: float | int | None, fmt: str, unit: str = "") -> str:
    return "n/a" if v is None else f"{v:{fmt}}{unit}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _agent_section(index: int, a: AgentOutcome, slowdown: float | None) -> list[str]:
    run = a.together
    spec = run.spec
    t = a.totals("together")
    state = "ok" if a.ok else f"**failed**: {a.error}"
    return [
        f"## Agent {agent_letter(index)} ({spec.label})",
        f"- Id: {spec.agent_id} (report: {spec.agent_id}_report.md)",
        f"- Persona: {spec.persona.label}",
        f"- Model: {spec.model}",
        f"- Backend: {run.backend} ({run.url})",
        f"- Config: {spec.options.legacy_line()}",
        f"- Status: {state}",
        f"- Throughput: {_num(t.decode_tokens_per_s, '.2f', ' tok/s')}",
        f"- TTFT: {_num(t.ttft_ms, '.2f', ' ms')}",
        f"- Total Duration: {_num(t.e2e_ms, '.2f', ' ms')} (the calls, end to end, summed)",
        f"- Alone: {a.alone_s:.3f}s; together: {a.together_s:.3f}s; "
        f"slowdown: {_num(slowdown, '.2f', 'x')}",
        "",
    ]


def render_combined_report(record: RunRecord, scenario: str, threshold: float) -> str:
    """combined_report.md: the run's concurrency figures, each agent, and the deltas B - A."""
    fig = record.figures
    n = len(record.agents)
    first = "alone first, then together" if record.order == "alone-first" else "together first"
    out = [
        f"# Chimera Multi-Agent Report – Run {record.run_number}",
        "",
        "## Scenario",
        f"- Type: {scenario}",
        f"- Agents: {n} (this run: {first})",
        f"- Concurrent Wall Time: {record.wall_s:.3f}s",
    ]
    if fig is None:
        failed = ", ".join(record.failed_agents)
        out += [
            f"- Sequential Time: n/a ({failed} failed: the times are not comparable)",
            "- Speedup: n/a",
            "- Efficiency: n/a",
            "- Contention Detected: n/a",
            "- Legacy Speedup: n/a",
            "- This run is counted as failed and left out of the summary's averages.",
        ]
    else:
        contention = (
            "Yes: "
            + ", ".join(f"{k} {fig.slowdowns[k]:.2f}x" for k in fig.contended_agents)
            + f" slower together than alone (threshold {threshold:g}x)"
            if fig.contention
            else f"No (no agent slowed past {threshold:g}x)"
        )
        out += [
            f"- Sequential Time: {fig.sequential_s:.3f}s (each agent alone, summed)",
            f"- Speedup: {fig.concurrency_speedup:.3f}x (sequential / concurrent wall)",
            f"- Efficiency: {fig.efficiency_percent:.1f}% (speedup / {n} agents; ideal 100%)",
            f"- Contention Detected: {contention}",
            f"- Legacy Speedup: {fig.legacy_concurrency_speedup:.3f}x (old metric: times "
            "measured together, summed, / wall; for comparison only)",
        ]
        if not fig.valid:
            out += [
                "- **INVALID: these figures are impossible and are left out of the summary's "
                "averages.**",
                *(f"  - {reason}" for reason in fig.invalid_reasons),
            ]
    out += [
        "",
        "| Agent | Alone (s) | Together (s) | Slowdown | Status |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for i, a in enumerate(record.agents):
        slow = fig.slowdowns.get(a.agent_id) if fig else None
        out.append(
            f"| {agent_letter(i)} {_cell(a.agent_id)} | {a.alone_s:.3f} | {a.together_s:.3f} | "
            f"{_num(slow, '.2f', 'x')} | {'ok' if a.ok else 'failed'} |"
        )
    out.append("")
    for i, a in enumerate(record.agents):
        out += _agent_section(i, a, fig.slowdowns.get(a.agent_id) if fig else None)
    if n >= 2:
        tp, ttft = deltas(record)
        out += [
            "## Delta (B - A)",
            f"- Throughput Δ: {_num(tp, '+.2f', ' tok/s')} (B minus A; positive = B faster)",
            f"- TTFT Δ: {_num(ttft, '+.2f', ' ms')} (B minus A; positive = B's first token later)",
            "",
            SIGN_CONVENTION,
            "",
        ]
    out += ["## How this was measured", HOW_MEASURED, ""]
    return "\n".join(out)


def _spread_row(name: str, s: dict[str, Any], fmt: str) -> str:
    ci = "n/a" if s["ci95_low"] is None else f"[{s['ci95_low']:{fmt}}, {s['ci95_high']:{fmt}}]"
    return (
        f"| {name} | {s['n']} | {_num(s['mean'], fmt)} | {_num(s['std'], fmt.lstrip('+'))} | "
        f"{_num(s['cv_percent'], '.1f', '%')} | {ci} |"
    )


ROWS = (
    ("Speedup (x)", "concurrency_speedup", ".3f"),
    ("Efficiency (%)", "efficiency_percent", ".1f"),
    ("Legacy speedup (x)", "legacy_concurrency_speedup", ".3f"),
    ("Concurrent wall (s)", "concurrent_wall_time_s", ".3f"),
    ("Sequential, alone summed (s)", "sequential_estimated_s", ".3f"),
    ("Throughput Δ B - A (tok/s)", "throughput_delta", "+.2f"),
    ("TTFT Δ B - A (ms)", "ttft_delta_ms", "+.2f"),
)
HEAD = ["| Metric | n | Mean | Std | CV | 95% CI |", "| --- | ---: | ---: | ---: | ---: | --- |"]


def render_summary(doc: dict[str, Any]) -> str:
    """summary.md from summary.json's document."""
    c = doc["counts"]
    agg = doc["aggregate"]
    state = {"ok": "complete", "failed": "complete, with failures"}.get(
        doc["status"], doc["status"]
    )
    out = [
        f"# Multi-Agent Summary ({doc['scenario']})",
        "",
        f"Status: {state}. Runs: {c['runs_finished']} of {c['runs_planned']} finished, "
        f"{c['runs_failed']} failed, {c['runs_invalid']} invalid (impossible figures), "
        f"{c['runs_averaged']} averaged; warm-up runs (excluded): "
        f"{c['warmup_runs']}. Agents: {c['agents']}; failed agent runs: "
        f"{c['agent_runs_failed']}.",
        "",
        f"Average Speedup: {_num(agg['average_concurrency_speedup'], '.3f', 'x')}",
        f"Average Efficiency: {_num(agg['average_efficiency'], '.1f', '%')}",
        f"Average Throughput Δ (B - A): {_num(agg['average_throughput_delta'], '+.2f', ' tok/s')}",
        f"Average TTFT Δ (B - A): {_num(agg['average_ttft_delta_ms'], '+.2f', ' ms')}",
        f"Legacy Speedup (old metric): "
        f"{_num(agg['average_legacy_concurrency_speedup'], '.3f', 'x')}",
        f"Runs with contention (a slowdown above {doc['contention_threshold']:g}x): "
        f"{agg['contention_runs']} of {c['runs_averaged']}",
        "",
        "## Statistics over the runs",
        *HEAD,
        *(_spread_row(label, doc["statistics"][key], fmt) for label, key, fmt in ROWS),
        "",
        "## Agents",
        "| Agent | Id | Alone (s) | Together (s) | Slowdown | Contended runs | Throughput "
        "(tok/s) | TTFT (ms) | Failed runs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, cfg in enumerate(doc["agents"]):
        st = doc["agent_statistics"][cfg["id"]]

        def m(key: str, fmt: str, st: dict[str, Any] = st) -> str:
            s = st[key]
            sd = "" if s["std"] is None else f" ± {s['std']:{fmt}}"
            return _num(s["mean"], fmt) + sd

        out.append(
            f"| {agent_letter(i)} | {_cell(cfg['id'])} | {m('alone_s', '.3f')} | "
            f"{m('together_s', '.3f')} | {m('slowdown', '.2f')} | {st['contention_runs']} | "
            f"{m('decode_tokens_per_s', '.2f')} | {m('ttft_ms', '.2f')} | "
            f"{c['failed_by_agent'][cfg['id']]} |"
        )
    out += ["", "Means ± sample standard deviation over the averaged runs.", ""]
    out += _pairs_section(doc)
    out += ["## Agent Configurations"]
    for i, cfg in enumerate(doc["agents"]):
        out.append(
            f"- Agent {agent_letter(i)} ({cfg['label']}, id {cfg['id']}, {cfg['persona']}): "
            f"{cfg['model']} on {cfg['backend']} {cfg['url'] or ''}; {cfg['configuration']}"
        )
    out.append("")
    if doc["invalid_runs"]:
        out += [
            "## Invalid runs (impossible figures, left out of every average)",
            *(
                f"- run {r['run_number']}: {reason}"
                for r in doc["invalid_runs"]
                for reason in r["reasons"]
            ),
            "",
        ]
    if doc["counts"]["calls_failed"]:
        failed = ", ".join(f"{n} {kind}" for kind, n in doc["counts"]["calls_failed"].items())
        out += [f"Failed calls: {failed}.", ""]
    if doc["failures"]:
        out += ["## Failures"]
        out += [f"- run {f['run_number']}, {f['agent']}: {f['error']}" for f in doc["failures"]]
        out.append("")
    if doc["notes"]:
        out += ["## Notes", *(f"- {n}" for n in doc["notes"]), ""]
    out += ["## Definitions", HOW_MEASURED, "", SIGN_CONVENTION, ""]
    return "\n".join(out)


def _pairs_section(doc: dict[str, Any]) -> list[str]:
    pairs = doc["pairwise"]
    if not pairs:
        return []
    ids = [a["id"] for a in doc["agents"]]
    if len(ids) > 4:  # every pair is in summary.json; here each agent against agent A
        pairs = [p for p in pairs if p["a"] == ids[0]]
    out = [
        "## Agents compared (b - a, paired by run)",
        "| a | b | Metric | n | Mean a | Mean b | Mean b - a | 95% CI | p |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for p in pairs:
        ci = "n/a" if p["ci95_low"] is None else f"[{p['ci95_low']:+.3f}, {p['ci95_high']:+.3f}]"
        out.append(
            f"| {_cell(p['a'])} | {_cell(p['b'])} | {p['metric']} | {p['n']} | "
            f"{_num(p['mean_a'], '.3f')} | {_num(p['mean_b'], '.3f')} | "
            f"{_num(p['mean_diff'], '+.3f')} | {ci} | {_num(p['p_value'], '.3g')} |"
        )
    return [*out, ""]
