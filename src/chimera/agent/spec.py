"""An agent and one run of it, as data: who the agent is and what it runs on, every call with
its prompt and result, the validated analysis, the report, its check and score."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.factcheck import FactCheck
from chimera.agent.parse import ParsedAnalysis
from chimera.agent.personas import Persona
from chimera.agent.quality import QualityScore
from chimera.agent.structured import StructuredAnalysis
from chimera.backends.base import EndpointSettings
from chimera.calls import CallResult, ChatMessage
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS
from chimera.options import InferenceOptions

Stage = Literal["analysis", "report"]
Shape = Literal["auto", "json", "lines"]
ReportMode = Literal["auto", "compose", "full"]


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
        description="json (schema enforced by the server or a grammar) or lines; auto: json "
        "for a model under 1B parameters, lines for a larger one (unknown size: json "
        "in-process, lines on servers)",
    )
    report_mode: ReportMode = Field(
        "auto",
        description="compose (Chimera lays out the report, the model writes its summary) or "
        "full (the model writes every section); auto: compose for a model under 1B "
        "parameters, full for a larger one; unknown size: compose in-process, full on servers",
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
    analysis_shape: str | None = Field(None, description="json or lines: what was asked for")
    report_mode: str | None = Field(None, description="compose or full: who wrote the body")
    model_parameters: float | None = Field(
        None, description="the model's size as the server or its name says; None = unknown"
    )
    structured: StructuredAnalysis | None = None
    report_body: str | None = None
    factcheck: FactCheck | None = None
    junk: list[dict[str, object]] = Field(default_factory=list)
    quality: QualityScore | None = None
    offline: bool = False
    note: str | None = Field(None, description="e.g. why the run fell back to offline")

    def results(self) -> list[CallResult]:
        return [c.result for c in self.calls if c.result is not None]
