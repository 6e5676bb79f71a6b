"""Settings of one test server: protocol, engine, models, modelled timings, slots and faults."""

from __future__ import annotations

from typing import ClassVar, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Protocol = Literal["ollama", "openai"]
EngineKind = Literal["modelled", "llamacpp"]
FaultKind = Literal[
    "none",
    "refuse",
    "http_404",
    "http_500",
    "error_line",
    "cut",
    "stall",
    "malformed",
    "empty_concurrent",
    "garbage",
    "huge_line",
    "drip",
    "empty",
    "restart",
    "down",
    "keepalive",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


class TestServerConfig(BaseModel):
    """How a test server behaves. Every delay is modelled and reported back exactly.

    Timeline of one generation request: wait for a free slot (``slots``), load the model if it
    is cold (``load_ms``), evaluate the prompt (``prefill_ms``), send the first token, send each
    later token ``token_interval_ms`` after the previous one, then the final chunk.

    ``engine="llamacpp"`` replaces the modelled timeline with real generation by llama.cpp
    (``model``, ``parallel``, ``threads``, ``ctx``); the modelled timings and canned answers
    are then unused.
    """

    # A pydantic model named Test*: keep pytest from trying to collect it as a test class.
    __test__: ClassVar[bool] = False

    model_config = ConfigDict(extra="forbid")

    protocol: Protocol = "ollama"
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="0 = let the OS pick a free port")
    models: list[str] = Field(default_factory=lambda: ["tiny:latest"], min_length=1)
    version: str = Field("0.12.6", description="what GET /api/version reports (ollama)")
    responses: list[str] = Field(
        default_factory=list,
        description="canned answers served in order, cycling; empty = 'tok1 tok2 ...'",
    )
    default_tokens: int = Field(32, ge=0, description="tokens generated when responses is empty")
    reasoning_apart: bool = Field(
        False,
        description="a canned answer's leading <think>...</think> goes apart from the answer, "
        "as reasoning models' servers send it: Ollama message.thinking (generate: thinking), "
        "OpenAI delta.reasoning_content; otherwise it is sent as text",
    )
    load_ms: float = Field(0.0, ge=0, description="first use of a model since start or unload")
    prefill_ms: float = Field(0.0, ge=0, description="delay before the first token")
    token_interval_ms: float = Field(0.0, ge=0, description="gap between consecutive tokens")
    slots: int = Field(0, ge=0, description="parallel generations; 0 = unlimited, N = FIFO queue")
    prompt_cache: bool = Field(
        False,
        description="each slot remembers its last prompt; prefill is charged for the uncached "
        "suffix only (the llamacpp engine always has one)",
    )
    fast: bool = Field(False, description="no sleeps; streams send one token a write")
    fault: FaultKind = "none"
    fault_after_tokens: int = Field(3, ge=0, description="tokens sent before a mid-stream fault")
    fault_from_request: int = Field(
        1, ge=1, description="the fault hits the Nth generation request and every later one"
    )
    fault_every: int = Field(
        1, ge=1, description="from fault_from_request on, every Nth generation request is hit"
    )
    stall_s: float = Field(
        3600.0, ge=0, description="how long the 'stall' fault stays silent ('drip': trickles)"
    )
    api_key: str | None = Field(
        None, repr=False, description="openai: require 'Authorization: Bearer <key>'"
    )
    usage_in_stream: bool = Field(True, description="openai: honour stream_options.include_usage")
    llamacpp_timings: bool = Field(False, description="openai: add llama-server's timings block")
    json_schema_format: bool = Field(
        True,
        description="openai: take response_format json_schema; False answers it with a 500, "
        "as llama-cpp-python's server does (it takes json_object with a schema only)",
    )
    record_requests: bool = Field(True, description="keep every request in TestServer.requests")
    timeline: str | None = Field(
        None,
        description="modelled engine: append each generation's arrival and first/last write "
        "times (time.monotonic_ns) to this JSONL file (see chimera.testing.timeline)",
    )
    engine: EngineKind = Field("modelled", description="modelled timeline, or real llama.cpp")
    model: str | None = Field(
        None, description="llamacpp engine: a bundled model alias (smollm2) or a GGUF file path"
    )
    parallel: int = Field(
        1, ge=1, description="llamacpp engine: slots, each its own llama.cpp context; FIFO beyond"
    )
    threads: int = Field(1, ge=1, description="llamacpp engine: CPU threads per slot")
    ctx: int = Field(2048, ge=16, description="llamacpp engine: context length of each slot")

    @model_validator(mode="after")
    def _engine_settings(self) -> Self:
        if self.engine == "llamacpp" and not self.model:
            raise ValueError("engine 'llamacpp' needs model (a bundled alias or a GGUF path)")
        if self.engine == "llamacpp" and self.timeline is not None:
            raise ValueError("timeline is written by the modelled engine only")
        if self.engine == "modelled" and self.model is not None:
            raise ValueError("model is for engine 'llamacpp'; the modelled engine serves `models`")
        return self
