"""The OpenAI-protocol test server: /v1/models, /v1/chat/completions, /v1/completions (SSE).

Streams are ``data: {...}`` events ending with ``data: [DONE]``; chunks carry ``id, object,
created, model, choices[{index, delta | text, logprobs, finish_reason}]``. With
``stream_options.include_usage`` (and ``usage_in_stream``) every chunk has ``usage: null``
and one more chunk with ``choices: []`` and the usage precedes ``[DONE]``. As with vLLM and
llama-server, the response head goes out at once and the tokens follow after the queue,
load and prefill. ``llamacpp_timings`` adds llama-server's ``timings`` block.
"""

from __future__ import annotations

import hmac
import itertools
import time
from typing import Any

import orjson

from chimera.testing import modelling as m
from chimera.testing.generation import (
    Engine,
    Generation,
    Prompt,
    refuse_or_fail,
    serve_generation,
)
from chimera.testing.http import Connection, HttpRequest, Route, dispatch
from chimera.testing.state import ServerState
from chimera.testing.structured import FormatError, openai_schema

JSON = "application/json"
# Sampling fields of a request body that llama-server honours, under Ollama's option names.
_SAMPLING = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "seed": "seed",
    "repeat_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}


def _error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> tuple[str, bytes]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSON, orjson.dumps(body)


def _not_found(model: str) -> tuple[int, str, bytes]:
    content_type, body = _error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
    return 404, content_type, body


def _usage(timings: m.Timings) -> dict[str, int]:
    # the whole prompt, cached or not, as llama-server and vLLM count it
    return {
        "prompt_tokens": timings.prompt_tokens,
        "completion_tokens": timings.eval_count,
        "total_tokens": timings.prompt_tokens + timings.eval_count,
    }


