"""Read a folder of the first Python multi-agent demo (TR110): summary.json with flat runs of
baseline_*/chimera_* figures in seconds, run_N/metrics.json with each agent's metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chimera.legacy.common import agent_report, persona, validate
from chimera.legacy.find import load_json, run_dirs
from chimera.legacy.formats import PyV1Run, PyV1RunMetrics, PyV1Summary, SingleAgentMetrics
from chimera.legacy.records import LegacyAgent, LegacyRun

ROLES = (("collector", "baseline"), ("insight", "chimera"))


def _options(summary: PyV1Summary | None, role: str) -> dict[str, Any]:
    """An agent's options from the summary when its metrics.json is missing: by scenario, as
    the demo gave them (baseline_vs_chimera: the collector ran Ollama's defaults)."""
    if summary is None:
        return {}
    first = dict(summary.chimera_overrides or {})
    second = dict(summary.chimera_overrides_agent2 or {}) or first
    scenario = summary.scenario or "baseline_vs_chimera"
    if role == "collector":
        return {} if scenario == "baseline_vs_chimera" else first
    return second if scenario == "chimera_hetero" else first


def _agent(
    role: str,
    side: str,
    r: PyV1Run,
    summary: PyV1Summary | None,
    m: SingleAgentMetrics | None,
    run_dir: Path | None,
    root: Path,
    model: str | None,
) -> LegacyAgent:
    report, text = agent_report(run_dir, role, root)
    seconds = getattr(r, f"{side}_duration")
    agg = m.aggregate_metrics if m else None
    url = getattr(r, f"{role}_ollama_url") or (
        getattr(summary, f"{role}_ollama_url") if summary else None
    )
    return LegacyAgent(
        agent_id=role,
        label=(m.agent_type if m else None) or side,
        persona=persona(role, None),
        model=(m.model if m else None) or model,
        url=url,
        options=dict(m.configuration) if m and m.configuration else _options(summary, role),
        response=text,
        report_path=report,
        throughput=getattr(r, f"{side}_throughput"),
        ttft_ms=getattr(r, f"{side}_ttft_ms"),
        total_duration_ms=agg.total_duration_ms if agg else None,
        e2e_ms=agg.total_duration_ms if agg else None,
        wall_ms=None if seconds is None else seconds * 1000.0,
        tokens=agg.total_tokens_generated if agg else None,
    )


def read_v1(
    root: Path, doc: Any, model: str | None, number: Any
) -> tuple[dict[int, LegacyRun], list[str], dict[str, Any], str | None, str | None]:
    """(runs by number, notes, aggregate, generated_at, scenario) of a first-demo folder;
    ``number`` is the run-numbering helper of the multi-agent reader."""
    runs: dict[int, LegacyRun] = {}
    notes: list[str] = []
    summary = validate(PyV1Summary, doc, root / "summary.json") if doc is not None else None
    dirs = dict(run_dirs(root))
    per_run = {
        n: validate(PyV1RunMetrics, load_json(d / "metrics.json"), d / "metrics.json")
        for n, d in dirs.items()
        if (d / "metrics.json").is_file()
    }
    listed = [(r, "summary.json") for r in (summary.runs if summary else [])]
    written = {r.run_number for r, _ in listed}
    for n, m in sorted(per_run.items()):
        if m.summary is not None and n not in written:
            listed.append((m.summary.model_copy(update={"run_number": n}), f"run_{n}/metrics.json"))
            notes.append(f"run {n} read from run_{n}/metrics.json (not in summary.json)")
    for i, (r, src) in enumerate(listed):
        n = number(r.run_number, i, runs, notes)
        got = per_run.get(n)
        agents = [
            _agent(
                role,
                side,
                r,
                summary,
                getattr(got, role) if got else None,
                dirs.get(n),
                root,
                model,
            )
            for role, side in ROLES
        ]
        seq, wall = r.sequential_estimated_time, r.concurrent_wall_time
        runs[n] = LegacyRun(
            run_number=n,
            scenario=summary.scenario if summary else None,
            agents=agents,
            source=src,
            wall_s=wall,
            sequential_estimate_s=seq,
            legacy_speedup=r.concurrency_speedup,
            efficiency_percent=r.efficiency_percent,
            throughput_delta=r.throughput_delta,
            ttft_delta_ms=r.ttft_delta_ms,
            contention=r.resource_contention_detected,
            written=r.model_dump(),
        )
    aggregate = dict(summary.aggregate) if summary else {}
    return (
        runs,
        notes,
        aggregate,
        summary.generated_at if summary else None,
        (summary.scenario if summary else None),
    )
