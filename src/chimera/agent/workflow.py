"""One agent run: analysis call, parse, report call, fact check and quality score, each timed.

A failed call does not raise: it is recorded with its reason, the run is marked failed, and
everything measured until then is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from chimera.agent.analysis import analyse, as_parsed, clean_body
from chimera.agent.calls import (
    ANSWER_RESERVE_TOKENS,
    call,
    call_options,
    choose_mode,
    choose_shape,
    small_model,
)
from chimera.agent.check import assess
from chimera.agent.compose import clean_prose, compose_body, findings_text, names_data_in
from chimera.agent.echo import instruction_texts
from chimera.agent.factsheet import build_factsheet, sheet_budget
from chimera.agent.known import known_numbers
from chimera.agent.model_size import model_parameters
from chimera.agent.personas import Persona
from chimera.agent.prompts import REPORT_SECTIONS, report_messages, summary_messages, with_nonce
from chimera.agent.spec import AgentRun, AgentSpec
from chimera.backends.base import Backend
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, estimate_tokens, render_digest
from chimera.ingest.pipeline import IngestResult
from chimera.options import InferenceOptions

MIN_DIGEST_TOKENS = 150


def digest_budget(persona: Persona, options: InferenceOptions) -> int:
    """The digest's token budget: the default, shrunk to fit ``num_ctx`` when it is set."""
    if options.num_ctx is None:
        return DEFAULT_BUDGET_TOKENS
    overhead = estimate_tokens(persona.prompt) + 250 + ANSWER_RESERVE_TOKENS
    return max(MIN_DIGEST_TOKENS, min(DEFAULT_BUDGET_TOKENS, options.num_ctx - overhead))


# The context servers use when num_ctx is not set (Ollama's and llama.cpp's default).
ASSUMED_CONTEXT_TOKENS = 2048
MAX_ANALYSIS_TOKENS = 500


def analysis_budget(persona: Persona, options: InferenceOptions, digest: str) -> int:
    """Tokens of the first call's analysis that the report prompt can carry: what is left of
    the context after the persona, the digest, the instructions and room for the answer."""
    context = options.num_ctx or ASSUMED_CONTEXT_TOKENS
    used = estimate_tokens(persona.prompt) + estimate_tokens(digest) + 300
    return max(0, min(MAX_ANALYSIS_TOKENS, context - used - ANSWER_RESERVE_TOKENS))


def trim_to_tokens(text: str, budget: int) -> str:
    """``text`` cut to about ``budget`` tokens at a paragraph or line end, marked as cut."""
    if estimate_tokens(text) <= budget:
        return text
    limit = int(budget * 3.5)
    cut = text[:limit]
    end = max(cut.rfind("\n\n"), cut.rfind("\n"))
    if end > limit // 2:
        cut = cut[:end]
    return cut.rstrip() + "\n[... the rest of the analysis was left out to fit the context]\n"


