"""Read an old single-agent folder (baseline vs chimera, one configuration) into a LegacyFolder:
from its metrics.json when there is one, else from its Markdown reports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chimera.ingest.fields import CONFIG_ALIASES, FLOAT_CONFIG, normalize_key
from chimera.legacy.common import LegacyFormatError, validate
from chimera.legacy.definitions import Origin
from chimera.legacy.find import Candidate, load_json
from chimera.legacy.folders import config_from_path, model_from_path
from chimera.legacy.formats import PySingleRun, RustSingle, SingleAgentMetrics
from chimera.legacy.records import LegacyAgent, LegacyFolder, LegacyRun

SIDES = ("baseline", "chimera")
_RUN_HEAD = re.compile(r"(?m)^### Run (\d+)\s*$")
_RUN_LINE = re.compile(
    r"(?im)^- (baseline|chimera) duration: ([\d.]+)s\s*\(throughput ([\d.]+) tok/s, "
    r"TTFT ([\d.]+) ms\)"
)
_AVG = re.compile(r"(?i)\(([\d.]+) → ([\d.]+) (tok/s|ms)\)")
_MODEL = re.compile(r"(?m)^\*\*Model:\*\*\s*(\S+)")
_SECTIONS = {"baseline": "Baseline", "chimera": "Chimera Optimized"}
_PAIR = re.compile(r"([A-Za-z][A-Za-z _]*?)\s*[:=]\s*([\d.]+)(?=[,\s]|$)")


def section_options(comparison: str, side: str) -> dict[str, float | int]:
    """The options a comparison report lists under ``### Baseline`` or ``### Chimera
    Optimized`` (``- num_gpu: 80`` lines or ``num_gpu=60, temp=0.8``; 'default' left out)."""
    m = re.search(rf"(?ms)^### {_SECTIONS[side]}\s*$(.*?)(?=^#|\Z)", comparison)
    out: dict[str, float | int] = {}
    for key, value in _PAIR.findall(m.group(1) if m else ""):
        name = CONFIG_ALIASES.get(normalize_key(key.strip())[0])
        if name is not None and name not in out:
            out[name] = float(value) if name in FLOAT_CONFIG else int(float(value))
    return out


def reports_dir(folder: Path) -> Path:
    """Where the folder's Markdown reports are: reports/, or the folder itself."""
    return folder / "reports" if (folder / "reports").is_dir() else folder


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _metrics_path(folder: Path) -> Path | None:
    for p in (folder / "data" / "metrics.json", folder / "metrics.json"):
        if p.is_file():
            return p
    return None


def _origin(folder: Path, doc: Any, comparison: str) -> Origin:
    if isinstance(doc, list):
        return "python"
    if isinstance(doc, dict) and str(doc.get("language", "")).lower() == "rust":
        return "rust"
    base = doc.get("baseline") if isinstance(doc, dict) else None
    system = base.get("system_info") if isinstance(base, dict) else None
    if isinstance(system, dict) and "rust_version" in system:
        return "rust"  # the Rust demo before it wrote "language"
    if comparison.startswith("# Rust ") or "**Language:** Rust" in comparison:
        return "rust"
    if any(p.lower() == "rust" for p in folder.resolve().parts):
        return "rust"
    return "python"


def _agent(side: str, m: SingleAgentMetrics, report: str | None, path: str | None) -> LegacyAgent:
    agg = m.aggregate_metrics
    return LegacyAgent(
        agent_id=side,
        label=m.agent_type or side,
        model=m.model,
        options=dict(m.configuration),
        response=report,
        report_path=path,
        throughput=agg.average_tokens_per_second,
        ttft_ms=agg.average_ttft_ms,
        total_duration_ms=agg.total_duration_ms,
        e2e_ms=agg.total_duration_ms,
        tokens=agg.total_tokens_generated,
    )


def _report_file(folder: Path, side: str, n: int | None) -> tuple[str | None, str | None]:
    names = [f"{side}_report_run_{n}.md"] if n is not None else []
    names.append(f"{side}_report.md")
    for name in names:
        path = reports_dir(folder) / name
        if path.is_file():
            return str(path.relative_to(folder)), _read(path)
    return None, None


