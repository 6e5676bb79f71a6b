"""The Ollama-protocol test server: /api/generate, /api/chat (NDJSON), tags, ps, show, version.

Field by field as Ollama sends them: stream chunks ``{model, created_at, response | message,
done: false}``; a final chunk with ``done_reason``, ``context`` (generate) and the timings in
integer nanoseconds; errors as ``{"error": "..."}``, as the body or as a line in the stream.
Like Ollama, the response head of a stream leaves with the first token, after queueing, load
and prompt evaluation; a load (empty prompt) or unload (plus ``keep_alive: 0``) call answers
one plain JSON object without timings.
"""

from __future__ import annotations

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
from chimera.testing.structured import FormatError, ollama_schema

JSON = "application/json; charset=utf-8"


def _error(status: int, message: str) -> tuple[str, bytes]:
    return JSON, orjson.dumps({"error": message})


class _Stamp:
    """``created_at`` as JSON bytes, formatted at most once per millisecond."""

    def __init__(self) -> None:
        self._ms = -1
        self._value = b""

    def __call__(self) -> bytes:
        now = time.time()
        ms = int(now * 1000)
        if ms != self._ms:
            self._ms, self._value = ms, orjson.dumps(m.rfc3339(now))
        return self._value


class _Encoder:
    """NDJSON events of one /api/generate (chat=False) or /api/chat (chat=True) response."""

    stream_content_type = "application/x-ndjson"
    headers_first = False

    def __init__(self, model: str, chat: bool) -> None:
        self._model = orjson.dumps(model)
        self._model_name = model
        self._chat = chat
        self._stamp = _Stamp()

    def opening(self) -> bytes:
        return b""

    def token(self, piece: str) -> bytes:
        head = b'{"model":' + self._model + b',"created_at":' + self._stamp()
        if self._chat:
            return (
                head
                + b',"message":{"role":"assistant","content":'
                + orjson.dumps(piece)
                + b'},"done":false}\n'
            )
        return head + b',"response":' + orjson.dumps(piece) + b',"done":false}\n'

    def reasoning(self, piece: str) -> bytes:
        """Ollama with ``think``: the reasoning in ``message.thinking`` (generate:
        ``thinking``) beside an empty content."""
        head = b'{"model":' + self._model + b',"created_at":' + self._stamp()
        if self._chat:
            message = b'{"role":"assistant","content":"","thinking":' + orjson.dumps(piece)
            return head + b',"message":' + message + b'},"done":false}\n'
        return head + b',"response":"","thinking":' + orjson.dumps(piece) + b',"done":false}\n'

    def _head(self, text: str, done_reason: str) -> dict[str, Any]:
        obj: dict[str, Any] = {"model": self._model_name, "created_at": m.rfc3339(time.time())}
        if self._chat:
            obj["message"] = {"role": "assistant", "content": text}
        else:
            obj["response"] = text
        obj["done"] = True
        obj["done_reason"] = done_reason
        return obj

    def _done(self, text: str, timings: m.Timings, done_reason: str) -> dict[str, Any]:
        obj = self._head(text, done_reason)
        if not self._chat:
            # one id per prompt and output token, as the real context array has
            obj["context"] = list(range(1, timings.prompt_tokens + timings.eval_count + 1))
        obj.update(timings.ollama_fields())
        return obj

    def empty(self) -> list[bytes]:
        return [self.empty_whole() + b"\n"]

    def empty_whole(self) -> bytes:
        # A final chunk with nothing generated and nothing measured: Go's omitempty drops the
        # zero counts and durations (and an empty context) from what Ollama would send.
        return orjson.dumps(self._head("", "stop"))

    def final(self, timings: m.Timings, done_reason: str) -> list[bytes]:
        return [orjson.dumps(self._done("", timings, done_reason)) + b"\n"]

    def whole(self, text: str, timings: m.Timings, done_reason: str) -> bytes:
        return orjson.dumps(self._done(text, timings, done_reason))

    def error_event(self, message: str) -> bytes:
        return orjson.dumps({"error": message}) + b"\n"

    def malformed_event(self) -> bytes:
        return b'{"model":' + self._model + b',"created_at":"2024-\n'

    def error(self, status: int, message: str) -> tuple[str, bytes]:
        return _error(status, message)

    def model_not_found(self, model: str) -> tuple[int, str, bytes]:
        return 404, *_error(404, f'model "{model}" not found, try pulling it first')


