"""summary.json and each run's metrics.json (pure: records in, JSON-ready dicts out).

summary.json keeps the old tool's field names (``runs[]``, ``aggregate.average_*``,
``agent_a``, ``agent_b``) filled with the honest figures, and adds the rest. As in the old
tool, efficiency is in percent and the deltas are agent B minus agent A.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from chimera import __version__
from chimera.agent.spec import AgentRun, AgentSpec
from chimera.bench.results import AgentOutcome, MultiAgentOutcome, RunRecord
from chimera.calls import call_totals
from chimera.stats import compare_paired, describe

DEFINITIONS: dict[str, str] = {
    "alone_s": "an agent's whole workflow (analysis call, report call, checks) run by itself, "
    "seconds: the sequential baseline, same prompts and options",
    "together_s": "seconds from the moment all agents were launched together to this agent's end",
    "concurrent_wall_time_s": "seconds from launching all agents together to the last one's end",
    "sequential_estimated_s": "sum of the agents' alone times, seconds (measured, not estimated; "
    "the name is the old tool's)",
    "concurrency_speedup": "sequential_estimated_s / concurrent_wall_time_s: about N when the "
    "agents do not slow each other, about 1 when the server serves one call at a time",
    "efficiency_percent": "concurrency_speedup / number of agents x 100",
    "slowdown": "together_s / alone_s of one agent",
    "resource_contention_detected": "some agent's slowdown exceeded contention_threshold",
    "legacy_concurrency_speedup": "the old tool's metric: sum of the agents' times measured "
    "while running together / concurrent_wall_time_s; at most N even when a server queues the "
    "calls, so only for comparison with old results",
    "throughput_delta": "agent B's decode throughput minus agent A's, tok/s, in the concurrent "
    "phase (positive: B decoded faster)",
    "ttft_delta_ms": "agent B's mean TTFT minus agent A's, ms, in the concurrent phase "
    "(positive: B's first tokens came later)",
    "aggregate": "means over the valid runs: every agent finished and the figures are possible; "
    "failed and invalid runs are counted but never averaged",
    "valid": "false when a run's figures are impossible (efficiency above 100%, an agent faster "
    "together than alone, beyond the noise tolerance, validity_tolerance); invalid_reasons says "
    "why and the likely "
    "cause",
    "prompt_nonce": "each measured phase's prompts start with a short unique line (run, phase, "
    "agent) so that no phase reuses another's prompts from the server's prompt cache",
    "ci95": "95% confidence interval of the mean, Student's t with n - 1 degrees of freedom",
    "pairwise": "agent b minus agent a, paired run by run, with a two-sided paired t-test",
}
AGENT_METRICS = ("alone_s", "together_s", "slowdown", "decode_tokens_per_s", "ttft_ms")


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def agent_config(spec: AgentSpec, run: AgentRun | None = None) -> dict[str, Any]:
    """An agent's configuration as summary.json lists it."""
    return {
        "id": spec.agent_id,
        "label": spec.label,
        "persona": spec.persona.name,
        "model": spec.model,
        "backend": run.backend if run else spec.endpoint.kind,
        "url": run.url if run else spec.endpoint.url,
        "options": spec.options.set_options(),
        "configuration": spec.options.legacy_line(),
    }


def agent_value(agent: AgentOutcome, metric: str, slowdown: float | None) -> float | None:
    """One per-agent figure of a run (``metric`` in AGENT_METRICS); None when not measured."""
    if metric == "alone_s":
        return agent.alone_s
    if metric == "together_s":
        return agent.together_s
    if metric == "slowdown":
        return slowdown
    value = getattr(agent.totals("together"), metric)
    return None if value is None else float(value)


def deltas(record: RunRecord) -> tuple[float | None, float | None]:
    """(throughput B - A in tok/s, TTFT B - A in ms) of the concurrent phase."""
    if len(record.agents) < 2:
        return None, None
    a, b = record.agents[0].totals(), record.agents[1].totals()
    tp = (
        None
        if a.decode_tokens_per_s is None or b.decode_tokens_per_s is None
        else b.decode_tokens_per_s - a.decode_tokens_per_s
    )
    ttft = None if a.ttft_ms is None or b.ttft_ms is None else b.ttft_ms - a.ttft_ms
    return tp, ttft


