"""The old results as Chimera reads them: typed values, one per folder, ready to judge and store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from chimera.legacy.definitions import Origin

Kind = Literal["legacy-multiagent", "legacy-run"]


@dataclass(slots=True)
class LegacyAgent:
    """One agent's part in one old run, its figures under the old definitions."""

    agent_id: str
    label: str | None = None
    persona: str | None = None
    model: str | None = None
    url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    response: str | None = None
    report_path: str | None = None
    throughput: float | None = None  # tok/s, old definition
    ttft_ms: float | None = None  # old definition (Python: prefill; Rust: first chunk)
    total_duration_ms: float | None = None
    e2e_ms: float | None = None  # one call's or the agent's whole time, per the definitions
    wall_ms: float | None = None  # the agent's wall time while running beside the other
    tokens: int | None = None
    eval_ms: float | None = None
    load_ms: float | None = None
    prompt_eval_ms: float | None = None


@dataclass(slots=True)
class LegacyRun:
    """One old run: both agents, and the run's figures as the old tool wrote them."""

    run_number: int
    scenario: str | None
    agents: list[LegacyAgent]
    source: str  # the file the run's figures were read from
    wall_s: float | None = None
    sequential_estimate_s: float | None = None
    legacy_speedup: float | None = None
    efficiency_percent: float | None = None
    throughput_delta: float | None = None
    ttft_delta_ms: float | None = None
    contention: bool | None = None
    written: dict[str, Any] = field(default_factory=dict)  # every run-level field as written


@dataclass(slots=True)
class LegacyFolder:
    """One old result folder: its kind, origin, what it measured and its runs."""

    kind: Kind
    origin: Origin
    path: str  # the folder, as found
    files: list[str]  # the files read, relative to the folder
    content_hash: str  # sha256 of the files read: the imported run's identity
    fmt: str  # e.g. python-multiagent-summary, rust-single-metrics
    model: str | None
    scenario: str | None
    folder_config: dict[str, Any]
    runs: list[LegacyRun]
    generated_at: str | None = None
    aggregate: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        parts = [self.origin, self.scenario or self.kind, self.model or "model unknown"]
        shown = self.folder_config or (self.runs[0].agents[-1].options if self.runs else {})
        cfg = ",".join(f"{k}={v}" for k, v in shown.items())
        return " ".join(parts) + (f" [{cfg}]" if cfg else "")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that looked like an old result but could not be read, and why."""

    path: str
    reason: str
