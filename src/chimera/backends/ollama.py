"""Ollama's native API: /api/generate and /api/chat as NDJSON streams, with server timings."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from chimera.backends.base import (
    CallResult,
    EndpointSettings,
    GenerationRequest,
    ModelInfo,
    ServerInfo,
    StreamEvent,
    require_output,
)
from chimera.backends.http import (
    HttpBackend,
    entries,
    normalize_url,
    server_message,
    text_or_none,
)
from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.errors import BackendError, StreamCutError
from chimera.options import InferenceOptions

DEFAULT_PORT = 11434


def default_url() -> str:
    """``OLLAMA_HOST`` as Ollama's own client reads it, else http://127.0.0.1:11434."""
    return normalize_url(os.environ.get("OLLAMA_HOST") or "127.0.0.1", DEFAULT_PORT)


def request_body(request: GenerationRequest) -> dict[str, Any]:
    """The JSON body for /api/chat or /api/generate; unset options are left out."""
    body: dict[str, Any] = {"model": request.model, "stream": True}
    if request.messages is not None:
        body["messages"] = [m.model_dump() for m in request.messages]
    else:
        body["prompt"] = request.prompt
        if request.system is not None:
            body["system"] = request.system
    options = request.options.set_options()
    if options:
        body["options"] = options
    if request.keep_alive is not None:
        body["keep_alive"] = request.keep_alive
    if request.json_schema is not None:
        body["format"] = request.json_schema  # Ollama 0.5+: structured outputs
    return body


def server_timings(final: dict[str, Any]) -> ServerTimings:
    """Timings (ns) and counts from Ollama's final chunk; absent fields stay None."""

    def n(key: str) -> int | None:
        v = final.get(key)
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    return ServerTimings(
        load_ns=n("load_duration"),
        prompt_eval_ns=n("prompt_eval_duration"),
        eval_ns=n("eval_duration"),
        total_ns=n("total_duration"),
        prompt_tokens=n("prompt_eval_count"),
        output_tokens=n("eval_count"),
    )


def _reason(final: dict[str, Any]) -> str | None:
    """The final chunk's done_reason; a value that is not a string says nothing."""
    return text_or_none(final.get("done_reason"))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _model_info(entry: dict[str, Any]) -> ModelInfo:
    details = entry.get("details")
    details = details if isinstance(details, dict) else {}
    return ModelInfo(
        name=str(entry.get("name") or entry.get("model") or "?"),
        size_bytes=_count(entry.get("size")),
        size_vram_bytes=_count(entry.get("size_vram")),
        parameter_size=text_or_none(details.get("parameter_size")),
        quantization=text_or_none(details.get("quantization_level")),
        family=text_or_none(details.get("family")),
        expires_at=text_or_none(entry.get("expires_at")),
        digest=text_or_none(entry.get("digest")),
    )


class OllamaBackend(HttpBackend):
    """Streams from an Ollama server's native API."""

    kind: ClassVar[str] = "ollama"

    def __init__(
        self, settings: EndpointSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        base = normalize_url(settings.url, DEFAULT_PORT) if settings.url else default_url()
        super().__init__(settings, base, transport=transport)

    async def installed_models(self) -> list[str]:
        data = await self._http.request_json("GET", "/api/tags", timeout_s=10)
        return [_model_info(e).name for e in entries(data, "models")]

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        path = "/api/chat" if request.is_chat else "/api/generate"
        body = request_body(request)
        started_at = datetime.now(UTC)
        missing = False

        def on_status(response: httpx.Response) -> None:
            nonlocal missing
            missing = response.status_code == 404 and "not found" in server_message(response)

        chat = request.is_chat
        final: dict[str, Any] | None = None
        try:
            async with self._http.stream(path, body, on_status) as lines:
                async for line in lines:
                    obj = lines.decode(line)
                    if "error" in obj:
                        raise lines.server_error(obj["error"])
                    if chat:
                        message = obj.get("message") or {}
                        text = message.get("content") if isinstance(message, dict) else message
                        thought = message.get("thinking") if isinstance(message, dict) else None
                    else:
                        text, thought = obj.get("response"), obj.get("thinking")
                    if not isinstance(text, str | None):
                        raise lines.malformed("the text of a chunk is not a string", line)
                    if thought and isinstance(thought, str):  # reasoning apart (think: true)
                        yield lines.reasoning(thought)
                    if text:
                        yield lines.chunk(text)
                    if obj.get("done"):
                        # the result goes out once the body is read to its end (the
                        # connection is then reused), the clock stopped at the final chunk
                        final, clock = obj, lines.finish()
                        break
        except BackendError as exc:
            if missing:
                raise await self.missing_model(request.model) from None
            raise exc from None
        if final is None:
            raise StreamCutError(self.url + path, "no final chunk with done=true")
        result = self._result(request, path, final, clock, lines.parts, started_at)
        require_output(
            result,
            clock,
            request,
            lines.url,
            f"done_reason {final.get('done_reason')!r} with no content",
        )
        yield result

    def _result(
        self,
        request: GenerationRequest,
        path: str,
        final: dict[str, Any],
        clock: StreamClock,
        parts: list[str],
        started_at: datetime,
    ) -> CallResult:
        done_reason = _reason(final)
        return CallResult(
            backend=self.kind,
            url=self.url,
            model=request.model,
            endpoint=path,
            text=self._http.scrub("".join(parts)),  # a key said back never reaches a report
            done_reason=done_reason,
            metrics=compute_metrics(clock, server_timings(final), done_reason),
            started_at=started_at,
            options=request.options.set_options(),
        )

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        """Load ``model`` with an empty prompt; Ollama reports the load time alone. Ollama
        loads with the ``options`` given (its context size, layers offloaded, ...), and the
        calls that follow keep that load only if they send the same."""
        body: dict[str, Any] = {"model": model, "prompt": "", "stream": False}
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        if options is not None and options.set_options():
            body["options"] = options.set_options()
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        try:
            final = await self._http.request_json("POST", "/api/generate", body)
        except BackendError as exc:
            if getattr(exc, "status", None) == 404:
                raise await self.missing_model(model) from None
            raise
        clock.end_ns = time.perf_counter_ns()
        done_reason = _reason(final)
        metrics = compute_metrics(clock, server_timings(final), done_reason)
        if metrics.load_ms is None:
            # Ollama answers a load request with no timings: the call's duration is the load.
            metrics.load_ms = metrics.e2e_ms
            metrics.estimated.append("load_ms")
        return CallResult(
            backend=self.kind,
            url=self.url,
            model=model,
            endpoint="/api/generate",
            text="",
            done_reason=done_reason,
            metrics=metrics,
            started_at=started_at,
            options=body.get("options", {}),
        )

    async def server_info(self) -> ServerInfo:
        version = await self._http.request_json("GET", "/api/version", timeout_s=10)
        tags = await self._http.request_json("GET", "/api/tags", timeout_s=10)
        ps = await self._http.request_json("GET", "/api/ps", timeout_s=10)
        return ServerInfo(
            url=self.url,
            kind=self.kind,
            version=text_or_none(version.get("version")),
            models=[_model_info(e) for e in entries(tags, "models")],
            loaded=[_model_info(e) for e in entries(ps, "models")],
        )
