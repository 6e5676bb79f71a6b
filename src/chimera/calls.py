"""The values every layer speaks: what to generate, what came back and what was measured.

Requests (``GenerationRequest`` with ``ChatMessage``s), streamed ``TextChunk``s, the
``CallResult`` with its ``CallMetrics``, server descriptions (``ServerInfo``, ``ModelInfo``)
and ``CallTotals`` over several calls. Plain data: this module imports no layer of Chimera
(only ``chimera.options``, itself a value module), so render, store, bench and the agent
depend on these values, not on the network package that produces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chimera.options import InferenceOptions


class ChatMessage(BaseModel):
    """One chat message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class GenerationRequest(BaseModel):
    """What to generate: a prompt (completion) or chat messages, for one model, with options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="model name (for llamacpp: a GGUF file path)")
    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    system: str | None = Field(None, description="system prompt for a completion request")
    options: InferenceOptions = InferenceOptions()
    keep_alive: str | float | None = Field(
        None, description="how long the server keeps the model loaded (Ollama); None = default"
    )
    purpose: str | None = Field(
        None, description="what the call is for (e.g. analysis, report); never sent to a server"
    )
    json_schema: dict[str, Any] | None = Field(
        None,
        description="a JSON schema the answer must follow, enforced by the server (Ollama "
        "format, OpenAI response_format, llama.cpp grammar); None = free text",
    )

    @model_validator(mode="after")
    def _one_input(self) -> GenerationRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        return self

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    @property
    def input_text(self) -> str:
        """The prompt, or the messages' contents one after another."""
        return self.prompt or "\n\n".join(m.content for m in self.messages or ())


@dataclass(slots=True, frozen=True)
class TextChunk:
    """A piece of generated text and when it arrived (perf_counter_ns). ``reasoning``: the
    model's reasoning sent apart from the answer (OpenAI ``reasoning_content``, Ollama
    ``message.thinking``); its text is not part of the answer."""

    text: str
    t_ns: int
    reasoning: bool = False


class CallMetrics(BaseModel):
    """Exact measurements of one call. ``None`` = not known; never a made-up zero.

    Names in ``estimated`` were derived from the client's stream, not reported by the server.
    """

    model_config = ConfigDict(extra="forbid")

    ttft_ms: float | None = Field(None, description="client clock: request sent -> first token")
    ttfot_ms: float | None = Field(
        None,
        description="client clock: request sent -> first token of the answer, after any "
        "reasoning (<think>...</think> first in the text, or reasoning sent apart); equal to "
        "ttft_ms when there was no reasoning; None when reasoning never ended in an answer",
    )
    e2e_ms: float | None = Field(None, description="client clock: request sent -> stream end")
    itl_ms_mean: float | None = Field(None, description="mean gap between chunks after the first")
    itl_ms_p50: float | None = None
    itl_ms_p99: float | None = None
    load_ms: float | None = Field(None, description="server: model load time")
    prompt_eval_ms: float | None = Field(None, description="server: prompt evaluation time")
    eval_ms: float | None = Field(None, description="server: decode time")
    server_total_ms: float | None = Field(None, description="server: total request time")
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    decode_tokens_per_s: float | None = Field(None, description="output_tokens / eval time")
    prefill_tokens_per_s: float | None = Field(None, description="prompt_tokens / prompt eval")
    done_reason: str | None = None
    chunks: int = Field(0, description="non-empty text chunks received")
    estimated: list[str] = Field(default_factory=list)


class CallResult(BaseModel):
    """The outcome of one successful call."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    url: str
    model: str
    endpoint: str = Field(description="API path or 'in-process'")
    text: str
    done_reason: str | None
    metrics: CallMetrics
    started_at: datetime
    options: dict[str, Any] = Field(default_factory=dict, description="options sent (set only)")


class ModelInfo(BaseModel):
    """A model a server has installed or loaded."""

    model_config = ConfigDict(extra="forbid")

    name: str
    size_bytes: int | None = None
    size_vram_bytes: int | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    family: str | None = None
    expires_at: str | None = None
    digest: str | None = Field(None, description="what identifies the weights (Ollama's digest)")


class ServerInfo(BaseModel):
    """What a server says about itself."""

    model_config = ConfigDict(extra="forbid")

    url: str
    kind: str
    version: str | None = None
    models: list[ModelInfo] = Field(default_factory=list)
    loaded: list[ModelInfo] | None = Field(None, description="None = the server cannot tell")


class CallTotals(BaseModel):
    """Metrics over several calls (an agent's analysis and report calls, say).

    Throughput is total output tokens over total decode time, so a long call weighs more than a
    short one; TTFT is the mean over the calls; durations and tokens are sums. None = unknown.
    """

    model_config = ConfigDict(extra="forbid")

    calls: int
    decode_tokens_per_s: float | None
    ttft_ms: float | None
    e2e_ms: float | None
    output_tokens: int | None
    prompt_tokens: int | None
    prompt_eval_ms: float | None
    eval_ms: float | None
    load_ms: float | None
    estimated: list[str]


def _sum(values: list[float | int | None]) -> float | None:
    return (
        None
        if not values or any(v is None for v in values)
        else float(sum(v for v in values if v is not None))
    )


def call_totals(metrics: Sequence[CallMetrics]) -> CallTotals:
    """Aggregate the metrics of ``metrics``' calls (pure)."""
    estimated = sorted({name for m in metrics for name in m.estimated})
    out_tokens = _sum([m.output_tokens for m in metrics])
    eval_ms = _sum([m.eval_ms for m in metrics])
    ttfts = [m.ttft_ms for m in metrics if m.ttft_ms is not None]
    rate = None
    if out_tokens is not None and eval_ms:
        rate = out_tokens / (eval_ms / 1000.0)
    else:  # no usable decode time: the calls' own (possibly estimated) rates, averaged
        rates = [m.decode_tokens_per_s for m in metrics if m.decode_tokens_per_s is not None]
        rate = sum(rates) / len(rates) if rates else None
    prompt_tokens = _sum([m.prompt_tokens for m in metrics])
    return CallTotals(
        calls=len(metrics),
        decode_tokens_per_s=rate,
        ttft_ms=sum(ttfts) / len(ttfts) if ttfts else None,
        e2e_ms=_sum([m.e2e_ms for m in metrics]),
        output_tokens=None if out_tokens is None else int(out_tokens),
        prompt_tokens=None if prompt_tokens is None else int(prompt_tokens),
        prompt_eval_ms=_sum([m.prompt_eval_ms for m in metrics]),
        eval_ms=eval_ms,
        load_ms=_sum([m.load_ms for m in metrics]),
        estimated=estimated,
    )
