"""The backend seam: request and result types, the Backend protocol and the kind registry.

Every backend streams a generation as ``TextChunk``s stamped with a monotonic clock
(``time.perf_counter_ns``) and ends the stream with one ``CallResult``. All network I/O of
Chimera happens behind this seam.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chimera.errors import ConfigError, EmptyResponseError, UnknownBackendError
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


class EndpointSettings(BaseModel):
    """Where and how to reach one backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "ollama"
    url: str | None = Field(None, description="base URL; None = the kind's default")
    api_key_env: str | None = Field(
        None, description="name of the environment variable holding the API key (never the key)"
    )
    api: Literal["chat", "generate"] = Field(
        "chat", description="chat messages or raw completion endpoint"
    )
    connect_timeout_s: float = Field(10.0, gt=0)
    first_token_timeout_s: float = Field(600.0, gt=0, description="covers load + prefill")
    idle_timeout_s: float = Field(120.0, gt=0, description="max gap between two chunks")
    max_connections: int = Field(512, ge=1, description="connection pool size")


class Timeouts(BaseModel):
    """Timeouts a user set (``--connect-timeout`` etc., or a scenario agent's keys); None = the
    endpoint's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect_timeout_s: float | None = Field(None, gt=0)
    first_token_timeout_s: float | None = Field(None, gt=0)
    idle_timeout_s: float | None = Field(None, gt=0)

    def applied(self, settings: EndpointSettings) -> EndpointSettings:
        """``settings`` with the timeouts that are set here."""
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        return settings.model_copy(update=given) if given else settings

    def over(self, base: Timeouts) -> Timeouts:
        """These timeouts, with ``base``'s where these are unset."""
        return base.model_copy(update={k: v for k, v in self.model_dump().items() if v is not None})


@dataclass(slots=True, frozen=True)
class TextChunk:
    """A piece of generated text and when it arrived (perf_counter_ns)."""

    text: str
    t_ns: int


class CallMetrics(BaseModel):
    """Exact measurements of one call. ``None`` = not known; never a made-up zero.

    Names in ``estimated`` were derived from the client's stream, not reported by the server.
    """

    model_config = ConfigDict(extra="forbid")

    ttft_ms: float | None = Field(None, description="client clock: request sent -> first token")
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


class ServerInfo(BaseModel):
    """What a server says about itself."""

    model_config = ConfigDict(extra="forbid")

    url: str
    kind: str
    version: str | None = None
    models: list[ModelInfo] = Field(default_factory=list)
    loaded: list[ModelInfo] | None = Field(None, description="None = the server cannot tell")


StreamEvent = TextChunk | CallResult


@runtime_checkable
class Backend(Protocol):
    """An inference backend. Use it as an async context manager or call ``aclose``."""

    kind: ClassVar[str]
    settings: EndpointSettings

    @property
    def url(self) -> str: ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Yield text chunks as they arrive, then exactly one CallResult."""
        ...

    async def load(self, model: str, keep_alive: str | float | None = None) -> CallResult:
        """Load the model without generating; the result's ``load_ms`` is the load time."""
        ...

    async def server_info(self) -> ServerInfo:
        """Version, installed and loaded models."""
        ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Backend: ...

    async def __aexit__(self, *exc: object) -> None: ...


async def generate(backend: Backend, request: GenerationRequest) -> CallResult:
    """Run one call to completion and return its result."""
    async for event in backend.stream(request):
        if isinstance(event, CallResult):
            return event
    raise RuntimeError(f"backend {backend.kind} ended a stream without a result")  # a bug


def require_output(
    text: str, request: GenerationRequest, url: str, detail: str, hint: str | None = None
) -> None:
    """Refuse a finished call with no text: an empty completion is an error, never a success
    (unless the request asked for no tokens, ``num_predict`` 0)."""
    if not text and request.options.num_predict != 0:
        raise EmptyResponseError(url, detail, hint)


# --- registry ---------------------------------------------------------------------------

# kind -> "module:Class"; imported on first use so optional extras stay optional.
_REGISTRY: dict[str, str] = {
    "ollama": "chimera.backends.ollama:OllamaBackend",
    "openai": "chimera.backends.openai:OpenAIBackend",
    "llamacpp": "chimera.backends.llamacpp:LlamaCppBackend",
    "offline": "chimera.backends.offline:OfflineBackend",
}


def register_backend(kind: str, target: str) -> None:
    """Register (or replace) a backend kind as ``"module:Class"``."""
    _REGISTRY[kind] = target


def known_kinds() -> list[str]:
    return sorted(_REGISTRY)


def create_backend(settings: EndpointSettings | None = None, **fields: Any) -> Backend:
    """Build the backend for ``settings.kind``; an unknown kind lists the known ones."""
    if settings is None:
        settings = EndpointSettings(**fields)
    elif fields:
        settings = settings.model_copy(update=fields)
    target = _REGISTRY.get(settings.kind)
    if target is None:
        raise UnknownBackendError(settings.kind, known_kinds())
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"backend {settings.kind!r} needs an optional dependency that is not installed "
            f"({exc.name}); install it with `pip install 'chimera-bench[{settings.kind}]'`"
        ) from None
    cls = getattr(module, cls_name)
    backend: Backend = cls(settings)
    return backend