def _phase(run: AgentRun) -> dict[str, Any]:
    totals = call_totals([r.metrics for r in run.results()])
    return {
        "status": run.status,
        "error": run.error,
        "backend": run.backend,
        "url": run.url,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "timings_s": run.timings.model_dump(),
        "totals": totals.model_dump(),
        "calls": [
            {
                "stage": c.stage,
                "metrics": c.result.metrics.model_dump() if c.result else None,
                "done_reason": c.result.done_reason if c.result else None,
                "response": c.result.text if c.result else None,
                "error": c.error,
                "error_type": c.error_type,
            }
            for c in run.calls
        ],
        "grounded_ratio": run.factcheck.grounded_ratio if run.factcheck else None,
        "quality": run.quality.total if run.quality else None,
    }


def run_entry(record: RunRecord, scenario: str) -> dict[str, Any]:
    """One run in summary.json's ``runs[]``: the old fields, honest, then the new ones."""
    fig = record.figures
    tp_delta, ttft_delta = deltas(record)
    totals = [a.totals() for a in record.agents[:2]]
    a_tot = totals[0] if totals else None
    b_tot = totals[1] if len(totals) > 1 else None
    return {
        "run_number": record.run_number,
        "scenario": scenario,
        "status": "ok" if record.ok else "failed",
        "valid": record.valid,
        "invalid_reasons": record.invalid_reasons,
        "concurrency_speedup": fig.concurrency_speedup if fig else None,
        "efficiency_percent": fig.efficiency_percent if fig else None,
        "throughput_delta": tp_delta,
        "ttft_delta_ms": ttft_delta,
        "concurrent_wall_time_s": record.wall_s,
        "sequential_estimated_s": fig.sequential_s if fig else None,
        "concurrent_wall_time_ms": record.wall_s * 1000.0,
        "sequential_estimate_ms": fig.sequential_s * 1000.0 if fig else None,
        "resource_contention_detected": fig.contention if fig else None,
        "collector_throughput": a_tot.decode_tokens_per_s if a_tot else None,
        "insight_throughput": b_tot.decode_tokens_per_s if b_tot else None,
        "collector_ttft_ms": a_tot.ttft_ms if a_tot else None,
        "insight_ttft_ms": b_tot.ttft_ms if b_tot else None,
        "legacy_concurrency_speedup": fig.legacy_concurrency_speedup if fig else None,
        "order": record.order,
        "contended_agents": fig.contended_agents if fig else [],
        "failed_agents": record.failed_agents,
        "agents": {
            a.agent_id: {
                "status": "ok" if a.ok else "failed",
                "error": a.error,
                "alone_s": a.alone_s,
                "together_s": a.together_s,
                "slowdown": fig.slowdowns.get(a.agent_id) if fig else None,
                "alone": a.totals("alone").model_dump(),
                "together": a.totals("together").model_dump(),
            }
            for a in record.agents
        },
    }


def run_metrics_document(
    record: RunRecord, scenario: str, run_id: str | None, threshold: float
) -> dict[str, Any]:
    """run_N/metrics.json: the run's figures and every agent's calls in both phases."""
    tp_delta, ttft_delta = deltas(record)
    fig = record.figures
    return {
        "chimera_version": __version__,
        "store_run_id": run_id,
        "run_number": record.run_number,
        "scenario": scenario,
        "status": "ok" if record.ok else "failed",
        "order": record.order,
        "valid": record.valid,
        "invalid_reasons": record.invalid_reasons,
        "contention_threshold": threshold,
        "concurrent_wall_time_s": record.wall_s,
        "figures": fig.model_dump() if fig else None,
        "throughput_delta": tp_delta,
        "ttft_delta_ms": ttft_delta,
        "agents": [
            {
                **agent_config(a.together.spec, a.together),
                "status": "ok" if a.ok else "failed",
                "error": a.error,
                "alone_s": a.alone_s,
                "together_s": a.together_s,
                "slowdown": fig.slowdowns.get(a.agent_id) if fig else None,
                "alone": _phase(a.alone),
                "together": _phase(a.together),
            }
            for a in record.agents
        ],
        "definitions": DEFINITIONS,
    }


def pairwise(records: list[RunRecord], ids: list[str]) -> list[dict[str, Any]]:
    """Every pair of agents on every per-agent metric, over the runs where all finished."""
    ok = [r for r in records if r.valid]
    out = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            for metric in AGENT_METRICS:
                va, vb = [], []
                for r in ok:
                    assert r.figures is not None
                    by_id = {x.agent_id: x for x in r.agents}
                    va.append(agent_value(by_id[a], metric, r.figures.slowdowns[a]))
                    vb.append(agent_value(by_id[b], metric, r.figures.slowdowns[b]))
                out.append(compare_paired(a, b, metric, va, vb).model_dump())
    return out


