"""The offline narrative: the analysis and the report written from the facts, without an LLM.

Deterministic: the same facts give the same text. Every number in it comes from the facts, so
the fact check grounds all of it.
"""

from __future__ import annotations

from collections.abc import Callable

from chimera.agent.known import ModelSummary, model_summaries
from chimera.agent.personas import Persona
from chimera.agent.prompts import REPORT_SECTIONS
from chimera.calls import GenerationRequest
from chimera.ingest.findings import Finding
from chimera.ingest.inventory import TYPE_LABELS
from chimera.ingest.pipeline import IngestResult
from chimera.ingest.stats import Stat

OFFLINE_NOTE = "*Written by Chimera's offline narrator from the computed facts: no LLM was used.*"

# What to do about each kind of data-quality finding.
REMEDIES: dict[str, str] = {
    "failed_as_zeros": "Record failed runs with an explicit status instead of zero figures, "
    "so that averages are not dragged toward zero.",
    "failure_marked_success": "Mark runs that carry error text as failed at the source.",
    "warmup_not_excluded": "Run warm-up requests first and exclude them: cold loads inflate "
    "TTFT means.",
    "summary_mismatch": "Regenerate summary files from their raw runs; do not edit them by hand.",
    "duplicate_file": "Keep one copy of each result file; duplicates double-count in naive "
    "analyses.",
    "same_data": "Keep one format per result set (CSV or JSON), not both.",
    "high_spread": "Repeat the noisy configurations more times and report the spread.",
    "schema_drift": "Keep one schema per benchmark family so that runs stay comparable.",
    "contradicted_claim": "Correct the Markdown reports whose numbers disagree with the data.",
    "encoding": "Save result files as UTF-8.",
    "error_artifact": "Remove or re-run the result files that hold an error message, not data.",
}


def _num(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}" if abs(v) < 1e15 else f"{v:.3g}"


def _cfg(s: Stat) -> str:
    return s.config_label if s.config else "server defaults"


def _types_line(result: IngestResult) -> str:
    inv = result.inventory
    parts = [f"{TYPE_LABELS.get(k, k)} {v.count}" for k, v in inv.types.items()]
    return ", ".join(parts)


def _finding_line(f: Finding) -> str:
    return f"**{f.kind}** ({f.severity}): {f.title}"


def _summary(result: IngestResult, models: list[ModelSummary]) -> str:
    inv = result.inventory
    text = (
        f"Chimera analysed {inv.ingested} files ({_types_line(result)}) and extracted "
        f"{len(result.facts)} measurements covering {len(result.models())} models."
    )
    fastest = max(
        (m for m in models if m.best),
        key=lambda m: m.best.mean or 0,  # type: ignore[union-attr]
        default=None,
    )
    if fastest and fastest.best:
        text += (
            f" The highest mean throughput is {_num(fastest.best.mean)} tok/s, for "
            f"{fastest.model} with {_cfg(fastest.best)}."
        )
    errors = sum(1 for f in result.findings if f.severity == "error")
    text += (
        f" The data has {len(result.findings)} data-quality findings, {errors} of them "
        "errors, to fix before these numbers are trusted."
    )
    return text


def _model_finding(m: ModelSummary) -> str | None:
    if m.best is None or m.worst is None:
        return None
    line = (
        f"**{m.model}**: best mean throughput {_num(m.best.mean)} tok/s with {_cfg(m.best)}"
        f" (n={m.best.n}), worst {_num(m.worst.mean)} tok/s with {_cfg(m.worst)}"
        f" (n={m.worst.n})"
    )
    if m.best_ttft is not None and m.best_ttft.mean is not None:
        line += f"; best mean TTFT {_num(m.best_ttft.mean, 3)} s"
    return line + "."


def findings(result: IngestResult, limit: int = 8) -> list[str]:
    models = model_summaries(result)
    items = [line for m in models if (line := _model_finding(m))]
    items += [_finding_line(f) for f in result.findings if f.severity != "info"]
    return items[:limit]


