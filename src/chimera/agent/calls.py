"""One LLM call of an agent run, recorded whatever happens, and the options and shapes each
call uses per backend (loop guards in-process, the options as given on servers)."""

from __future__ import annotations

from typing import Literal

from chimera.agent.spec import AgentRun, AgentSpec, CallRecord, Stage
from chimera.backends.base import Backend, generate
from chimera.calls import CallResult, ChatMessage, GenerationRequest
from chimera.errors import ChimeraError
from chimera.options import InferenceOptions

# Tokens kept free in the context window for the model's answer.
ANSWER_RESERVE_TOKENS = 400


def guard_line(run: AgentRun) -> str | None:
    """The loop guards a run's calls carried, as the report header says them; None when none
    did (a large model, offline, or every guarded option set by the user)."""
    if run.offline or not small_model(run.backend, run.model_parameters):
        return None
    options = run.spec.options
    parts = []
    if options.temperature is None:
        parts.append(f"temperature={GUARD_TEMPERATURE:g}")
    if options.repeat_penalty is None:
        parts.append(f"repeat_penalty={GUARD_REPEAT_PENALTY:g}")
    if options.num_predict is None:
        caps = ", ".join(f"{k} {v}" for k, v in TOKEN_CAPS.items())
        parts.append(f"num_predict per call ({caps})")
    return ", ".join(parts) or None


# Below this many parameters a model gets the composed report (docs/agent.md): SmolLM2-135M
# wrote noise in every section of its own, over HTTP as in-process. Where the line lies
# between 135M and the 4B-and-up models users run on servers was not measured here:
# sub-billion models (SmolLM2, gemma3:270m, qwen2.5:0.5b) are treated as the one measured.
SMALL_MODEL_PARAMETERS = 1e9


def small_model(backend_kind: str, parameters: float | None) -> bool:
    """Under SMALL_MODEL_PARAMETERS; of unknown size, small in-process (the bundled model)
    and large on servers."""
    if parameters is None:
        return backend_kind == "llamacpp"
    return parameters < SMALL_MODEL_PARAMETERS


# Guards against a small model's loops (SMALL_MODEL_PARAMETERS; of unknown size, in-process
# only, where llama-cpp-python's own defaults are no repeat penalty and no token cap). Options
# the user set are never replaced, and a large model on a server gets the options as given: a
# benchmark measures the settings it was handed.
GUARD_REPEAT_PENALTY = 1.15
# llama-cpp-python samples at 0.8 by default; at that heat the 135M model wandered off the
# facts within a line, at 0.2 it copied them.
GUARD_TEMPERATURE = 0.2
# Uncapped over the Ollama protocol, SmolLM2 wrote 1,250-1,600 tokens for a summary of two or
# three sentences (40-53 s a call).
TOKEN_CAPS = {"analysis": 448, "summary": 160, "report": 1024}


def call_options(spec: AgentSpec, small: bool, purpose: str) -> InferenceOptions:
    """The options of one call: the spec's, with the loop guards filled in where unset for a
    small model (``small_model``)."""
    if not small:
        return spec.options
    guard = InferenceOptions(
        repeat_penalty=GUARD_REPEAT_PENALTY,
        temperature=GUARD_TEMPERATURE,
        num_predict=TOKEN_CAPS.get(purpose, 320),
    )
    return guard.merged(spec.options)


def choose_shape(
    spec: AgentSpec, backend_kind: str, parameters: float | None
) -> Literal["json", "lines"]:
    """json for a small model: the server's schema (a grammar in-process) holds the fact ids
    to the sheet; measured with SmolLM2-135M in-process and over the Ollama protocol
    (docs/agent.md). lines for a large one, which any server answers."""
    if spec.analysis_shape != "auto":
        return spec.analysis_shape
    return "json" if small_model(backend_kind, parameters) else "lines"


def choose_mode(
    spec: AgentSpec, backend_kind: str, parameters: float | None
) -> Literal["compose", "full"]:
    """compose for a small model (Chimera lays out the report around its summary), full for a
    large one (it writes every section)."""
    if spec.report_mode != "auto":
        return spec.report_mode
    return "compose" if small_model(backend_kind, parameters) else "full"


async def call(
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
        options=call_options(
            spec, small_model(backend.kind, run.model_parameters), purpose or stage
        ),
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