def failed_calls(records: list[RunRecord]) -> dict[str, int]:
    """Failed LLM calls over the runs, by error type (EmptyResponseError, ...)."""
    counts: dict[str, int] = {}
    for r in records:
        for a in r.agents:
            for run in (a.alone, a.together):
                for c in run.calls:
                    if c.error is not None:
                        key = c.error_type or "error"
                        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def summary_document(outcome: MultiAgentOutcome, threshold: float) -> dict[str, Any]:
    """summary.json: old field names with honest values, statistics, pairs, counts."""
    records = outcome.records
    name = outcome.scenario.name
    ok = [r for r in records if r.valid]
    figs = [r.figures for r in ok if r.figures is not None]
    tp = [d for d in (deltas(r)[0] for r in ok) if d is not None]
    ttft = [d for d in (deltas(r)[1] for r in ok) if d is not None]
    series: dict[str, list[float]] = {
        "concurrency_speedup": [f.concurrency_speedup for f in figs],
        "efficiency_percent": [f.efficiency_percent for f in figs],
        "legacy_concurrency_speedup": [f.legacy_concurrency_speedup for f in figs],
        "concurrent_wall_time_s": [f.wall_s for f in figs],
        "sequential_estimated_s": [f.sequential_s for f in figs],
        "throughput_delta": tp,
        "ttft_delta_ms": ttft,
    }
    ids = [s.agent_id for s in outcome.specs]
    per_agent: dict[str, dict[str, Any]] = {}
    for agent_id in ids:
        per_agent[agent_id] = {}
        for metric in AGENT_METRICS:
            values = []
            for r in ok:
                assert r.figures is not None
                agent = next(a for a in r.agents if a.agent_id == agent_id)
                v = agent_value(agent, metric, r.figures.slowdowns[agent_id])
                if v is not None:
                    values.append(v)
            per_agent[agent_id][metric] = describe(values).model_dump()
        per_agent[agent_id]["contention_runs"] = sum(
            1 for f in figs if agent_id in f.contended_agents
        )
    last = {a.agent_id: a.together for r in records for a in r.agents}
    configs = [agent_config(s, last.get(s.agent_id)) for s in outcome.specs]
    failed_by_agent = {i: sum(1 for r in records if i in r.failed_agents) for i in ids}
    return {
        "scenario": name,
        "status": outcome.status,
        "interrupted": outcome.status == "interrupted",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "chimera_version": __version__,
        "store_run_id": outcome.run_id,
        "prompt_nonce": outcome.prompt_nonce,
        "validity_tolerance": outcome.validity_tolerance,
        "runs": [run_entry(r, name) for r in records],
        "aggregate": {
            "average_concurrency_speedup": _mean(series["concurrency_speedup"]),
            "average_efficiency": _mean(series["efficiency_percent"]),
            "average_throughput_delta": _mean(tp),
            "average_ttft_delta_ms": _mean(ttft),
            "average_legacy_concurrency_speedup": _mean(series["legacy_concurrency_speedup"]),
            "average_concurrent_wall_time_s": _mean(series["concurrent_wall_time_s"]),
            "average_sequential_estimated_s": _mean(series["sequential_estimated_s"]),
            "contention_runs": sum(1 for f in figs if f.contention),
        },
        "statistics": {k: describe(v).model_dump() for k, v in series.items()},
        "agent_statistics": per_agent,
        "pairwise": pairwise(records, ids),
        "agent_a": configs[0] if configs else None,
        "agent_b": configs[1] if len(configs) > 1 else None,
        "agents": configs,
        "counts": {
            "agents": len(ids),
            "runs_planned": outcome.runs_planned,
            "runs_finished": len(records),
            "runs_failed": outcome.failed_runs,
            "runs_averaged": len(ok),
            "runs_invalid": outcome.invalid_runs,
            "calls_failed": failed_calls(records),
            "warmup_runs": len(outcome.warmups),
            "agent_runs_failed": outcome.failed_agent_runs,
            "failed_by_agent": failed_by_agent,
        },
        "failures": [
            {"run_number": r.run_number, "agent": a.agent_id, "error": a.error}
            for r in records
            for a in r.agents
            if not a.ok
        ],
        "invalid_runs": [
            {"run_number": r.run_number, "reasons": r.invalid_reasons}
            for r in records
            if r.invalid_reasons
        ],
        "contention_threshold": threshold,
        "notes": outcome.notes,
        "definitions": DEFINITIONS,
    }
