"""What is measured at one point: a fixed prompt (generate mode) or one agent run (agent mode).

A workload turns (backend, options) into a ``RunOutcome``: the metrics of one measured run
under the names ``chimera ingest`` recognizes, and every call it made, for the store. Call
failures never raise: the outcome is ``failed`` with the reason, so a sweep goes on.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from chimera.agent.spec import AgentRun, AgentSpec
from chimera.agent.workflow import run_agent
from chimera.backends.base import Backend, generate, load_for
from chimera.calls import (
    CallMetrics,
    CallResult,
    CallTotals,
    ChatMessage,
    GenerationRequest,
    call_totals,
)
from chimera.errors import ChimeraError
from chimera.ingest.pipeline import IngestResult
from chimera.metrics_table import CALL_METRIC_UNITS
from chimera.options import InferenceOptions

# Per-run metric columns. Each name is in chimera.ingest's alias table (ttft_ms -> ttft_s in
# ms, decode_tokens_per_s -> tokens_per_s, ...), so a sweep's CSV reads back as measurements.
METRICS: tuple[str, ...] = tuple(CALL_METRIC_UNITS)
UNITS = CALL_METRIC_UNITS  # the one table: chimera.metrics_table

DEFAULT_PROMPT = (
    "Explain in a few short paragraphs how the size of the context window and the number of "
    "layers offloaded to the GPU change the speed of a language model running locally."
)
DEFAULT_NUM_PREDICT = 128

Mode = Literal["generate", "agent"]


def session_tag() -> str:
    """A random tag for one session's nonces: a server's prompt cache outlives a session."""
    return secrets.token_hex(3)


def nonce_line(tag: str, *parts: object) -> str:
    """The line that starts a measured call's prompt, e.g. ``[chimera 3fa9c1 r2 together b]``.

    Servers (Ollama, llama.cpp, vLLM) skip the prefill of a prompt prefix they have seen; a
    first line no other measured call shares makes every call pay for its whole prompt.
    """
    return "[chimera " + " ".join([tag, *(str(p) for p in parts)]) + "]"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One call: its stage (generate, warmup, analysis, report), prompt, and result or error."""

    stage: str
    prompt: str
    result: CallResult | None
    error: str | None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One measured run at one point."""

    status: Literal["ok", "failed"]
    error: str | None
    metrics: dict[str, float | int | None]  # METRICS names; None = not measured
    calls: tuple[CallOutcome, ...]
    elapsed_s: float
    agent: AgentRun | None = None


def metrics_of(m: CallMetrics | CallTotals) -> dict[str, float | int | None]:
    """One call's (or several calls' totals') figures under the METRICS names."""
    return {name: getattr(m, name) for name in METRICS}


async def _call(backend: Backend, request: GenerationRequest, stage: str) -> CallOutcome:
    prompt = request.input_text
    try:
        result = await generate(backend, request)
    except ChimeraError as exc:
        return CallOutcome(stage, prompt, None, str(exc))
    return CallOutcome(stage, prompt, result, None)


async def load_call(backend: Backend, model: str, options: InferenceOptions) -> CallOutcome | None:
    """Load ``model`` with a point's load-time options on a backend that fixes them at load
    (llama.cpp in-process: a call never reloads), before the point's warm-up; None for a
    backend that takes them on each call. A failed load is an outcome with its reason."""
    try:
        result = await load_for(backend, model, options)
    except ChimeraError as exc:
        return CallOutcome("load", "", None, str(exc))
    return None if result is None else CallOutcome("load", "", result, None)


class Workload(Protocol):
    """Something measured at each point of a sweep or trial of a search."""

    mode: ClassVar[Mode]

    @property
    def model(self) -> str:
        """The model every call uses (for llamacpp: a GGUF path)."""
        ...

    async def warmup(self, backend: Backend, options: InferenceOptions) -> CallOutcome:
        """One call that loads the model with ``options``; not a result."""
        ...

    async def run(
        self, backend: Backend, options: InferenceOptions, nonce: str | None = None
    ) -> RunOutcome:
        """One measured run; ``nonce`` (see nonce_line) starts its prompts."""
        ...


@dataclass(frozen=True, slots=True)
class GenerateWorkload:
    """Pure throughput: one completion of a fixed prompt per run, no agent workflow."""

    mode: ClassVar[Mode] = "generate"
    model: str
    prompt: str = DEFAULT_PROMPT

    def request(self, options: InferenceOptions, nonce: str | None = None) -> GenerationRequest:
        if options.num_predict is None:
            options = options.model_copy(update={"num_predict": DEFAULT_NUM_PREDICT})
        prompt = f"{nonce}\n{self.prompt}" if nonce else self.prompt
        # A chat turn, so the server formats it with the model's template (as Ollama's
        # /api/generate does and a raw completion does not): an instruct model answers a raw
        # prompt with its end token at once half the time (SmolLM2 in-process).
        message = ChatMessage(role="user", content=prompt)
        return GenerationRequest(model=self.model, messages=(message,), options=options)

    async def warmup(self, backend: Backend, options: InferenceOptions) -> CallOutcome:
        return await _call(backend, self.request(options), "warmup")

    async def run(
        self, backend: Backend, options: InferenceOptions, nonce: str | None = None
    ) -> RunOutcome:
        t = time.perf_counter()
        call = await _call(backend, self.request(options, nonce), "generate")
        elapsed = time.perf_counter() - t
        if call.result is None:
            return RunOutcome("failed", call.error, dict.fromkeys(METRICS), (call,), elapsed)
        return RunOutcome("ok", None, metrics_of(call.result.metrics), (call,), elapsed)


@dataclass(frozen=True, slots=True)
class AgentWorkload:
    """One agent run (analysis and report calls) on ingested facts per measured run.

    A run's figures are its calls' totals: output tokens over decode time, mean TTFT, summed
    durations and tokens (``chimera.backends.metrics.call_totals``).
    """

    mode: ClassVar[Mode] = "agent"
    spec: AgentSpec
    facts: IngestResult
    prompt: str = DEFAULT_PROMPT

    @property
    def model(self) -> str:
        return self.spec.model

    async def warmup(self, backend: Backend, options: InferenceOptions) -> CallOutcome:
        plain = GenerateWorkload(self.spec.model, self.prompt)
        return await _call(backend, plain.request(options), "warmup")

    async def run(
        self, backend: Backend, options: InferenceOptions, nonce: str | None = None
    ) -> RunOutcome:
        t = time.perf_counter()
        spec = self.spec.model_copy(update={"options": options})
        run = await run_agent(spec, self.facts, backend, nonce=nonce)
        elapsed = time.perf_counter() - t
        calls = tuple(
            CallOutcome(
                c.stage,
                "\n\n".join(f"[{m.role}]\n{m.content}" for m in c.messages),
                c.result,
                c.error,
            )
            for c in run.calls
        )
        metrics = metrics_of(call_totals([r.metrics for r in run.results()]))
        return RunOutcome(run.status, run.error, metrics, calls, elapsed, agent=run)
