"""Read an old multi-agent folder (Python or Rust summary.json, run_N/ folders) into a
LegacyFolder: every run of the summary, and every run_N/metrics.json run it lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chimera.legacy.common import LegacyFormatError, agent_report, persona, validate
from chimera.legacy.definitions import Origin
from chimera.legacy.find import Candidate, load_json, run_dirs
from chimera.legacy.folders import config_from_path, model_from_path
from chimera.legacy.formats import (
    PyAgent,
    PyRun,
    PySummary,
    RustAgentConfig,
    RustRun,
    RustRunMetrics,
    RustSummary,
)
from chimera.legacy.pyv1 import read_v1
from chimera.legacy.records import LegacyAgent, LegacyFolder, LegacyRun


def _py_agent(
    a: PyAgent, role: str, model: str | None, run_dir: Path | None, root: Path
) -> LegacyAgent:
    m = a.metrics
    agent_id = a.id or role
    report, text = agent_report(run_dir, role, root)
    return LegacyAgent(
        agent_id=agent_id,
        label=agent_id,
        persona=persona(role, None),
        model=model,
        url=a.base_url,
        options=dict(a.options),
        response=a.response if a.response is not None else text,
        report_path=report,
        throughput=m.throughput_tokens_per_sec,
        ttft_ms=m.ttft_ms,
        total_duration_ms=m.total_duration_ms,
        e2e_ms=m.wall_clock_ms,
        wall_ms=m.wall_clock_ms,
        tokens=m.tokens_generated,
    )


def _py_run(
    r: PyRun, n: int, model: str | None, run_dir: Path | None, root: Path, src: str
) -> LegacyRun:
    roles = (("collector", r.collector), ("insight", r.insight))
    agents = [_py_agent(a, role, model, run_dir, root) for role, a in roles if a]
    ms = r.concurrent_wall_time_ms
    seq = r.sequential_estimate_ms
    return LegacyRun(
        run_number=n,
        scenario=r.scenario,
        agents=agents,
        source=src,
        wall_s=None if ms is None else ms / 1000.0,
        sequential_estimate_s=None if seq is None else seq / 1000.0,
        legacy_speedup=r.concurrency_speedup,
        efficiency_percent=r.efficiency_percent,
        throughput_delta=r.throughput_delta,
        ttft_delta_ms=r.ttft_delta_ms,
        written=r.model_dump(exclude={"collector", "insight"}),
    )


def _rust_agent(
    cfg: RustAgentConfig,
    run: RustRun,
    side: str,
    exe: RustRunMetrics | None,
    root: Path,
    run_dir: Path | None,
    model: str | None,
) -> LegacyAgent:
    execution = getattr(exe, side) if exe else None
    agg = execution.result.aggregate_metrics if execution else None
    report, text = agent_report(run_dir, side, root)
    return LegacyAgent(
        agent_id=cfg.id,
        label=cfg.label,
        persona=persona(side, cfg.prompt),
        model=cfg.model or model,
        url=cfg.base_url,
        options=dict(cfg.options),
        prompt=cfg.prompt,
        response=text,
        report_path=report,
        throughput=getattr(run, f"{side}_throughput"),
        ttft_ms=getattr(run, f"{side}_ttft_ms"),
        total_duration_ms=agg.total_duration_ms if agg else None,
        e2e_ms=agg.total_duration_ms if agg else None,
        wall_ms=None
        if execution is None or execution.execution_time_s is None
        else execution.execution_time_s * 1000.0,
        tokens=agg.total_tokens_generated if agg else None,
        eval_ms=agg.eval_duration_ms if agg else None,
        load_ms=agg.load_duration_ms if agg else None,
        prompt_eval_ms=agg.prompt_eval_duration_ms if agg else None,
    )


def _rust_run(
    r: RustRun,
    n: int,
    configs: tuple[RustAgentConfig, RustAgentConfig],
    exe: RustRunMetrics | None,
    run_dir: Path | None,
    root: Path,
    model: str | None,
    src: str,
) -> LegacyRun:
    agents = [
        _rust_agent(cfg, r, side, exe, root, run_dir, model)
        for cfg, side in zip(configs, ("collector", "insight"), strict=True)
    ]
    return LegacyRun(
        run_number=n,
        scenario=r.scenario,
        agents=agents,
        source=src,
        wall_s=r.concurrent_wall_time_s,
        sequential_estimate_s=r.sequential_estimated_s,
        legacy_speedup=r.concurrency_speedup,
        efficiency_percent=r.efficiency_percent,
        throughput_delta=r.throughput_delta,
        ttft_delta_ms=r.ttft_delta_ms,
        contention=r.resource_contention_detected,
        written=r.model_dump(),
    )


def _number(wanted: int | None, index: int, taken: dict[int, LegacyRun], notes: list[str]) -> int:
    """The run's number: as written, else its place; a number already taken gets the next
    free one (an old summary appended to twice numbers its runs 1, 2, 1, 2), noted."""
    n = wanted if wanted is not None else index + 1
    if n in taken:
        free = max(taken) + 1
        notes.append(f"run number {n} appears twice; the second is stored as run {free}")
        n = free
    return n


@dataclass(slots=True)
class _Parsed:
    runs: dict[int, LegacyRun] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aggregate: dict[str, Any] = field(default_factory=dict)
    generated_at: str | None = None
    scenario: str | None = None


def _python(root: Path, doc: Any, model: str | None) -> _Parsed:
    out = _Parsed()
    dirs = dict(run_dirs(root))
    if doc is not None:
        summary = validate(PySummary, doc, root / "summary.json")
        out.aggregate = dict(summary.aggregate)
        for i, r in enumerate(summary.runs):
            n = _number(r.run_number, i, out.runs, out.notes)
            out.runs[n] = _py_run(r, n, model, dirs.get(n), root, "summary.json")
    for n, d in dirs.items():
        if n not in out.runs and (d / "metrics.json").is_file():
            run = validate(PyRun, load_json(d / "metrics.json"), d / "metrics.json")
            out.runs[n] = _py_run(run, n, model, d, root, f"{d.name}/metrics.json")
            out.notes.append(f"run {n} read from {d.name}/metrics.json (not in summary.json)")
    return out


def _rust(root: Path, doc: Any, model: str | None) -> _Parsed:
    out = _Parsed()
    dirs = dict(run_dirs(root))
    configs: tuple[RustAgentConfig, RustAgentConfig] | None = None
    listed: list[tuple[RustRun, str]] = []
    if doc is not None:
        summary = validate(RustSummary, doc, root / "summary.json")
        if summary.agent_a is not None and summary.agent_b is not None:
            configs = (summary.agent_a, summary.agent_b)
        out.aggregate = dict(summary.aggregate)
        out.generated_at = summary.generated_at
        out.scenario = summary.scenario
        listed = [(r, "summary.json") for r in summary.runs]
    written = {r.run_number for r, _ in listed}
    per_run: dict[int, RustRunMetrics] = {}
    for n, d in dirs.items():
        if (d / "metrics.json").is_file():
            per_run[n] = validate(RustRunMetrics, load_json(d / "metrics.json"), d / "metrics.json")
    for n, m in sorted(per_run.items()):
        configs = configs or (m.collector.config, m.insight.config)
        if m.summary is not None and n not in written:
            listed.append((m.summary.model_copy(update={"run_number": n}), f"run_{n}/metrics.json"))
            out.notes.append(f"run {n} read from run_{n}/metrics.json (not in summary.json)")
    if configs is None:  # nothing says who the agents were: the demo's two roles
        configs = (RustAgentConfig(id="collector"), RustAgentConfig(id="insight"))
    for i, (r, src) in enumerate(listed):
        n = _number(r.run_number, i, out.runs, out.notes)
        out.runs[n] = _rust_run(r, n, configs, per_run.get(n), dirs.get(n), root, model, src)
    return out


def read_multiagent(c: Candidate, files: list[str], content_hash: str) -> LegacyFolder:
    """The folder's runs; LegacyFormatError when its summary or a run file is malformed."""
    root = c.folder
    summary_path = root / "summary.json"
    doc = load_json(summary_path) if summary_path.is_file() else None
    model = model_from_path(root.resolve())
    cfg = config_from_path(root.resolve())
    origin: Origin = "rust" if c.shape == "rust-multiagent" else "python"
    if c.shape == "python-multiagent-v1":
        parsed = _Parsed(*read_v1(root, doc, model, _number))
    elif origin == "python":
        parsed = _python(root, doc, model)
    else:
        parsed = _rust(root, doc, model)
    ordered = [parsed.runs[n] for n in sorted(parsed.runs)]
    if not ordered:
        raise LegacyFormatError(
            f"{root}: summary.json lists no runs and no run_N/metrics.json holds one"
        )
    # what the tool recorded first, then what the folder's name says
    scenario = parsed.scenario or next((r.scenario for r in ordered if r.scenario), None)
    scenario = scenario or cfg.scenario
    models = {a.model for r in ordered for a in r.agents if a.model}
    return LegacyFolder(
        kind="legacy-multiagent",
        origin=origin,
        path=str(root),
        files=files,
        content_hash=content_hash,
        fmt=f"{c.shape}-" + ("summary" if doc is not None else "runs"),
        model=", ".join(sorted(models)) if models else model,
        scenario=scenario,
        folder_config=cfg.flat(),
        runs=ordered,
        generated_at=parsed.generated_at,
        aggregate=parsed.aggregate,
        notes=parsed.notes,
    )
