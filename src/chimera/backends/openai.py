"""OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, TGI): chat and completions over SSE."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx

from chimera.backends.base import (
    CallResult,
    EndpointSettings,
    GenerationRequest,
    ModelInfo,
    ServerInfo,
    StreamEvent,
    generate,
    require_output,
)
from chimera.backends.http import (
    HttpBackend,
    entries,
    normalize_url,
    server_message,
    text_or_none,
)
from chimera.backends.metrics import ServerTimings, compute_metrics
from chimera.errors import (
    BackendError,
    ConfigError,
    EmptyResponseError,
    ServerHTTPError,
    StreamCutError,
)
from chimera.options import InferenceOptions

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"

# Options fixed when the server starts; the OpenAI API has no field for them.
LOAD_TIME_OPTIONS = (
    "num_ctx",
    "num_gpu",
    "num_batch",
    "num_thread",
    "main_gpu",
    "low_vram",
    "use_mmap",
    "use_mlock",
    "numa",
    "num_keep",
)
# Ollama option name -> request field; the last group are extensions vLLM and llama.cpp accept.
FIELD_NAMES = {
    "num_predict": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "tfs_z": "tfs_z",
    "penalize_newline": "penalize_nl",
}


def default_url() -> str:
    return normalize_url(os.environ.get("OPENAI_BASE_URL") or DEFAULT_URL, 8000)


SchemaStyle = Literal["json_schema", "json_object"]


def request_body(
    request: GenerationRequest, schema_style: SchemaStyle = "json_schema"
) -> dict[str, Any]:
    """The JSON body for /v1/chat/completions or /v1/completions. A JSON schema goes as
    OpenAI's ``json_schema`` response format (vLLM, llama-server, Ollama), or, in the
    ``json_object`` style, as ``{"type": "json_object", "schema": ...}``, the only form
    llama-cpp-python's server takes."""
    options = request.options.set_options()
    fixed = [name for name in LOAD_TIME_OPTIONS if name in options]
    if fixed:
        raise ConfigError(
            f"{', '.join(fixed)} cannot be set through the OpenAI-compatible API; set "
            "them where the server is started (e.g. llama-server --ctx-size, vLLM "
            "--max-model-len), or use the ollama or llamacpp backend to sweep them"
        )
    body: dict[str, Any] = {
        "model": request.model,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.messages is not None:
        body["messages"] = [m.model_dump() for m in request.messages]
    else:
        prompt = request.prompt or ""
        body["prompt"] = f"{request.system}\n\n{prompt}" if request.system else prompt
    for name, value in options.items():
        body[FIELD_NAMES[name]] = value
    if body.get("max_tokens", 0) < 0:  # Ollama's -1/-2 mean unbounded: leave it to the server
        del body["max_tokens"]
    if request.json_schema is not None and schema_style == "json_object":
        body["response_format"] = {"type": "json_object", "schema": request.json_schema}
    elif request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": request.json_schema},
        }
    return body


def server_timings(usage: dict[str, Any] | None, timings: dict[str, Any] | None) -> ServerTimings:
    """Counts from ``usage``; durations from llama.cpp's ``timings`` block (ms) when present."""
    st = ServerTimings()
    if usage:
        st.prompt_tokens = _int(usage.get("prompt_tokens"))
        st.output_tokens = _int(usage.get("completion_tokens"))
    if timings:
        prompt_ms = timings.get("prompt_ms")
        predicted_ms = timings.get("predicted_ms")
        st.prompt_eval_ns = _ns(prompt_ms)
        st.eval_ns = _ns(predicted_ms)
        if st.prompt_tokens is None:
            st.prompt_tokens = _int(timings.get("prompt_n"))
        if st.output_tokens is None:
            st.output_tokens = _int(timings.get("predicted_n"))
    return st


def _ns(ms: Any) -> int | None:
    """Milliseconds as integer nanoseconds; None for what is not a number a float can hold."""
    if not isinstance(ms, int | float) or isinstance(ms, bool) or not math.isfinite(ms * 1e6):
        return None
    return round(ms * 1e6)


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


