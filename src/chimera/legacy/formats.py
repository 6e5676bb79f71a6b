"""The old demos' result files as they wrote them (pydantic models, lenient on extra fields).

The old Python and Rust demos wrote a ``summary.json`` per configuration folder, and the Rust
one also a ``run_N/metrics.json`` per run. Field meanings follow the old code, not Chimera's:
see :data:`chimera.legacy.definitions.DEFINITIONS` and docs/legacy.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Old(BaseModel):
    # Old tool versions added fields over time; what is not read here is kept in the raw file.
    model_config = ConfigDict(extra="ignore")


# --- Python multi-agent (summary.json, run_N/metrics.json) ---------------------------------


class PyAgentMetrics(_Old):
    tokens_generated: int | None = None
    throughput_tokens_per_sec: float | None = Field(
        None, description="eval_count / eval_duration (the server's decode rate), tok/s"
    )
    ttft_ms: float | None = Field(
        None, description="the server's prompt_eval_duration, ms: prefill only, not a TTFT"
    )
    total_duration_ms: float | None = Field(
        None, description="eval_duration + prompt_eval_duration, ms (no load, no queueing)"
    )
    wall_clock_ms: float | None = Field(None, description="the client's time for the call, ms")


class PyAgent(_Old):
    id: str | None = None  # None: named after its role (collector, insight)
    base_url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    response: str | None = None
    metrics: PyAgentMetrics = Field(default_factory=PyAgentMetrics)


class PyRun(_Old):
    run_number: int | None = None  # None: numbered by its place in the list
    scenario: str | None = None
    collector: PyAgent | None = None
    insight: PyAgent | None = None
    concurrent_wall_time_ms: float | None = None
    sequential_estimate_ms: float | None = None
    concurrency_speedup: float | None = None
    efficiency_percent: float | None = None
    throughput_delta: float | None = None
    ttft_delta_ms: float | None = None


class PySummary(_Old):
    runs: list[PyRun] = Field(default_factory=list)
    aggregate: dict[str, float | None] = Field(default_factory=dict)


# --- the first Python multi-agent demo (TR110: baseline_*/chimera_* runs, seconds) --------


class PyV1Run(_Old):
    run_number: int | None = None
    collector_ollama_url: str | None = None
    insight_ollama_url: str | None = None
    baseline_throughput: float | None = None
    chimera_throughput: float | None = None
    throughput_delta: float | None = None
    baseline_ttft_ms: float | None = None
    chimera_ttft_ms: float | None = None
    ttft_delta_ms: float | None = None
    baseline_duration: float | None = Field(None, description="collector's wall time, s")
    chimera_duration: float | None = Field(None, description="insight's wall time, s")
    concurrent_wall_time: float | None = Field(None, description="s")
    sequential_estimated_time: float | None = Field(None, description="s")
    concurrency_speedup: float | None = None
    efficiency_percent: float | None = None
    resource_contention_detected: bool | None = None


class PyV1Summary(_Old):
    runs: list[PyV1Run] = Field(default_factory=list)
    aggregate: dict[str, float | None] = Field(default_factory=dict)
    scenario: str | None = None
    chimera_overrides: dict[str, Any] | None = None
    chimera_overrides_agent2: dict[str, Any] | None = None
    collector_ollama_url: str | None = None
    insight_ollama_url: str | None = None
    generated_at: str | None = None


# --- Rust multi-agent (summary.json, run_N/metrics.json) -----------------------------------


class RustAgentConfig(_Old):
    id: str
    label: str | None = None
    model: str | None = None
    base_url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    prompt: str | None = None


class RustRun(_Old):
    run_number: int | None = None  # None: numbered by its place in the list
    scenario: str | None = None
    collector_throughput: float | None = None
    collector_ttft_ms: float | None = None
    insight_throughput: float | None = None
    insight_ttft_ms: float | None = None
    concurrency_speedup: float | None = None
    concurrent_wall_time_s: float | None = None
    sequential_estimated_s: float | None = None
    efficiency_percent: float | None = None
    resource_contention_detected: bool | None = None
    throughput_delta: float | None = None
    ttft_delta_ms: float | None = None


class RustSummary(_Old):
    agent_a: RustAgentConfig | None = None  # early versions wrote only the runs
    agent_b: RustAgentConfig | None = None
    aggregate: dict[str, float | None] = Field(default_factory=dict)
    generated_at: str | None = None
    scenario: str | None = None
    runs: list[RustRun] = Field(default_factory=list)


class RustAggregate(_Old):
    average_tokens_per_second: float | None = None
    average_ttft_ms: float | None = None
    total_duration_ms: float | None = None
    total_tokens_generated: int | None = None
    eval_duration_ms: float | None = None
    load_duration_ms: float | None = None
    prompt_eval_duration_ms: float | None = None


class RustAgentResult(_Old):
    agent_type: str | None = None
    model: str | None = None
    aggregate_metrics: RustAggregate = Field(default_factory=RustAggregate)
    timestamp: str | None = None


class RustAgentExecution(_Old):
    config: RustAgentConfig
    execution_time_s: float | None = Field(
        None, description="the agent's wall time while running beside the other, s"
    )
    result: RustAgentResult = Field(default_factory=RustAgentResult)


class RustRunMetrics(_Old):
    """run_N/metrics.json of the Rust demo: both agents' executions and the run's summary."""

    collector: RustAgentExecution
    insight: RustAgentExecution
    run_number: int | None = None
    scenario: str | None = None
    summary: RustRun | None = None


# --- single-agent (baseline vs chimera) metrics.json ---------------------------------------


class SingleAggregate(_Old):
    average_tokens_per_second: float | None = None
    average_ttft_ms: float | None = None
    total_duration_ms: float | None = None
    total_tokens_generated: int | None = None


class SingleAgentMetrics(_Old):
    agent_type: str | None = None
    model: str | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    aggregate_metrics: SingleAggregate = Field(default_factory=SingleAggregate)
    timestamp: str | None = None


class PyV1RunMetrics(_Old):
    """run_N/metrics.json of the first Python multi-agent demo."""

    collector: SingleAgentMetrics
    insight: SingleAgentMetrics
    summary: PyV1Run | None = None
    collector_execution_time: float | None = None
    insight_execution_time: float | None = None


class PySingleSide(_Old):
    report: str | None = None
    metrics: SingleAgentMetrics = Field(default_factory=SingleAgentMetrics)
    execution_time: float | None = None
    start_time: str | None = None


class PySingleRun(_Old):
    """One entry of the Python single-agent demo's metrics.json (a list of these)."""

    run_number: int
    baseline_results: PySingleSide
    chimera_results: PySingleSide


class RustSingle(_Old):
    """The Rust single-agent demo's metrics.json: both agents' aggregates side by side."""

    baseline: SingleAgentMetrics
    chimera: SingleAgentMetrics
    language: str | None = None
    timestamp: str | None = None