class OllamaApp:
    """Routes and handlers of the Ollama protocol over one ``ServerState``."""

    def __init__(self, state: ServerState, engine: Engine) -> None:
        self.state = state
        self.engine = engine
        self.routes: dict[str, dict[str, Route]] = {
            "/": {"GET": self._root, "HEAD": self._root},
            "/api/version": {"GET": self._version, "HEAD": self._version},
            "/api/tags": {"GET": self._tags, "HEAD": self._tags},
            "/api/ps": {"GET": self._ps},
            "/api/show": {"POST": self._show},
            "/api/generate": {"POST": self._generate},
            "/api/chat": {"POST": self._chat},
        }

    def error_body(self, status: int, message: str) -> tuple[str, bytes]:
        return _error(status, message)

    async def handle(self, request: HttpRequest, conn: Connection) -> None:
        await dispatch(self, self.routes, request, conn, self.state.record)

    def _json(self, conn: Connection, request: HttpRequest, obj: object, status: int = 200) -> None:
        conn.respond(status, JSON, orjson.dumps(obj), head_only=request.method == "HEAD")

    # --- metadata ---------------------------------------------------------------------------

    async def _root(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        conn.respond(
            200,
            "text/plain; charset=utf-8",
            b"Ollama is running",
            head_only=request.method == "HEAD",
        )

    async def _version(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        self._json(conn, request, {"version": self.state.config.version})

    def _card(self, name: str) -> dict[str, Any]:
        card = self.engine.card(name)
        return {
            "name": name,
            "model": name,
            "modified_at": m.rfc3339_local(card.modified_epoch),
            "size": card.size,
            "digest": card.digest,
            "details": card.details,
        }

    async def _tags(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        self._json(conn, request, {"models": [self._card(n) for n in self.engine.names]})

    async def _ps(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        loaded = []
        for model in self.engine.running():
            card = self._card(model.name)
            del card["modified_at"]
            card["expires_at"] = m.expires_at(model.expires_epoch)
            card["size_vram"] = card["size"] if model.in_vram else 0
            card["context_length"] = model.context_length
            loaded.append(card)
        self._json(conn, request, {"models": loaded})

    async def _show(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        requested = str(body.get("model") or body.get("name") or "")
        name = m.resolve_model(requested, self.engine.names) if requested else None
        if name is None:
            self._json(conn, request, {"error": f"model '{requested}' not found"}, 404)
            return
        self._json(conn, request, m.show_fields(self.engine.card(name)))

    # --- generation -------------------------------------------------------------------------

    async def _generate(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        prompt = body.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            _bad_request(conn, "prompt must be a string")
            return
        system = body.get("system") if isinstance(body.get("system"), str) else None
        raw = body.get("raw") is True
        given = Prompt(text=prompt, system=system, raw=raw) if prompt else None
        await self._serve(conn, body, chat=False, prompt=given)

    async def _chat(self, request: HttpRequest, body: Any, conn: Connection) -> None:
        messages = body.get("messages")
        if messages is not None and not (
            isinstance(messages, list) and all(isinstance(x, dict) for x in messages)
        ):
            _bad_request(conn, "messages must be a list of objects")
            return
        turns = tuple(
            (str(x.get("role", "user")), x["content"] if isinstance(x.get("content"), str) else "")
            for x in messages or []
        )
        await self._serve(conn, body, chat=True, prompt=Prompt(messages=turns) if turns else None)

    async def _serve(
        self, conn: Connection, body: dict[str, Any], *, chat: bool, prompt: Prompt | None
    ) -> None:
        """Generate, or load/unload when there is nothing to generate from (``prompt`` None)."""
        state = self.state
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            _bad_request(conn, "model is required")
            return
        options = body.get("options") or {}
        if not isinstance(options, dict):
            _bad_request(conn, "options must be an object")
            return
        fault = state.next_generation()
        enc = _Encoder(requested, chat)
        name = m.resolve_model(requested, self.engine.names)
        if refuse_or_fail(conn, fault, enc, requested):
            return
        if name is None:
            status, content_type, payload = enc.model_not_found(requested)
            conn.respond(status, content_type, payload)
            return
        keep_alive = m.parse_keep_alive(body.get("keep_alive"))
        if prompt is None:
            await self._load_or_unload(conn, requested, name, chat, keep_alive, options)
            return
        try:
            schema = ollama_schema(body.get("format"))
        except FormatError as exc:
            _bad_request(conn, str(exc))
            return
        num_predict = options.get("num_predict")
        gen = Generation(
            model=name,
            prompt=prompt,
            limit=num_predict if isinstance(num_predict, int) else None,
            stream=body.get("stream", True) is not False,
            keep_alive_s=keep_alive,
            fault=fault,
            options=options,
            schema=schema,
        )
        await serve_generation(conn, state, self.engine, gen, enc)

    async def _load_or_unload(
        self,
        conn: Connection,
        requested: str,
        name: str,
        chat: bool,
        keep_alive: float | None,
        options: dict[str, Any],
    ) -> None:
        if keep_alive == 0:
            self.engine.unload(name)
            reason = "unload"
        else:
            await self.engine.load(name, keep_alive, options)
            reason = "load"
        obj: dict[str, Any] = {"model": requested, "created_at": m.rfc3339(time.time())}
        if chat:
            obj["message"] = {"role": "assistant", "content": ""}
        else:
            obj["response"] = ""
        obj.update(done=True, done_reason=reason)
        conn.respond(200, JSON, orjson.dumps(obj))


def _bad_request(conn: Connection, message: str) -> None:
    """Answer 400 with Ollama's error body."""
    content_type, payload = _error(400, message)
    conn.respond(400, content_type, payload)
