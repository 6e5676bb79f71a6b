"""One agent run: analysis call, parse, report call, fact check and quality score, each timed.

A failed call does not raise: it is recorded with its reason, the run is marked failed, and
everything measured until then is kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.check import assess
from chimera.agent.compose import clean_prose, compose_body, findings_text
from chimera.agent.echo import instruction_texts
from chimera.agent.factcheck import FactCheck
from chimera.agent.factsheet import FactSheet, build_factsheet, sheet_budget
from chimera.agent.known import known_numbers
from chimera.agent.parse import ParsedAnalysis
from chimera.agent.personas import Persona
from chimera.agent.prompts import (
    REPORT_SECTIONS,
    analysis_messages,
    report_messages,
    summary_messages,
    with_nonce,
)
from chimera.agent.quality import QualityScore
from chimera.agent.structured import (
    AnalysisAnswer,
    StructuredAnalysis,
    analysis_schema,
    example_lines,
    finding_text,
    parse_json,
    parse_lines,
    validate,
    with_fallback,
)
from chimera.backends.base import (
    Backend,
    CallResult,
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    generate,
)
from chimera.errors import ChimeraError
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, estimate_tokens, render_digest
from chimera.ingest.pipeline import IngestResult
from chimera.options import InferenceOptions

Stage = Literal["analysis", "report"]
Shape = Literal["auto", "json", "lines"]
ReportMode = Literal["auto", "compose", "full"]
# Tokens kept free in the context window for the model's answer.
ANSWER_RESERVE_TOKENS = 400
MIN_DIGEST_TOKENS = 150


class AgentSpec(BaseModel):
    """Who the agent is and what it runs on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="file-safe id, e.g. insight")
    label: str = Field(description="shown as the report's title, e.g. Chimera Agent B")
    persona: Persona
    model: str
    endpoint: EndpointSettings = EndpointSettings()
    options: InferenceOptions = InferenceOptions()
    analysis_shape: Shape = Field(
        "auto",
        description="json (schema enforced by the server) or lines; auto: json in-process, "
        "lines on servers",
    )
    report_mode: ReportMode = Field(
        "auto",
        description="compose (Chimera lays out the report, the model writes its summary) or "
        "full (the model writes every section); auto: compose in-process, full on servers",
    )


class CallRecord(BaseModel):
    """One LLM call of a run: the prompt, and the result or the reason it failed."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage
    messages: list[ChatMessage]
    result: CallResult | None = None
    error: str | None = None
    error_type: str | None = None


class StageTimings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ingest_s: float = 0.0
    analysis_s: float | None = None
    report_s: float | None = None
    total_s: float = 0.0


class AgentRun(BaseModel):
    """Everything one agent run produced and measured."""

    model_config = ConfigDict(extra="forbid")

    spec: AgentSpec
    backend: str
    url: str
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    timings: StageTimings = StageTimings()
    digest: str = ""
    digest_budget_tokens: int = DEFAULT_BUDGET_TOKENS
    calls: list[CallRecord] = Field(default_factory=list)
    analysis: ParsedAnalysis | None = None
    factsheet: str = Field("", description="the numbered facts the analysis cites")
    structured: StructuredAnalysis | None = None
    report_body: str | None = None
    factcheck: FactCheck | None = None
    junk: list[dict[str, object]] = Field(default_factory=list)
    quality: QualityScore | None = None
    offline: bool = False
    note: str | None = Field(None, description="e.g. why the run fell back to offline")

    def results(self) -> list[CallResult]:
        return [c.result for c in self.calls if c.result is not None]


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


_THINK = re.compile(r"<think>.*?</think>\s*", re.S)
_FENCE = re.compile(r"^\s*```(?:markdown|md)?\s*\n(.*)\n\s*```\s*$", re.S)


def clean_body(text: str) -> str:
    """The LLM's report without reasoning blocks or a fence wrapped around the whole answer."""
    text = _THINK.sub("", text)
    if m := _FENCE.match(text):
        text = m.group(1)
    return text.strip() + "\n"


# Guards against a small model's loops on the in-process engine, where llama-cpp-python's own
# defaults are no repeat penalty and no token cap; options the user set are never replaced.
# Server backends get the options as given: a benchmark measures the settings it was handed.
GUARD_REPEAT_PENALTY = 1.15
# llama-cpp-python samples at 0.8 by default; at that heat the 135M model wandered off the
# facts within a line, at 0.2 it copied them.
GUARD_TEMPERATURE = 0.2
TOKEN_CAPS = {"analysis": 448, "summary": 160, "report": 1024}


def call_options(spec: AgentSpec, backend_kind: str, purpose: str) -> InferenceOptions:
    """The options of one call: the spec's, with the loop guards filled in where unset."""
    if backend_kind != "llamacpp":
        return spec.options
    guard = InferenceOptions(
        repeat_penalty=GUARD_REPEAT_PENALTY,
        temperature=GUARD_TEMPERATURE,
        num_predict=TOKEN_CAPS.get(purpose, 320),
    )
    return guard.merged(spec.options)


def choose_shape(spec: AgentSpec, backend_kind: str) -> Literal["json", "lines"]:
    """Measured in-process with SmolLM2-135M (docs/agent.md): json, whose grammar holds the
    fact ids to the sheet. Servers get lines, which any server can answer."""
    if spec.analysis_shape != "auto":
        return spec.analysis_shape
    return "json" if backend_kind == "llamacpp" else "lines"


