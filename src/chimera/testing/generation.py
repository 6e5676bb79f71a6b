"""The seam between the protocols and what answers them: a request, an encoder, an engine.

A protocol module (ollama.py, openai.py) parses a request into a ``Generation`` and supplies
an ``Encoder`` for its wire format; an ``Engine`` decides the tokens and when each byte is
written: the modelled timeline (engine.py) or real llama.cpp (llama_engine.py). Faults that
replace a whole response, and the writing of stream faults, are shared here so both engines
fail the same way on the wire.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chimera.testing.http import LAST_CHUNK, Connection, chunk
from chimera.testing.modelling import ModelCard, Running, Timings, words
from chimera.testing.state import NO_FAULT, Fault, ServerState

STREAM_FAULTS = frozenset(
    {"error_line", "cut", "stall", "malformed", "garbage", "huge_line", "drip", "keepalive"}
)
ERROR_LINE_MESSAGE = "test server: injected fault (error_line) after {n} tokens"
HTTP_500_MESSAGE = "test server: injected fault (http_500)"
# the 'garbage' fault: bytes no protocol allows (NUL, invalid UTF-8, a lone surrogate's
# encoding, control characters), ending in a line break so a line reader gets them as a line
GARBAGE = b"\x00\xff\xfe\x80\xc3(\xed\xa0\x80\x1b[2J\x07\r\x00garbage\xf8\x88\x80\x80\x80\n"
HUGE_LINE_BYTES = 10 * 2**20  # the 'huge_line' fault: one 10 MB line that is not an event
DRIP_INTERVAL_S = 0.05  # the 'drip' fault: one byte this often
JSON_CONTENT = "application/json; charset=utf-8"


class Encoder(Protocol):
    """A protocol's wire format for the events of one generation."""

    stream_content_type: str
    headers_first: bool  # send the stream's head before queueing and prefill (SSE servers)

    def opening(self) -> bytes:
        """Events sent just before the first token (b'' if none)."""
        ...

    def token(self, piece: str) -> bytes:
        """One token event: an NDJSON line or an SSE event."""
        ...

    def reasoning(self, piece: str) -> bytes:
        """One token of reasoning sent apart from the answer."""
        ...

    def final(self, timings: Timings, done_reason: str) -> list[bytes]:
        """The closing events (final chunk, usage, [DONE]), each its own HTTP chunk."""
        ...

    def empty(self) -> list[bytes]:
        """The events of an empty completion (the ``empty_concurrent`` fault)."""
        ...

    def empty_whole(self) -> bytes:
        """The body of an empty completion without streaming."""
        ...

    def error_event(self, message: str) -> bytes: ...

    def malformed_event(self) -> bytes: ...

    def whole(self, text: str, timings: Timings, done_reason: str) -> bytes:
        """The single JSON body of a non-streaming response."""
        ...

    def error(self, status: int, message: str) -> tuple[str, bytes]:
        """A protocol-shaped error body and its content type."""
        ...

    def model_not_found(self, model: str) -> tuple[int, str, bytes]: ...


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the client asked to generate from, as it sent it.

    Chat requests carry ``messages`` as (role, content); completions carry ``text`` and an
    optional ``system``. ``raw`` is Ollama's generate flag: no chat template.
    """

    text: str | None = None
    system: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None
    raw: bool = False

    def texts(self) -> list[str]:
        """The texts in the order a template lays them out: system first."""
        if self.messages is not None:
            return [content for _, content in self.messages]
        return [t for t in (self.system, self.text) if t]

    def words(self) -> list[str]:
        """The modelled servers' prompt tokens: whitespace-separated words of the texts."""
        return words(*self.texts())


@dataclass(frozen=True, slots=True)
class Generation:
    """One generation request, parsed: which model, from what, with which limits."""

    model: str  # the installed name
    prompt: Prompt
    limit: int | None  # num_predict / max_tokens as sent; None = not set
    stream: bool
    keep_alive_s: float | None
    fault: Fault
    options: dict[str, object]  # Ollama-named options (temperature, stop, num_ctx, ...)
    schema: dict[str, Any] | None = None  # structured output: the JSON schema to hold to


class Engine(Protocol):
    """What produces the answers behind the protocols, and the catalogue they list."""

    names: list[str]  # the installed model names

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def card(self, name: str) -> ModelCard: ...

    def running(self) -> list[Running]:
        """Loaded models, as /api/ps lists them."""
        ...

    async def load(self, name: str, keep_alive_s: float | None, options: dict[str, object]) -> None:
        """An Ollama load call (an empty prompt): make the model loaded."""
        ...

    def unload(self, name: str) -> None: ...

    async def generate(self, conn: Connection, gen: Generation, enc: Encoder) -> None:
        """Serve one generation over ``conn``, its fault included."""
        ...


def refuse_or_fail(conn: Connection, fault: Fault, enc: Encoder, model: str) -> bool:
    """Apply a fault that replaces the whole response; True if one did."""
    if fault.kind == "refuse":
        conn.abort_quietly()
    elif fault.kind == "http_404":
        status, content_type, body = enc.model_not_found(model)
        conn.respond(status, content_type, body)
    elif fault.kind == "http_500":
        content_type, body = enc.error(500, HTTP_500_MESSAGE)
        conn.respond(500, content_type, body)
    else:
        return False
    return True


