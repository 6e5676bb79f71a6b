"""``chimera run``'s HTML report and plots: an agent run and its facts in, PNGs and a page out.

The page carries what report.md carries (the LLM's report, metrics, fact check, data quality,
workflow, persona prompt) plus the plots and a per-call metrics table. Pure: nothing is read
or written here; ``chimera.app.run`` writes the files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from chimera.agent.report import METRIC_GLOSSARY
from chimera.agent.spec import AgentRun, CallRecord
from chimera.calls import CallMetrics, call_totals
from chimera.ingest.findings import Finding
from chimera.ingest.inventory import data_summary_block
from chimera.ingest.pipeline import IngestResult
from chimera.render.groups import MetricGroups, metric_groups
from chimera.render.html import Image, Section, Table, html_page
from chimera.render.plots import plot_bar_panels, plot_distributions

THROUGHPUT_PNG = "throughput.png"
TTFT_PNG = "ttft.png"
CALLS_PNG = "calls.png"
MAX_SHOWN = 3  # evidence lines and files per data-quality finding before "more"
PLOT_TITLES = {
    THROUGHPUT_PNG: "Decode throughput in the artifacts, per model and configuration",
    TTFT_PNG: "Time to first token in the artifacts, per model and configuration",
    CALLS_PNG: "This run's LLM calls",
}


def _groups_caption(g: MetricGroups) -> str:
    parts = [
        f"{g.observations} successful observations of {g.metric} from CSV/JSON files, in "
        f"{g.unit}. A row with the model alone had no settings recorded; settings measured "
        "once each are pooled into one row per model."
    ]
    if g.omitted:
        parts.append(f"{g.omitted} smaller groups are not shown.")
    if g.other_units:
        parts.append(f"{g.other_units} observations in other units are left out.")
    return " ".join(parts)


def _call_label(i: int, c: CallRecord) -> str:
    return f"{i}. {c.stage}"


def run_plots(run: AgentRun, facts: IngestResult) -> dict[str, bytes]:
    """File name -> PNG: throughput and TTFT distributions from the artifacts (when they hold
    any), and this run's per-call decode rate and TTFT (not for an offline run, whose timings
    measure no inference). Deterministic for the same input."""
    plots: dict[str, bytes] = {}
    for name, metric, title in (
        (THROUGHPUT_PNG, "tokens_per_s", "Decode throughput (artifacts)"),
        (TTFT_PNG, "ttft_s", "Time to first token (artifacts)"),
    ):
        g = metric_groups(facts.facts, metric)
        if g.groups:
            plots[name] = plot_distributions(g.groups, title, g.unit, color_keys=g.models)
    measured = [(i, c) for i, c in enumerate(run.calls, 1) if c.result is not None]
    if not run.offline and measured:
        metrics = [c.result.metrics for _, c in measured if c.result is not None]
        rates = [m.decode_tokens_per_s for m in metrics]
        ttfts = [m.ttft_ms for m in metrics]
        panels = [
            (heading, values, unit)
            for heading, values, unit in (
                ("Decode rate", rates, "tok/s"),
                ("Time to first token", ttfts, "ms"),
            )
            if any(v is not None and math.isfinite(v) for v in values)
        ]
        if panels:
            labels = [_call_label(i, c) for i, c in measured]
            plots[CALLS_PNG] = plot_bar_panels(labels, panels, f"{run.spec.label}: LLM calls")
    return plots


def _num(v: float | int | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return str(v) if isinstance(v, int) else f"{v:,.{digits}f}"


_CALL_COLUMNS: tuple[tuple[str, Callable[[CallMetrics], str]], ...] = (
    ("TTFT (ms)", lambda m: _num(m.ttft_ms)),
    ("Decode (tok/s)", lambda m: _num(m.decode_tokens_per_s, 2)),
    ("Output tokens", lambda m: _num(m.output_tokens)),
    ("Prompt tokens", lambda m: _num(m.prompt_tokens)),
    ("Prompt eval (ms)", lambda m: _num(m.prompt_eval_ms)),
    ("Eval (ms)", lambda m: _num(m.eval_ms)),
    ("Load (ms)", lambda m: _num(m.load_ms)),
    ("Total (ms)", lambda m: _num(m.e2e_ms)),
    ("Estimated", lambda m: ", ".join(m.estimated) or "-"),
)


def _metrics_section(run: AgentRun) -> Section:
    columns = ["Call", "Status", *(name for name, _ in _CALL_COLUMNS)]
    rows: list[list[str]] = []
    for i, c in enumerate(run.calls, 1):
        if c.result is None:
            rows.append([_call_label(i, c), f"failed: {c.error}", *["n/a"] * len(_CALL_COLUMNS)])
        elif run.offline:
            rows.append([_call_label(i, c), "ok (offline)", *["n/a"] * len(_CALL_COLUMNS)])
        else:
            m = c.result.metrics
            rows.append([_call_label(i, c), "ok", *(cell(m) for _, cell in _CALL_COLUMNS)])
    results = run.results()
    if len(results) > 1 and not run.offline:
        t = call_totals([r.metrics for r in results])
        rows.append(
            ["All calls", "", _num(t.ttft_ms), _num(t.decode_tokens_per_s, 2)]
            + [_num(v) for v in (t.output_tokens, t.prompt_tokens, t.prompt_eval_ms)]
            + [_num(v) for v in (t.eval_ms, t.load_ms, t.e2e_ms)]
            + [", ".join(t.estimated) or "-"]
        )
    if run.offline:
        paragraph = (
            "No LLM was used (offline narrator): its timings measure no inference, so none "
            "are shown."
        )
    else:
        paragraph = (
            "One row per LLM call; the All calls row sums durations and tokens, takes "
            "throughput as total output tokens over total decode time, and TTFT as the mean."
        )
    return Section(
        "Metrics",
        paragraphs=[paragraph],
        tables=[
            Table(columns, rows, numeric=frozenset(range(2, len(columns) - 1))),
            Table(
                ["Term", "Definition"], [list(t) for t in METRIC_GLOSSARY], caption="Definitions"
            ),
        ],
    )


def _plots_section(plots: Mapping[str, bytes], facts: IngestResult) -> Section:
    captions = {
        THROUGHPUT_PNG: _groups_caption(metric_groups(facts.facts, "tokens_per_s")),
        TTFT_PNG: _groups_caption(metric_groups(facts.facts, "ttft_s")),
        CALLS_PNG: "Decode rate and time to first token of each call of this run.",
    }
    images = [
        Image(png, alt=PLOT_TITLES.get(name, name), caption=captions.get(name, name))
        for name, png in plots.items()
    ]
    return Section("Plots", images=images)


def _fact_check_section(run: AgentRun) -> Section:
    fc = run.factcheck
    if fc is None:
        return Section("Fact check", paragraphs=["Not run: the report call did not complete."])
    ignored = ", ".join(f"{k} {v}" for k, v in fc.ignored_kinds.items()) or "none"
    ratio = "n/a" if fc.grounded_ratio is None else f"{fc.grounded_ratio:.0%}"
    tables = []
    if fc.unsupported:
        rows = [
            [c.claim.raw, str(c.claim.line), c.claim.sentence]
            for c in sorted(fc.unsupported, key=lambda c: c.claim.line)
        ]
        tables.append(
            Table(
                ["Number", "Line", "Sentence"],
                rows,
                caption="Numbers not found in the facts",
                numeric=frozenset({1}),
            )
        )
    if fc.grounded:
        rows = [
            [c.claim.raw, c.how or "", c.matched or "", str(c.claim.line)]
            for c in sorted(fc.grounded, key=lambda c: c.claim.line)
        ]
        tables.append(
            Table(
                ["Number", "How", "Matched fact", "Line"],
                rows,
                caption="Grounded numbers",
                numeric=frozenset({3}),
                collapsed=True,
            )
        )
    if run.junk:
        junk_rows = [[str(j["kind"]), str(j["line"]), str(j["evidence"])] for j in run.junk]
        tables.append(
            Table(["Junk", "Line", "Evidence"], junk_rows, caption="Junk in the LLM's text")
        )
    return Section(
        "Fact check",
        paragraphs=[
            f"{len(fc.claims)} numbers checked against the facts: {len(fc.grounded)} grounded, "
            f"{len(fc.unsupported)} unsupported ({ratio} grounded); {fc.ignored} ignored "
            f"({ignored})."
        ],
        tables=tables,
    )


def _finding_text(f: Finding) -> str:
    files = ", ".join(f.files[:MAX_SHOWN])
    if len(f.files) > MAX_SHOWN:
        files += f" and {len(f.files) - MAX_SHOWN} more"
    lines = [f.title, *(f"– {e}" for e in f.evidence[:MAX_SHOWN])]
    if len(f.evidence) > MAX_SHOWN:
        lines.append(f"– ... {len(f.evidence) - MAX_SHOWN} more under All evidence")
    return "\n".join([*lines, f"Files: {files}"] if files else lines)


def _data_quality_section(facts: IngestResult) -> Section:
    tables = []
    findings = facts.findings
    if findings:
        rows = [[str(i), f.severity, f.kind, _finding_text(f)] for i, f in enumerate(findings, 1)]
        tables.append(
            Table(
                ["#", "Severity", "Kind", "Finding, evidence and files"],
                rows,
                numeric=frozenset({0}),
            )
        )
    if any(len(f.evidence) > MAX_SHOWN or len(f.files) > MAX_SHOWN for f in findings):
        every = [
            [str(i), f.kind, "\n".join(f.evidence), "\n".join(f.files)]
            for i, f in enumerate(findings, 1)
        ]
        tables.append(
            Table(
                ["#", "Kind", "Evidence", "Files"],
                every,
                caption="All evidence and files",
                numeric=frozenset({0}),
                collapsed=True,
            )
        )
    if facts.skipped:
        rows = [[s.path, s.reason, s.detail] for s in facts.skipped]
        tables.append(Table(["File", "Reason", "Detail"], rows, caption="Skipped files"))
    paragraphs = [] if findings else ["No data-quality problems were found."]
    return Section("Data quality", paragraphs=paragraphs, tables=tables)


def _workflow_section(run: AgentRun, facts: IngestResult) -> Section:
    t = run.timings
    rows = [
        [name, _num(v, 2)]
        for name, v in (
            ("Ingest", t.ingest_s),
            ("Analysis call", t.analysis_s),
            ("Report call", t.report_s),
            ("Total", t.total_s),
        )
    ]
    return Section(
        "Workflow",
        paragraphs=[f"Files analyzed: {facts.inventory.ingested}."],
        tables=[Table(["Stage", "Seconds"], rows, numeric=frozenset({1}))],
        preformatted=[data_summary_block(facts.inventory).rstrip()],
    )


def render_run_html(run: AgentRun, facts: IngestResult, plots: Mapping[str, bytes]) -> str:
    """The run's HTML page; ``plots`` (name -> PNG, as from ``run_plots``) are embedded."""
    spec = run.spec
    fc, quality = run.factcheck, run.quality
    meta = [
        ("Date", (run.finished_at or run.started_at).strftime("%Y-%m-%d %H:%M UTC")),
        ("Agent type", spec.persona.label),
        ("Model", spec.model),
        ("Backend", f"{run.backend} ({run.url})"),
        ("Configuration", spec.options.legacy_line()),
        ("Status", run.status if run.error is None else f"{run.status}: {run.error}"),
    ]
    if fc is not None and fc.grounded_ratio is not None:
        meta.append(("Grounded numbers", f"{fc.grounded_ratio:.0%} of {len(fc.claims)}"))
    if quality is not None:
        meta.append(("Report quality", f"{quality.total:.0f}/100"))
    analysis = run.analysis
    sections = [
        Section(
            "Report",
            errors=[f"This run failed: {run.error}"] if run.status == "failed" else [],
            notes=[run.note] if run.note else [],
            markdown=[run.report_body] if run.report_body else [],
            paragraphs=[] if run.report_body else ["No report body: see the notes above."],
        ),
        Section(
            "Key findings",
            items=(analysis.findings if analysis else []) or ["(the analysis named no findings)"],
        ),
        Section(
            "Recommendations",
            items=(analysis.recommendations if analysis else [])
            or ["(the analysis named no recommendations)"],
        ),
        _metrics_section(run),
    ]
    if plots:
        sections.append(_plots_section(plots, facts))
    sections += [
        _fact_check_section(run),
        _data_quality_section(facts),
        _workflow_section(run, facts),
        Section("Persona prompt", preformatted=[spec.persona.prompt]),
    ]
    return html_page(spec.label, sections, meta=meta)
