"""One agent run: analysis call, parse, report call, fact check and quality score, each timed.

A failed call does not raise: it is recorded with its reason, the run is marked failed, and
everything measured until then is kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.check import assess
from chimera.agent.echo import instruction_texts
from chimera.agent.factcheck import FactCheck
from chimera.agent.known import known_numbers
from chimera.agent.parse import ParsedAnalysis, parse_analysis
from chimera.agent.personas import Persona
from chimera.agent.prompts import (
    REPORT_SECTIONS,
    analysis_messages,
    report_messages,
    with_nonce,
)
from chimera.agent.quality import QualityScore
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


async def _call(
    run: AgentRun, backend: Backend, stage: Stage, messages: tuple[ChatMessage, ...]
) -> CallResult | None:
    spec = run.spec
    record = CallRecord(stage=stage, messages=list(messages))
    run.calls.append(record)
    request = GenerationRequest(
        model=spec.model, messages=messages, options=spec.options, purpose=stage
    )
    try:
        record.result = await generate(backend, request)
    except ChimeraError as exc:
        record.error, record.error_type = str(exc), type(exc).__name__
        run.status, run.error = "failed", f"{stage} call failed: {exc}"
        return None
    return record.result


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

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    stage("analysis")
    t = time.perf_counter()
    analysis = await _call(
        run, backend, "analysis", with_nonce(analysis_messages(spec.persona, run.digest), nonce)
    )
    run.timings.analysis_s = time.perf_counter() - t
    if analysis is not None:
        run.analysis = parse_analysis(analysis.text)
        stage("report")
        t = time.perf_counter()
        report = await _call(
            run,
            backend,
            "report",
            with_nonce(
                report_messages(
                    spec.persona,
                    run.digest,
                    trim_to_tokens(
                        clean_body(analysis.text),
                        analysis_budget(spec.persona, spec.options, run.digest),
                    ),
                ),
                nonce,
            ),
        )
        run.timings.report_s = time.perf_counter() - t
        if report is not None:
            run.report_body = clean_body(report.text)
            if check:
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
        known_numbers(facts, [("digest", run.digest)]),
        instructions=instruction_texts([run.spec.persona]),
        required_sections=REPORT_SECTIONS,
        target_words=run.spec.persona.target_words,
        findings=len(analysis.findings) if analysis else None,
        recommendations=len(analysis.recommendations) if analysis else None,
    )
    run.report_body = result.body
    run.factcheck = result.factcheck
    run.junk = [{"kind": j.kind, "evidence": j.evidence, "line": j.line} for j in result.junk]
    run.quality = result.quality
    if result.empty and run.status == "ok":
        run.status, run.error = "failed", result.empty_reason()