def _from_markdown(folder: Path, comparison: str) -> list[LegacyRun]:
    """Runs from comparison_report.md: each '### Run N' block, else the averages line."""
    runs: list[LegacyRun] = []
    heads = list(_RUN_HEAD.finditer(comparison))
    for i, h in enumerate(heads):
        block = comparison[h.end() : heads[i + 1].start() if i + 1 < len(heads) else None]
        n = int(h.group(1))
        agents = []
        for side, dur, tps, ttft in _RUN_LINE.findall(block):
            path, text = _report_file(folder, side.lower(), n)
            agents.append(
                LegacyAgent(
                    agent_id=side.lower(),
                    response=text,
                    report_path=path,
                    throughput=float(tps),
                    ttft_ms=float(ttft),
                    wall_ms=float(dur) * 1000.0,
                )
            )
        runs.append(LegacyRun(n, "baseline_vs_chimera", agents, "reports/comparison_report.md"))
    if runs:
        return runs
    pairs = {unit: (float(a), float(b)) for a, b, unit in _AVG.findall(comparison)}
    agents = []
    for i, side in enumerate(SIDES):
        path, text = _report_file(folder, side, None)
        tps, ttft = pairs.get("tok/s"), pairs.get("ms")
        agents.append(
            LegacyAgent(
                agent_id=side,
                response=text,
                report_path=path,
                throughput=tps[i] if tps else None,
                ttft_ms=ttft[i] if ttft else None,
            )
        )
    return [LegacyRun(1, "baseline_vs_chimera", agents, "reports/comparison_report.md")]


def read_single(c: Candidate, files: list[str], content_hash: str) -> LegacyFolder:
    """The folder's baseline and chimera runs; LegacyFormatError when its metrics.json is
    malformed or nothing in it can be read."""
    folder = c.folder
    mpath = _metrics_path(folder)
    doc = load_json(mpath) if mpath else None
    cpath = reports_dir(folder) / "comparison_report.md"
    comparison = _read(cpath) if cpath.is_file() else ""
    origin = _origin(folder, doc, comparison)
    runs: list[LegacyRun] = []
    src = str(mpath.relative_to(folder)) if mpath else ""
    if isinstance(doc, list) and mpath:
        for entry in doc:
            py = validate(PySingleRun, entry, mpath)
            agents = []
            for side in SIDES:
                part = getattr(py, f"{side}_results")
                path, text = _report_file(folder, side, py.run_number)
                agent = _agent(side, part.metrics, part.report or text, path)
                agent.wall_ms = None if part.execution_time is None else part.execution_time * 1e3
                agents.append(agent)
            runs.append(LegacyRun(py.run_number, "baseline_vs_chimera", agents, src))
    elif isinstance(doc, dict) and mpath:
        rust = validate(RustSingle, doc, mpath)
        agents = []
        for side in SIDES:
            path, text = _report_file(folder, side, None)
            agents.append(_agent(side, getattr(rust, side), text, path))
        runs.append(LegacyRun(1, "baseline_vs_chimera", agents, src))
    elif comparison:
        runs = _from_markdown(folder, comparison)
    else:
        runs = _reports_only(folder)
    if not runs:
        raise LegacyFormatError(f"{folder}: no metrics.json, comparison report or run reports")
    m = _MODEL.search(comparison)
    models = {a.model for r in runs for a in r.agents if a.model}
    model = m.group(1) if m else (", ".join(sorted(models)) or model_from_path(folder.resolve()))
    for r in runs:
        for a in r.agents:
            a.model = a.model or model
            if not a.options and a.agent_id in _SECTIONS:
                a.options = section_options(comparison, a.agent_id)
    return LegacyFolder(
        kind="legacy-run",
        origin=origin,
        path=str(folder),
        files=files,
        content_hash=content_hash,
        fmt=f"{origin}-single-" + ("metrics" if doc is not None else "reports"),
        model=model,
        scenario="baseline_vs_chimera",
        folder_config=config_from_path(folder.resolve()).flat(),
        runs=runs,
    )


def _reports_only(folder: Path) -> list[LegacyRun]:
    """Runs from baseline_report_run_N.md / chimera_report_run_N.md alone (no figures)."""
    numbers = sorted(
        {
            int(m.group(1))
            for p in reports_dir(folder).glob("*_report_run_*.md")
            if (m := re.search(r"_run_(\d+)\.md$", p.name))
        }
    )
    runs = []
    for n in numbers or [1]:
        agents = []
        for side in SIDES:
            path, text = _report_file(folder, side, n)
            if path:
                agents.append(LegacyAgent(agent_id=side, response=text, report_path=path))
        if agents:
            runs.append(LegacyRun(n, "baseline_vs_chimera", agents, "reports"))
    return runs