def recommendations(result: IngestResult, limit: int = 5) -> list[str]:
    items: list[str] = []
    models = [m for m in model_summaries(result) if m.best and m.worst]
    if models:
        top = max(models, key=lambda m: (m.best.mean or 0) - (m.worst.mean or 0))  # type: ignore[union-attr]
        assert top.best is not None and top.worst is not None
        items.append(
            f"For {top.model}, use {_cfg(top.best)}: {_num(top.best.mean)} tok/s against "
            f"{_num(top.worst.mean)} tok/s for {_cfg(top.worst)}, the widest gap measured."
        )
    seen: set[str] = set()
    for f in result.findings:
        if f.kind in REMEDIES and f.kind not in seen:
            seen.add(f.kind)
            items.append(REMEDIES[f.kind])
    if len(items) < 3:
        items.append(
            "Repeat each configuration at least five times with a fixed prompt set, "
            "so that differences can be tested for significance."
        )
    return items[:limit]


def analysis_text(result: IngestResult, persona: Persona) -> str:
    models = model_summaries(result)
    parts = ["## Executive Summary", "", _summary(result, models), "", "## Key Findings", ""]
    parts += [f"- {line}" for line in findings(result)] or ["- No throughput data was found."]
    parts += ["", "## Recommendations", ""]
    parts += [f"{i}. {line}" for i, line in enumerate(recommendations(result), 1)]
    return "\n".join(parts) + "\n"


def _inventory_section(result: IngestResult) -> list[str]:
    inv = result.inventory
    lines = [
        f"- Files ingested: {inv.ingested} ({_types_line(result)}); skipped: {inv.skipped}"
        + (
            f" ({', '.join(f'{k} {v}' for k, v in inv.skipped_by_reason.items())})"
            if inv.skipped_by_reason
            else ""
        )
        + "."
    ]
    for fmt, t in inv.types.items():
        lines.append(
            f"- {TYPE_LABELS.get(fmt, fmt)}: {t.count} files, latest modified {t.latest_modified}."
        )
    lines.append(
        f"- Directories with files: {len(inv.directories)}; duplicate copies: {inv.duplicates}."
    )
    return lines


def performance_table(result: IngestResult) -> list[str]:
    rows = [
        "| Model | Best tok/s | Best configuration | Worst tok/s | Best TTFT (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in model_summaries(result):
        rows.append(
            f"| {m.model} | {_num(m.best.mean) if m.best else 'n/a'} | "
            f"{_cfg(m.best) if m.best else 'n/a'} | {_num(m.worst.mean) if m.worst else 'n/a'} "
            f"| {_num(m.best_ttft.mean, 3) if m.best_ttft else 'n/a'} |"
        )
    return rows


def _risks(result: IngestResult) -> list[str]:
    rows = ["| Risk | Mitigation |", "| --- | --- |"]
    for f in result.findings[:4]:
        rows.append(f"| {f.title} | {REMEDIES.get(f.kind, 'Review the files listed.')} |")
    if len(rows) < 4:
        rows.append(
            "| Single runs hide variance | Repeat each configuration and report "
            "confidence intervals. |"
        )
    return rows


def report_text(result: IngestResult, persona: Persona) -> str:
    models = model_summaries(result)
    body: dict[str, list[str]] = {
        "Executive Summary": [OFFLINE_NOTE, "", _summary(result, models)],
        "Data Ingestion Summary": _inventory_section(result),
        "Performance Analysis": performance_table(result),
        "Key Findings": [f"- {line}" for line in findings(result)],
        "Recommendations": [f"{i}. {line}" for i, line in enumerate(recommendations(result), 1)],
        "Appendix": ["Risks and mitigations:", "", *_risks(result)]
        if persona.focus == "insight"
        else [
            "All figures above are means over the runs found in the data files; failed runs are "
            "excluded and counted as failed."
        ],
    }
    out = []
    for i, name in enumerate(REPORT_SECTIONS, 1):
        out += [f"## {i}. {name}", "", *body[name], ""]
    return "\n".join(out)


def responder(result: IngestResult, persona: Persona) -> Callable[[GenerationRequest], str]:
    """The offline backend's responder for an agent run on ``result``."""

    def respond(request: GenerationRequest) -> str:
        if request.purpose == "report":
            return report_text(result, persona)
        return analysis_text(result, persona)

    return respond
