"""The backend seam: endpoint settings, the Backend protocol and the kind registry.

Every backend streams a generation as ``TextChunk``s stamped with a monotonic clock
(``time.perf_counter_ns``) and ends the stream with one ``CallResult``. All network I/O of
Chimera happens behind this seam.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from chimera.backends.metrics import StreamClock
from chimera.calls import (
    CallMetrics,
    CallResult,
    ChatMessage,
    GenerationRequest,
    ModelInfo,
    ServerInfo,
    TextChunk,
)
from chimera.errors import (
    ConfigError,
    EmptyResponseError,
    ReasoningOnlyError,
    UnknownBackendError,
)
from chimera.options import InferenceOptions

# The call values live in chimera.calls; they are re-exported here for the backends.
__all__ = [
    "Backend",
    "CallMetrics",
    "CallResult",
    "ChatMessage",
    "EndpointSettings",
    "GenerationRequest",
    "ModelInfo",
    "ServerInfo",
    "StreamEvent",
    "TextChunk",
    "Timeouts",
    "backend_class",
    "check_options",
    "create_backend",
    "generate",
    "known_kinds",
    "load_for",
    "register_backend",
    "require_output",
]


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


StreamEvent = TextChunk | CallResult


@runtime_checkable
class Backend(Protocol):
    """An inference backend. Use it as an async context manager or call ``aclose``."""

    kind: ClassVar[str]
    # Options fixed when a model is loaded: ``load`` applies them, and a call cannot change
    # them (llama.cpp in-process). Empty for a server that takes them on each request and
    # reloads by itself (Ollama) or fixes them when it starts (OpenAI-compatible servers).
    load_options: ClassVar[frozenset[str]]
    settings: EndpointSettings

    @property
    def url(self) -> str: ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Yield text chunks as they arrive, then exactly one CallResult."""
        ...

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        """Load the model without generating, with the load-time options in ``options``;
        the result's ``load_ms`` is the load time."""
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


async def load_for(backend: Backend, model: str, options: InferenceOptions) -> CallResult | None:
    """Load ``model`` with the load-time options in ``options`` when the backend fixes them
    at load (the calls that follow carry the same options and run on that load); None, and
    nothing sent, for a backend that takes them on each call."""
    if not backend.load_options:
        return None
    return await backend.load(model, options=options)


def require_output(
    result: CallResult,
    clock: StreamClock,
    request: GenerationRequest,
    url: str,
    detail: str,
    hint: str | None = None,
) -> None:
    """Refuse a finished call with no answer, never a success (unless the request asked for no
    tokens, ``num_predict`` 0): reasoning with no answer text after it, in either shape, is a
    ReasoningOnlyError; no text at all an EmptyResponseError (``detail`` and ``hint`` say
    what the server sent). Both carry ``result``: a load benchmark counts the reasoning a cap
    cut (``at_cap``) as the output it is, and calibration reads the prompt count."""
    if request.options.num_predict == 0:
        return
    if clock.unanswered:
        raise ReasoningOnlyError(url, result)
    if not result.text:
        raise EmptyResponseError(url, detail, hint, result=result)


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


def backend_class(kind: str) -> Any:
    """The class registered for ``kind`` (its module imported now); an unknown kind lists the
    known ones, a missing optional dependency says how to install it."""
    target = _REGISTRY.get(kind)
    if target is None:
        raise UnknownBackendError(kind, known_kinds())
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"backend {kind!r} needs an optional dependency that is not installed "
            f"({exc.name}); install it with `pip install 'chimera-bench[{kind}]'`"
        ) from None
    return getattr(module, cls_name)


def check_options(kind: str, names: Iterable[str]) -> None:
    """Refuse, before anything runs, options the ``kind`` of backend cannot set (a backend
    declares them as ``refused_options``, with ``refused_hint`` saying where they are set):
    a ConfigError naming them, exit 2."""
    cls = backend_class(kind)
    refused = [n for n in getattr(cls, "refused_options", ()) if n in set(names)]
    if refused:
        hint = getattr(cls, "refused_hint", "")
        raise ConfigError(
            f"the {kind} backend cannot set {', '.join(refused)}" + (f": {hint}" if hint else "")
        )


def create_backend(settings: EndpointSettings | None = None, **fields: Any) -> Backend:
    """Build the backend for ``settings.kind``; an unknown kind lists the known ones."""
    if settings is None:
        settings = EndpointSettings(**fields)
    elif fields:
        settings = settings.model_copy(update=fields)
    backend: Backend = backend_class(settings.kind)(settings)
    return backend
