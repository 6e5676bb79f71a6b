"""The offline backend: no LLM; a responder function writes the text, streamed word by word.

The agent uses it when no server is configured or reachable, with a responder that builds a
deterministic narrative from the computed facts. Its metrics are measured like any call's, but
there are no server timings, and token counts are word counts, marked as estimated.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import ClassVar

from chimera.backends.base import (
    CallResult,
    EndpointSettings,
    GenerationRequest,
    ModelInfo,
    ServerInfo,
    StreamEvent,
    TextChunk,
)
from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.options import InferenceOptions

Responder = Callable[[GenerationRequest], str]
OFFLINE_URL = "offline://"
_PIECES = re.compile(r"\s*\S+")


def _default_responder(request: GenerationRequest) -> str:
    return (
        "This text was written without an LLM (offline backend): no model was configured "
        "or reachable."
    )


class OfflineBackend:
    """A backend that needs no server."""

    kind: ClassVar[str] = "offline"
    load_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, settings: EndpointSettings | None = None, responder: Responder | None = None
    ) -> None:
        self.settings = settings or EndpointSettings(kind="offline")
        self.responder = responder or _default_responder

    @property
    def url(self) -> str:
        return OFFLINE_URL

    async def __aenter__(self) -> OfflineBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        return None

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        text = self.responder(request)
        pieces = _PIECES.findall(text)
        if pieces:
            pieces[-1] += text[len("".join(pieces)) :]  # keep trailing white space
        limit = request.options.num_predict
        done_reason = "stop"
        if limit is not None and limit >= 0 and len(pieces) > limit:
            pieces, done_reason = pieces[:limit], "length"
        for piece in pieces:
            t = time.perf_counter_ns()
            clock.chunk_ns.append(t)
            yield TextChunk(piece, t)
        clock.end_ns = time.perf_counter_ns()
        yield CallResult(
            backend=self.kind,
            url=self.url,
            model=request.model,
            endpoint="offline",
            text="".join(pieces),
            done_reason=done_reason,
            metrics=compute_metrics(clock, ServerTimings(), done_reason),
            started_at=started_at,
            options=request.options.set_options(),
        )

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        now = time.perf_counter_ns()
        clock = StreamClock(now)
        clock.end_ns = now
        return CallResult(
            backend=self.kind,
            url=self.url,
            model=model,
            endpoint="offline",
            text="",
            done_reason="load",
            metrics=compute_metrics(clock, ServerTimings(), "load"),
            started_at=datetime.now(UTC),
        )

    async def server_info(self) -> ServerInfo:
        return ServerInfo(
            url=self.url,
            kind=self.kind,
            version=None,
            models=[ModelInfo(name="offline")],
            loaded=None,
        )