async def run_agent(
    spec: AgentSpec,
    facts: IngestResult,
    backend: Backend,
    *,
    ingest_s: float = 0.0,
    note: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    check: bool = True,
    nonce: str | None = None,
) -> AgentRun:
    """Run the two-call workflow on ``facts`` with ``backend``; never raises for call failures.

    The analysis cites a numbered fact sheet; the report is either laid out by Chimera
    around the model's summary (``compose``) or written whole by the model (``full``).

    ``nonce`` (a short unique line) starts both calls' prompts, so that no earlier call's
    prompt in a server's prompt cache shortens this run's prefill.

    With ``check=False`` the fact check and quality score are left for ``check_run``: a
    benchmark that times agents running together calls it after the timed phase, so that the
    agents' pure CPU work does not queue on one event loop inside the measurement.
    """
    t0 = time.perf_counter()
    run = AgentRun(
        spec=spec,
        backend=backend.kind,
        url=backend.url,
        started_at=datetime.now(UTC),
        offline=backend.kind == "offline",
        note=note,
    )
    run.timings.ingest_s = ingest_s
    run.digest_budget_tokens = digest_budget(spec.persona, spec.options)
    run.digest = render_digest(facts, run.digest_budget_tokens)
    if backend.kind != "offline":  # the model's size picks the shapes and the loop guards
        run.model_parameters = await model_parameters(backend, spec.model)
    small = small_model(backend.kind, run.model_parameters)
    run.analysis_shape = choose_shape(spec, backend.kind, run.model_parameters)
    run.report_mode = choose_mode(spec, backend.kind, run.model_parameters)
    overhead = estimate_tokens(spec.persona.prompt) + 250
    answer = call_options(spec, small, "analysis").num_predict or ANSWER_RESERVE_TOKENS
    sheet = build_factsheet(
        facts, sheet_budget(spec.options.num_ctx, overhead, max(answer, ANSWER_RESERVE_TOKENS))
    )
    run.factsheet = sheet.text()

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    stage("analysis")
    t = time.perf_counter()
    analysis = await analyse(run, backend, sheet, nonce)
    run.timings.analysis_s = time.perf_counter() - t
    if analysis is not None and run.structured is not None:
        structured = run.structured
        run.analysis = as_parsed(structured, sheet)
        stage("report")
        t = time.perf_counter()
        if run.report_mode == "compose":
            messages = summary_messages(spec.persona, findings_text(structured, sheet))
            report = await call(
                run, backend, "report", with_nonce(messages, nonce), purpose="summary"
            )
            if report is not None:
                summary, dropped = clean_prose(
                    report.text,
                    instruction_texts([spec.persona]),
                    run.factsheet,
                    names_data=names_data_in(facts),
                )
                structured.rejected += [f"summary sentence with {d[:160]}" for d in dropped]
                run.analysis.executive_summary = summary
                run.report_body = compose_body(facts, sheet, structured, summary)
        else:
            messages = report_messages(
                spec.persona,
                sheet.text(),
                trim_to_tokens(
                    findings_text(structured, sheet),
                    analysis_budget(spec.persona, spec.options, sheet.text()),
                ),
            )
            report = await call(run, backend, "report", with_nonce(messages, nonce))
            if report is not None:
                run.report_body = clean_body(report.text)
        run.timings.report_s = time.perf_counter() - t
        if report is not None and check:
            stage("check")
            check_run(run, facts)
    run.timings.total_s = ingest_s + (time.perf_counter() - t0)
    run.finished_at = datetime.now(UTC)
    return run


def check_run(run: AgentRun, facts: IngestResult) -> None:
    """Fact check, junk and quality score of the report body (the LLM's own text only).

    Text echoed from the instructions is removed from the stored body and counted as junk; a
    body with nothing left fails the run."""
    if run.report_body is None or run.factcheck is not None:
        return  # no report to check, or checked already
    analysis = run.analysis
    result = assess(
        run.report_body,
        facts,
        known_numbers(facts, [("digest", run.digest), ("fact sheet", run.factsheet)]),
        instructions=instruction_texts([run.spec.persona]),
        required_sections=REPORT_SECTIONS,
        target_words=run.spec.persona.target_words,
        findings=_credited(run)[0] if analysis else None,
        recommendations=_credited(run)[1] if analysis else None,
    )
    run.report_body = result.body
    run.factcheck = result.factcheck
    run.junk = [{"kind": j.kind, "evidence": j.evidence, "line": j.line} for j in result.junk]
    run.quality = result.quality
    if result.empty and run.status == "ok":
        run.status, run.error = "failed", result.empty_reason()


def _credited(run: AgentRun) -> tuple[int, int]:
    """Findings and recommendations the score credits: the model's own, not the narrator's
    fallback (offline, the narrator is the writer)."""
    structured, analysis = run.structured, run.analysis
    if structured is None or run.offline:
        return (len(analysis.findings), len(analysis.recommendations)) if analysis else (0, 0)
    fell_back = any(f.startswith("recommendations") for f in structured.fallback)
    return structured.model_findings, 0 if fell_back else len(structured.recommendations)