async def serve_generation(
    conn: Connection, state: ServerState, engine: Engine, gen: Generation, enc: Encoder
) -> None:
    """Hand ``gen`` to the engine, unless the ``empty`` fault (or ``empty_concurrent``, when
    it arrived while another generates) answers it with an empty completion at once. After
    the answer, the ``restart`` fault closes its connection and every idle one; the ``down``
    fault stops the server listening instead of answering."""
    kind = gen.fault.kind
    if kind == "down":  # the server dies with this request: it and every later one refused
        state.go_down()
        return
    if kind == "empty" or (kind == "empty_concurrent" and state.in_flight > 0):
        write_empty(conn, gen, enc)
        await conn.drain()
        return
    if kind == "empty_concurrent":
        gen = replace(gen, fault=NO_FAULT)
    await engine.generate(conn, gen, enc)
    if kind == "restart":  # the answer went out whole; then this and every idle connection
        conn.abort_quietly()  # are closed (a stream in flight goes on: a restart between calls)
        state.drop_connections()


def write_empty(conn: Connection, gen: Generation, enc: Encoder) -> None:
    """An empty completion, HTTP 200, as llama-cpp-python's server gives a concurrent stream."""
    if not gen.stream:
        conn.respond(200, JSON_CONTENT, enc.empty_whole())
        return
    events = b"".join(chunk(e) for e in enc.empty())
    conn.write(conn.head(200, enc.stream_content_type) + events + LAST_CHUNK)


def fault_point(fault: Fault) -> int | None:
    """How many tokens go out before a mid-stream fault, or None without one."""
    return fault.after_tokens if fault.kind in STREAM_FAULTS else None


async def stream_fault(
    conn: Connection,
    enc: Encoder,
    kind: str,
    lead: bytes,
    sent: int,
    stall_s: float,
) -> None:
    """End a stream with a mid-stream fault after ``sent`` tokens; ``lead`` is still unsent."""
    if kind == "error_line":
        event = enc.error_event(ERROR_LINE_MESSAGE.format(n=sent))
        conn.write(lead + chunk(event) + LAST_CHUNK)
    elif kind == "malformed":
        conn.write(lead + chunk(enc.malformed_event()) + LAST_CHUNK)
    elif kind == "garbage":
        conn.write(lead + chunk(GARBAGE) + LAST_CHUNK)
    elif kind == "huge_line":
        conn.write(lead + chunk(b"x" * HUGE_LINE_BYTES + b"\n") + LAST_CHUNK)
    elif kind == "drip":
        await _drip(conn, lead, stall_s)
        return
    elif kind == "keepalive":
        await _keepalive(conn, enc, lead, stall_s)
        return
    else:  # cut or stall: what was sent must arrive, then nothing more
        conn.write(lead)
        await conn.drain()
        if kind == "stall":
            await asyncio.sleep(stall_s)
        conn.abort_quietly()
        return
    await conn.drain()


async def _drip(conn: Connection, lead: bytes, stall_s: float) -> None:
    """The 'drip' fault: after what was sent, one byte of a line that never ends every
    ``DRIP_INTERVAL_S`` for ``stall_s``, then the connection closes: a stall that a reader
    timing each read, not each event, never sees."""
    await _trickle(conn, lead + b"%x\r\n" % 1_000_000, b"x", stall_s)  # a chunk's size said


async def _keepalive(conn: Connection, enc: Encoder, lead: bytes, stall_s: float) -> None:
    """The 'keepalive' fault: after what was sent, an event with no text (an Ollama chunk with
    empty content, an SSE delta with empty content) every ``DRIP_INTERVAL_S`` for ``stall_s``,
    then the connection closes: a stall behind whole, well-formed lines."""
    await _trickle(conn, lead, chunk(enc.token("")), stall_s)


async def _trickle(conn: Connection, lead: bytes, piece: bytes, stall_s: float) -> None:
    """Send ``lead``, then ``piece`` every ``DRIP_INTERVAL_S`` for ``stall_s``; then close."""
    conn.write(lead)
    loop = asyncio.get_running_loop()
    end = loop.time() + stall_s
    try:
        await conn.drain()
        while loop.time() < end:
            await asyncio.sleep(DRIP_INTERVAL_S)
            conn.write(piece)
            await conn.drain()
    except ConnectionResetError:
        return  # the client gave up
    conn.abort_quietly()


async def whole_fault(conn: Connection, enc: Encoder, kind: str, sent: int, stall_s: float) -> None:
    """Answer a non-streaming request hit by a mid-stream fault after ``sent`` tokens."""
    if kind == "error_line":
        content_type, body = enc.error(500, ERROR_LINE_MESSAGE.format(n=sent))
        conn.respond(500, content_type, body)
    elif kind in ("malformed", "garbage"):
        conn.respond(200, JSON_CONTENT, b'{"model": "truncated' if kind == "malformed" else GARBAGE)
    elif kind == "huge_line":
        conn.respond(200, JSON_CONTENT, b"x" * HUGE_LINE_BYTES)
    elif kind in ("drip", "keepalive"):
        head = conn.head(200, JSON_CONTENT)  # chunked: the body is dripped and never ends
        await _drip(conn, head, stall_s)
        return
    else:
        if kind == "stall":
            await asyncio.sleep(stall_s)
        conn.abort_quietly()
        return
    await conn.drain()
