"""The agent's Markdown report, in the layout users know from the old tool, plus Fact Check
and Data Quality (pure: a run and its facts in, text out)."""

from __future__ import annotations

from collections.abc import Iterable

from chimera.agent.calls import guard_line
from chimera.agent.spec import AgentRun
from chimera.calls import CallTotals, call_totals
from chimera.ingest.inventory import data_summary_block
from chimera.ingest.pipeline import IngestResult

METRIC_GLOSSARY = (
    (
        "Throughput",
        "output tokens over decode time, summed over the agent's calls "
        "(Ollama: eval_count / eval_duration)",
    ),
    (
        "TTFT",
        "time to first token on the client's clock, request sent to first token, mean "
        "over the calls",
    ),
    ("Total Duration", "end-to-end time of the calls on the client's clock, summed"),
    ("Tokens Generated", "output tokens, summed"),
    ("Prompt Eval", "server time evaluating the prompts, summed"),
    ("Eval Duration", "server time generating the output, summed"),
    ("Load Duration", "server time loading the model, summed"),
    ("Grounded numbers", "share of the numbers in the report body found in the facts"),
    ("Report quality", "0-100 score defined in docs/factcheck.md"),
)


def _fmt(v: float | int | None, unit: str, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return f"{v}{unit}"
    return f"{v:.{digits}f}{unit}"


def _metrics_lines(totals: CallTotals, run: AgentRun) -> list[str]:
    est = set(totals.estimated)

    def mark(*names: str) -> str:
        return " (estimated)" if est.intersection(names) else ""

    if run.offline:
        # The narrator's own timings are not inference measurements: none are shown.
        lines = [f"- {name}: n/a (no LLM was used)" for name, _ in METRIC_GLOSSARY[:7]]
    else:
        lines = [
            f"- Throughput: {_fmt(totals.decode_tokens_per_s, ' tok/s')}"
            f"{mark('decode_tokens_per_s', 'eval_ms', 'output_tokens')}",
            f"- TTFT: {_fmt(totals.ttft_ms, ' ms')}",
            f"- Total Duration: {_fmt(totals.e2e_ms, ' ms')}",
            f"- Tokens Generated: {_fmt(totals.output_tokens, '')}{mark('output_tokens')}",
            f"- Prompt Eval: {_fmt(totals.prompt_eval_ms, ' ms')}",
            f"- Eval Duration: {_fmt(totals.eval_ms, ' ms')}{mark('eval_ms')}",
            f"- Load Duration: {_fmt(totals.load_ms, ' ms')}{mark('load_ms')}",
        ]
    fc = run.factcheck
    if fc is not None:
        ratio = "n/a" if fc.grounded_ratio is None else f"{fc.grounded_ratio:.0%}"
        lines.append(f"- Grounded numbers: {ratio} ({len(fc.grounded)} of {len(fc.claims)})")
    if run.quality is not None:
        lines.append(f"- Report quality: {run.quality.total:.0f}/100")
    lines += ["", "Definitions: " + "; ".join(f"**{k}**: {v}" for k, v in METRIC_GLOSSARY) + "."]
    return lines


def _fact_check_lines(run: AgentRun) -> list[str]:
    fc = run.factcheck
    if fc is None:
        return ["Not run: the report call did not complete."]
    lines = [
        f"{len(fc.claims)} numbers checked against the facts: {len(fc.grounded)} grounded, "
        f"{len(fc.unsupported)} unsupported; {fc.ignored} ignored (dates, ordinals, "
        "versions, names)."
    ]
    if fc.unsupported:
        lines += ["", "| Number | Sentence |", "| --- | --- |"]
        for c in fc.unsupported:
            sentence = c.claim.sentence.replace("|", "\\|").replace("\n", " ").strip()
            lines.append(f"| {c.claim.raw} | {sentence[:200]} |")
    if run.junk:
        lines += ["", "Junk in the LLM's text:"]
        lines += [f"- {j['kind']} (line {j['line']}): `{j['evidence']}`" for j in run.junk]
    return lines


def _data_quality_lines(facts: IngestResult) -> list[str]:
    if not facts.findings:
        return ["No data-quality problems were found."]
    lines = []
    for f in facts.findings:
        lines.append(f"- **{f.severity}** `{f.kind}`: {f.title}")
        lines += [f"  - {e}" for e in f.evidence[:3]]
    if facts.skipped:
        lines.append(
            f"- Skipped files: {len(facts.skipped)} ("
            + ", ".join(f"{s.path}: {s.reason}" for s in facts.skipped[:5])
            + (" ..." if len(facts.skipped) > 5 else "")
            + ")"
        )
    return lines


def _analysis_lines(run: AgentRun) -> list[str]:
    """How the structured analysis was obtained: its shape, what was rejected and why, and
    which parts the narrator wrote."""
    s = run.structured
    if s is None or run.offline:
        return []
    lines = [
        "",
        f"Analysis: {s.shape} shape; {s.model_findings} finding(s) written by the model cite "
        "facts of the sheet.",
    ]
    lines += [f"- Narrator's {f}" for f in s.fallback]
    lines += [f"- Rejected: {r}" for r in s.rejected[:8]]
    return lines


def _plots_lines(plots: Iterable[str]) -> list[str]:
    names = list(plots)
    if not names:
        return []
    return ["", "## Plots", *(f"![{n.removesuffix('.png')}]({n})" for n in names)]


def render_report(run: AgentRun, facts: IngestResult, plots: Iterable[str] = ()) -> str:
    """The whole report.md text; ``plots`` are PNG file names beside it, linked under Plots."""
    spec = run.spec
    label = spec.label
    date = (run.finished_at or run.started_at).strftime("%Y-%m-%d")
    t = run.timings
    guards = guard_line(run)
    out = [
        f"# {label}",
        "",
        f"# Technical Report: {label} Analysis",
        "",
        f"**Date:** {date}",
        f"**Agent Type:** {spec.persona.label}",
        f"**Model:** {spec.model}",
        f"**Backend:** {run.backend} ({run.url})",
        f"**Configuration:** {spec.options.legacy_line()}",
        *([f"**Loop guards:** {guards} (a small model; unset options only)"] if guards else []),
        "",
        "---",
        "",
    ]
    if run.status == "failed":
        out += [f"> **This run failed:** {run.error}", ""]
    if run.note:
        out += [f"> {run.note}", ""]
    out += [
        run.report_body.rstrip() if run.report_body else "*No report body: see above.*",
        "",
        "---",
        "",
    ]

    def secs(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}s"

    out += [
        "## Workflow Summary",
        f"- Files analyzed: {facts.inventory.ingested}",
        f"- Execution time: {secs(t.total_s)} (ingest {secs(t.ingest_s)} | analysis "
        f"{secs(t.analysis_s)} | report {secs(t.report_s)})",
        "- Data summary:",
        "```",
        data_summary_block(facts.inventory).rstrip(),
        "```",
        "",
        "## Metrics",
        *_metrics_lines(call_totals([r.metrics for r in run.results()]), run),
        "",
    ]
    analysis = run.analysis
    out += ["## Key Findings"]
    out += (
        [f"- {x}" for x in analysis.findings]
        if analysis and analysis.findings
        else ["- (the analysis named no findings)"]
    )
    out += ["", "## Recommendations"]
    out += (
        [f"- {x}" for x in analysis.recommendations]
        if analysis and analysis.recommendations
        else ["- (the analysis named no recommendations)"]
    )
    out += _analysis_lines(run)
    out += _plots_lines(plots)
    out += [
        "",
        "## Fact Check",
        *_fact_check_lines(run),
        "",
        "## Data Quality",
        *_data_quality_lines(facts),
        "",
        "## Persona Prompt",
        "```",
        spec.persona.prompt,
        "```",
        "",
    ]
    return "\n".join(out)