class OpenAIBackend(HttpBackend):
    """Streams from an OpenAI-compatible server."""

    kind: ClassVar[str] = "openai"
    refused_options: ClassVar[tuple[str, ...]] = LOAD_TIME_OPTIONS
    refused_hint: ClassVar[str] = (
        "they are fixed when an OpenAI-compatible server starts (llama-server --ctx-size, "
        "vLLM --max-model-len); use the ollama or llamacpp backend to set or sweep them"
    )
    unreachable_hint = (
        "Is it running? Start the server (llama-server, vLLM, python -m llama_cpp.server) or "
        "pass --url where it listens."
    )
    missing_model_hint = (
        "OpenAI-compatible servers serve the model they were started with; "
        "pass one of the names below as --model."
    )

    def __init__(
        self, settings: EndpointSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        base = normalize_url(settings.url, 80) if settings.url else default_url()
        if base.endswith("/v1"):
            base = base[:-3]
        key_env = settings.api_key_env or DEFAULT_KEY_ENV
        key = os.environ.get(key_env)
        if settings.api_key_env and not key:
            raise ConfigError(f"the API key variable {key_env} named for {base} is not set")
        # The key lives only in this header; it is never logged, stored or written.
        headers = {"Authorization": f"Bearer {key}"} if key else None
        super().__init__(settings, base, headers=headers, transport=transport, secret=key)
        self._schema_style: SchemaStyle = "json_schema"

    async def installed_models(self) -> list[str]:
        data = await self._http.request_json("GET", "/v1/models", timeout_s=10)
        return [str(m.get("id")) for m in entries(data, "data")]

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """The generation's events. A request with a JSON schema that the server refuses
        before any output (HTTP 400, 422 or 500) is sent once more in the ``json_object``
        style, and this backend keeps to the style that worked."""
        style = self._schema_style
        started = False
        try:
            async for event in self._stream(request, style):
                started = True
                yield event
        except ServerHTTPError as exc:
            retry = request.json_schema is not None and style == "json_schema"
            if not retry or started or exc.status not in (400, 422, 500):
                raise
            self._schema_style = "json_object"
            async for event in self._stream(request, "json_object"):
                yield event

    async def _stream(
        self, request: GenerationRequest, schema_style: SchemaStyle
    ) -> AsyncIterator[StreamEvent]:
        path = "/v1/chat/completions" if request.is_chat else "/v1/completions"
        body = request_body(request, schema_style)
        started_at = datetime.now(UTC)
        status = 0

        def on_status(response: httpx.Response) -> None:
            nonlocal status
            status = response.status_code
            if status == 401:
                raise ServerHTTPError(
                    self.url + path,
                    status,
                    self._http.scrub(server_message(response))
                    + " — set the API key in the environment "
                    f"variable {self.settings.api_key_env or DEFAULT_KEY_ENV}",
                )

        finish: str | None = None
        usage: dict[str, Any] | None = None
        timings: dict[str, Any] | None = None
        done = False
        try:
            async with self._http.stream(path, body, on_status) as lines:
                async for line in lines:
                    if not line.startswith(b"data:"):
                        continue  # SSE comments, event names and retry hints
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        done = True
                        break
                    obj = lines.decode(payload)
                    if "error" in obj:
                        err = obj["error"]
                        raise lines.server_error(
                            err.get("message", err) if isinstance(err, dict) else err
                        )
                    choices = obj.get("choices") or []
                    if not isinstance(choices, list) or not all(
                        isinstance(c, dict) for c in choices
                    ):
                        raise lines.malformed("choices is not a list of objects", payload)
                    for choice in choices:
                        delta = choice.get("delta") or {}
                        if request.is_chat:
                            text = delta.get("content") if isinstance(delta, dict) else delta
                        else:
                            text = choice.get("text")
                        if not isinstance(text, str | None):
                            raise lines.malformed("the text of a choice is not a string", payload)
                        if thought := _reasoning(delta):
                            yield lines.reasoning(thought)
                        if text:
                            yield lines.chunk(text)
                        if choice.get("finish_reason"):
                            finish = str(choice["finish_reason"])
                    if isinstance(obj.get("usage"), dict) and obj["usage"]:
                        usage = obj["usage"]
                    if isinstance(obj.get("timings"), dict) and obj["timings"]:
                        timings = obj["timings"]
                clock = lines.finish()  # at [DONE], or at the body's last bytes
        except BackendError as exc:
            if status == 404:
                raise await self.missing_model(request.model) from None
            raise exc from None
        if not done and finish is None:
            raise StreamCutError(self.url + path, "no finish_reason and no [DONE]")
        text = self._http.scrub("".join(lines.parts))  # a key said back never reaches a report
        unexplained = finish is None and usage is None
        result = CallResult(
            backend=self.kind,
            url=self.url,
            model=request.model,
            endpoint=path,
            text=text,
            done_reason=finish,
            metrics=compute_metrics(clock, server_timings(usage, timings), finish),
            started_at=started_at,
            options=request.options.set_options(),
        )
        require_output(
            result,
            clock,
            request,
            self.url + path,
            "no content" + (", no finish_reason and no usage" if unexplained else ""),
        )
        if unexplained:
            raise EmptyResponseError(
                self.url + path,
                "text but no finish_reason and no usage: the server never said the answer "
                "was complete",
                result=result,
            )
        yield result

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        """A one-token warm-up call; these servers load models at start and report no load time
        (their load-time options are set then: ``options`` adds nothing)."""
        request = GenerationRequest(
            model=model, prompt="Hi", options=InferenceOptions(num_predict=1)
        )
        return await generate(self, request)

    async def server_info(self) -> ServerInfo:
        data = await self._http.request_json("GET", "/v1/models", timeout_s=10)
        models = [ModelInfo(name=str(m.get("id"))) for m in entries(data, "data")]
        version = None
        try:  # vLLM answers /version; others may not
            v = await self._http.request_json("GET", "/version", timeout_s=5)
            version = text_or_none(v.get("version"))
        except BackendError:
            pass
        return ServerInfo(url=self.url, kind=self.kind, version=version, models=models, loaded=None)


def _reasoning(delta: object) -> str | None:
    """Reasoning sent apart from the answer in a chat delta: ``reasoning_content`` (vLLM,
    llama.cpp's server, DeepSeek) or ``reasoning`` (OpenRouter, newer vLLM)."""
    if not isinstance(delta, dict):
        return None
    value = delta.get("reasoning_content") or delta.get("reasoning")
    return value if isinstance(value, str) and value else None