class _Encoder:
    """SSE events of one chat (chat=True) or legacy completions response."""

    stream_content_type = "text/event-stream; charset=utf-8"
    headers_first = True

    def __init__(
        self, model: str, chat: bool, request_id: str, include_usage: bool, timings_block: bool
    ) -> None:
        self._chat = chat
        self._include_usage = include_usage
        self._timings_block = timings_block
        self._base: dict[str, Any] = {
            "id": request_id,
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        base = orjson.dumps(self._base)[:-1]  # the object without its closing brace
        usage = b',"usage":null' if include_usage else b""
        if chat:
            self._pre = base + b',"choices":[{"index":0,"delta":{"content":'
            self._post = b'},"logprobs":null,"finish_reason":null}]' + usage + b"}\n\n"
        else:
            self._pre = base + b',"choices":[{"index":0,"text":'
            self._post = b',"logprobs":null,"finish_reason":null}]' + usage + b"}\n\n"

    @staticmethod
    def _event(obj: object) -> bytes:
        return b"data: " + orjson.dumps(obj) + b"\n\n"

    def _chunk(self, choice: dict[str, Any]) -> dict[str, Any]:
        obj = {**self._base, "choices": [{"index": 0, **choice}]}
        if self._include_usage:
            obj["usage"] = None
        return obj

    def opening(self) -> bytes:
        if not self._chat:
            return b""
        delta = {"role": "assistant", "content": ""}
        return self._event(self._chunk({"delta": delta, "logprobs": None, "finish_reason": None}))

    def token(self, piece: str) -> bytes:
        return b"data: " + self._pre + orjson.dumps(piece) + self._post

    def reasoning(self, piece: str) -> bytes:
        """vLLM's and llama.cpp's server's way: ``delta.reasoning_content`` (chat only; a
        completion has no place for it and sends it as text)."""
        if not self._chat:
            return self.token(piece)
        delta = {"reasoning_content": piece}
        return self._event(self._chunk({"delta": delta, "logprobs": None, "finish_reason": None}))

    def final(self, timings: m.Timings, done_reason: str) -> list[bytes]:
        content: dict[str, Any] = {"delta": {}} if self._chat else {"text": ""}
        last = self._chunk({**content, "logprobs": None, "finish_reason": done_reason})
        if self._timings_block:
            last["timings"] = timings.llamacpp_fields()
        events = [self._event(last)]
        if self._include_usage:
            events.append(self._event({**self._base, "choices": [], "usage": _usage(timings)}))
        events.append(b"data: [DONE]\n\n")
        return events

    def empty(self) -> list[bytes]:
        # llama-cpp-python's chat stream opens with a role-only delta (no content key); a
        # legacy completion has no such chunk, so its empty stream is [DONE] alone.
        events = [b"data: [DONE]\n\n"]
        if self._chat:
            delta = {"role": "assistant"}
            choice = {"delta": delta, "logprobs": None, "finish_reason": None}
            events.insert(0, self._event({**self._base, "choices": [{"index": 0, **choice}]}))
        return events

    def empty_whole(self) -> bytes:
        if self._chat:
            choice: dict[str, Any] = {"message": {"role": "assistant", "content": ""}}
            kind = "chat.completion"
        else:
            choice, kind = {"text": ""}, "text_completion"
        choices = [{"index": 0, **choice, "logprobs": None, "finish_reason": None}]
        return orjson.dumps({**self._base, "object": kind, "choices": choices})

    def whole(self, text: str, timings: m.Timings, done_reason: str) -> bytes:
        if self._chat:
            choice: dict[str, Any] = {"message": {"role": "assistant", "content": text}}
            kind = "chat.completion"
        else:
            choice, kind = {"text": text}, "text_completion"
        obj: dict[str, Any] = {
            **self._base,
            "object": kind,
            "choices": [{"index": 0, **choice, "logprobs": None, "finish_reason": done_reason}],
            "usage": _usage(timings),
        }
        if self._timings_block:
            obj["timings"] = timings.llamacpp_fields()
        return orjson.dumps(obj)

    def error_event(self, message: str) -> bytes:
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return self._event({"error": error})

    def malformed_event(self) -> bytes:
        return b'data: {"id": "' + str(self._base["id"]).encode() + b'", "choices": [\n\n'

    def error(self, status: int, message: str) -> tuple[str, bytes]:
        return _error(status, message)

    def model_not_found(self, model: str) -> tuple[int, str, bytes]:
        return _not_found(model)


class OpenAIApp:
    """Routes and handlers of the OpenAI protocol over one ``ServerState``."""

    def __init__(self, state: ServerState, engine: Engine) -> None:
        self.state = state
        self.engine = engine
        self._ids = itertools.count(1)
        self.created = int(m.started_epoch())
        self.routes: dict[str, dict[str, Route]] = {
            "/health": {"GET": self._health},
            "/v1/models": {"GET": self._models},
            "/v1/chat/completions": {"POST": self._chat},
            "/v1/completions": {"POST": self._completions},
        }

    def error_body(self, status: int, message: str) -> tuple[str, bytes]:
        return _error(status, message)

    async def handle(self, request: HttpRequest, conn: Connection) -> None:
        if request.path != "/health" and not self._authorized(request):
            self.state.record(request.method, request.target, None, request.headers)
            given = "authorization" in request.headers
            message = (
                "Incorrect API key provided."
                if given
                else "You didn't provide an API key. Send 'Authorization: Bearer YOUR_KEY'."
            )
            content_type, body = _error(401, message, code="invalid_api_key")
            conn.respond(401, content_type, body)
            return
        await dispatch(self, self.routes, request, conn, self.state.record)

    def _authorized(self, request: HttpRequest) -> bool:
        key = self.state.config.api_key
        if key is None:
            return True
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, b"Bearer " + key.encode())

    async def _health(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        conn.respond(200, JSON, b'{"status":"ok"}')

    async def _models(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        data = [
            {"id": name, "object": "model", "created": self.created, "owned_by": "chimera-testing"}
            for name in self.engine.names
        ]
        conn.respond(200, JSON, orjson.dumps({"object": "list", "data": data}))

    async def _chat(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(x, dict) for x in messages)
        ):
            self._bad(conn, "'messages' must be a non-empty list of objects", "messages")
            return
        turns = tuple(
            (str(x.get("role", "user")), _content_text(x.get("content"))) for x in messages
        )
        await self._serve(conn, body, chat=True, prompt=Prompt(messages=turns))

    async def _completions(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
            prompt = " ".join(prompt)
        if not isinstance(prompt, str):
            self._bad(conn, "'prompt' must be a string or a list of strings", "prompt")
            return
        # a legacy completion's prompt is sent to the model as is, with no chat template
        await self._serve(conn, body, chat=False, prompt=Prompt(text=prompt, raw=True))

    def _bad(self, conn: Connection, message: str, param: str | None) -> None:
        content_type, payload = _error(400, message, param=param)
        conn.respond(400, content_type, payload)

    async def _serve(
        self, conn: Connection, body: dict[str, Any], *, chat: bool, prompt: Prompt
    ) -> None:
        state, cfg = self.state, self.state.config
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            self._bad(conn, "'model' is required", "model")
            return
        fault = state.next_generation()
        stream = body.get("stream") is True
        stream_options = body.get("stream_options")
        include_usage = (
            stream
            and cfg.usage_in_stream
            and isinstance(stream_options, dict)
            and stream_options.get("include_usage") is True
        )
        prefix = "chatcmpl-" if chat else "cmpl-"
        enc = _Encoder(
            requested, chat, f"{prefix}{next(self._ids):08x}", include_usage, cfg.llamacpp_timings
        )
        if refuse_or_fail(conn, fault, enc, requested):
            return
        if requested not in self.engine.names:
            status, content_type, payload = _not_found(requested)
            conn.respond(status, content_type, payload)
            return
        limit = body.get("max_completion_tokens")
        if limit is None:
            limit = body.get("max_tokens")
        options = {name: body[key] for key, name in _SAMPLING.items() if key in body}
        stop = body.get("stop")
        if stop is not None:
            options["stop"] = [stop] if isinstance(stop, str) else stop
        fmt = body.get("response_format")
        if (
            not cfg.json_schema_format
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
        ):
            # llama-cpp-python's server: its request model has no json_schema type
            content_type, payload = _error(500, "Internal Server Error")
            conn.respond(500, content_type, payload)
            return
        try:
            schema = openai_schema(fmt)
        except FormatError as exc:
            self._bad(conn, str(exc), "response_format")
            return
        gen = Generation(
            model=requested,
            prompt=prompt,
            limit=limit if isinstance(limit, int) else None,
            stream=stream,
            keep_alive_s=None,
            fault=fault,
            options=options,
            schema=schema,
        )
        await serve_generation(conn, state, self.engine, gen, enc)


def _content_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""