def choose_mode(spec: AgentSpec, backend_kind: str) -> Literal["compose", "full"]:
    if spec.report_mode != "auto":
        return spec.report_mode
    return "compose" if backend_kind == "llamacpp" else "full"


async def _call(
    run: AgentRun,
    backend: Backend,
    stage: Stage,
    messages: tuple[ChatMessage, ...],
    *,
    purpose: str | None = None,
    json_schema: dict[str, object] | None = None,
) -> CallResult | None:
    spec = run.spec
    record = CallRecord(stage=stage, messages=list(messages))
    run.calls.append(record)
    request = GenerationRequest(
        model=spec.model,
        messages=messages,
        options=call_options(spec, backend.kind, purpose or stage),
        purpose=stage,
        json_schema=json_schema,
    )
    try:
        record.result = await generate(backend, request)
    except ChimeraError as exc:
        record.error, record.error_type = str(exc), type(exc).__name__
        run.status, run.error = "failed", f"{stage} call failed: {exc}"
        return None
    return record.result


def interpret(
    text: str, shape: str, sheet: FactSheet, instructions: Sequence[str] = ()
) -> tuple[StructuredAnalysis, bool]:
    """The validated analysis of one answer, and whether the answer had its shape (valid
    JSON of the schema; for lines, at least one cited finding)."""
    answer: AnalysisAnswer | None = parse_json(text) if shape == "json" else None
    if answer is None:
        answer = parse_lines(clean_body(text))  # a json answer that fell back to lines
        valid = shape == "lines" and bool(answer.findings)
        return validate(answer, sheet, "lines", instructions), valid
    return validate(answer, sheet, "json", instructions), True


async def _analyse(
    run: AgentRun, backend: Backend, sheet: FactSheet, nonce: str | None
) -> CallResult | None:
    """The analysis call (and, for a json answer that is not valid, one repair call); sets
    ``run.structured``, falling back to the narrator's findings with the reason recorded."""
    spec = run.spec
    shape = choose_shape(spec, backend.kind)
    schema = analysis_schema(sheet) if shape == "json" else None
    small = choose_mode(spec, backend.kind) == "compose"
    prompt = analysis_messages(
        spec.persona, sheet.text(), shape, example=example_lines(sheet), brief=small
    )
    messages = with_nonce(prompt, nonce)
    answer = await _call(run, backend, "analysis", messages, json_schema=schema)
    if answer is None:
        return None
    if backend.kind == "offline":
        run.structured = with_fallback(
            StructuredAnalysis(shape="narrator"), sheet, "written offline, without an LLM"
        )
        return answer
    instructions = instruction_texts([spec.persona])
    structured, well_formed = interpret(answer.text, shape, sheet, instructions)
    if shape == "json" and not well_formed and not structured.findings:
        structured.rejected.append("the answer was not JSON of the schema; asked once more")
        repair = await _call(run, backend, "analysis", messages, json_schema=schema)
        if repair is None:
            return None
        again, _ = interpret(repair.text, shape, sheet, instructions)
        again.rejected[:0] = structured.rejected
        structured, answer = again, repair
    if not structured.findings:
        reason = "the model's answer had no finding citing a fact on the sheet"
        structured = with_fallback(structured, sheet, reason)
    elif not structured.recommendations:
        structured = with_fallback(
            structured, sheet, "the model tied no recommendation to a finding"
        )
    run.structured = structured
    return answer


def _parsed(structured: StructuredAnalysis, sheet: FactSheet) -> ParsedAnalysis:
    """The analysis by role, as the report's Key Findings and Recommendations show it."""
    return ParsedAnalysis(
        executive_summary="",
        findings=[finding_text(f, sheet) for f in structured.findings],
        recommendations=[r.action for r in structured.recommendations],
        sections={},
        risks=[],
    )


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
    overhead = estimate_tokens(spec.persona.prompt) + 250
    answer = call_options(spec, backend.kind, "analysis").num_predict or ANSWER_RESERVE_TOKENS
    sheet = build_factsheet(
        facts, sheet_budget(spec.options.num_ctx, overhead, max(answer, ANSWER_RESERVE_TOKENS))
    )
    run.factsheet = sheet.text()

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    stage("analysis")
    t = time.perf_counter()
    analysis = await _analyse(run, backend, sheet, nonce)
    run.timings.analysis_s = time.perf_counter() - t
    if analysis is not None and run.structured is not None:
        structured = run.structured
        run.analysis = _parsed(structured, sheet)
        stage("report")
        t = time.perf_counter()
        if choose_mode(spec, backend.kind) == "compose":
            messages = summary_messages(spec.persona, findings_text(structured, sheet))
            report = await _call(
                run, backend, "report", with_nonce(messages, nonce), purpose="summary"
            )
            if report is not None:
                summary, dropped = clean_prose(
                    report.text, instruction_texts([spec.persona]), run.factsheet
                )
                structured.rejected += [
                    f"summary sentence with a figure not on the sheet: {d[:120]}" for d in dropped
                ]
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
            report = await _call(run, backend, "report", with_nonce(messages, nonce))
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
