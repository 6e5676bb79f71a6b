"""The timeline of one generation, shared by both protocols: queue, load, prefill, tokens, faults.

A protocol module describes the request as a ``Generation`` and supplies an ``Encoder`` that
turns events into its wire format; this module decides when each byte is written. Deadlines
are absolute on time.monotonic() from the request's arrival (start + k * interval), so a
loaded server does not drift.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from chimera.testing.http import LAST_CHUNK, Connection, chunk
from chimera.testing.modelling import Timings
from chimera.testing.state import Fault, ServerState

STREAM_FAULTS = frozenset({"error_line", "cut", "stall", "malformed"})
ERROR_LINE_MESSAGE = "test server: injected fault (error_line) after {n} tokens"
HTTP_500_MESSAGE = "test server: injected fault (http_500)"
_YIELD_EVERY = 256  # tokens written back to back before letting other requests run


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

    def final(self, timings: Timings, done_reason: str) -> list[bytes]:
        """The closing events (final chunk, usage, [DONE]), each its own HTTP chunk."""
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
class Generation:
    """One generation request, decided: which model, which tokens, how it ends."""

    model: str  # the installed name
    pieces: list[str]
    done_reason: str
    prompt_tokens: int
    stream: bool
    keep_alive_s: float | None
    fault: Fault
    options: dict[str, object]


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


async def run_generation(
    conn: Connection, state: ServerState, gen: Generation, enc: Encoder
) -> None:
    """Serve one generation over ``conn`` following the configured timeline and fault."""
    cfg = state.config
    head = conn.head(200, enc.stream_content_type) if gen.stream else b""
    if head and enc.headers_first:
        conn.write(head)
        head = b""
    queue_ns = await state.slots.acquire()
    state.enter()
    try:
        load_ns = await state.models.acquire(
            gen.model, cfg.load_ms, wait=not cfg.fast, options=gen.options
        )
        try:
            await _generate(conn, state, gen, enc, head, queue_ns, load_ns)
        finally:
            state.models.release(gen.model, gen.keep_alive_s)
    finally:
        state.leave()
        state.slots.release()


async def _generate(
    conn: Connection,
    state: ServerState,
    gen: Generation,
    enc: Encoder,
    head: bytes,
    queue_ns: int,
    load_ns: int,
) -> None:
    cfg = state.config
    timings = Timings.model(
        queue_ns=queue_ns,
        load_ns=load_ns,
        prefill_ms=cfg.prefill_ms,
        token_interval_ms=cfg.token_interval_ms,
        prompt_eval_count=gen.prompt_tokens,
        eval_count=len(gen.pieces),
    )
    # the prefill starts when the request arrived, or when its wait (slot, load) ended
    origin = time.monotonic() if queue_ns or load_ns else conn.request_received
    if gen.stream:
        await _stream(conn, state, gen, enc, head, timings, origin)
    else:
        await _whole(conn, state, gen, enc, timings, origin)


def _fault_point(gen: Generation) -> int | None:
    """How many tokens go out before a mid-stream fault, or None without one."""
    if gen.fault.kind in STREAM_FAULTS:
        return min(gen.fault.after_tokens, len(gen.pieces))
    return None


async def _stream(
    conn: Connection,
    state: ServerState,
    gen: Generation,
    enc: Encoder,
    head: bytes,
    timings: Timings,
    origin: float,
) -> None:
    cfg = state.config
    stop_at = _fault_point(gen)
    count = len(gen.pieces) if stop_at is None else stop_at
    opening = enc.opening()
    # The head (unless already sent) and the opening events go out with the first event.
    lead = head + (chunk(opening) if opening else b"")
    if cfg.fast:
        conn.write(b"".join([lead, *[chunk(enc.token(p)) for p in gen.pieces[:count]]]))
        lead = b""
    else:
        interval = cfg.token_interval_ms / 1000
        first = origin + cfg.prefill_ms / 1000
        for i in range(count):
            if interval > 0 or i == 0:
                await state.pacer.sleep_until(first + i * interval)
            elif i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            conn.write(lead + chunk(enc.token(gen.pieces[i])))
            lead = b""
            await conn.drain()
        if count == 0 or stop_at is not None:
            # the fault (or the final chunk of an empty answer) comes when a next token would
            await state.pacer.sleep_until(first + count * interval)
    if stop_at is None:
        closing = b"".join(chunk(e) for e in enc.final(timings, gen.done_reason))
        conn.write(lead + closing + LAST_CHUNK)
        await conn.drain()
        return
    await _stream_fault(conn, state, gen, enc, lead, stop_at)


async def _stream_fault(
    conn: Connection, state: ServerState, gen: Generation, enc: Encoder, lead: bytes, sent: int
) -> None:
    kind = gen.fault.kind
    if kind == "error_line":
        event = enc.error_event(ERROR_LINE_MESSAGE.format(n=sent))
        conn.write(lead + chunk(event) + LAST_CHUNK)
    elif kind == "malformed":
        conn.write(lead + chunk(enc.malformed_event()) + LAST_CHUNK)
    else:  # cut or stall: what was sent must arrive, then nothing more
        conn.write(lead)
        await conn.drain()
        if kind == "stall":
            await asyncio.sleep(state.config.stall_s)
        conn.abort_quietly()
        return
    await conn.drain()


async def _whole(
    conn: Connection,
    state: ServerState,
    gen: Generation,
    enc: Encoder,
    timings: Timings,
    origin: float,
) -> None:
    cfg = state.config
    stop_at = _fault_point(gen)
    if not cfg.fast:
        # the body is ready when the last token (or the fault) would have been sent
        tokens = len(gen.pieces) if stop_at is None else stop_at
        delay_s = (cfg.prefill_ms + cfg.token_interval_ms * max(tokens - 1, 0)) / 1000
        await state.pacer.sleep_until(origin + delay_s)
    kind = gen.fault.kind if stop_at is not None else "none"
    if kind == "none":
        body = enc.whole("".join(gen.pieces), timings, gen.done_reason)
        conn.respond(200, "application/json; charset=utf-8", body)
    elif kind == "error_line":
        content_type, body = enc.error(500, ERROR_LINE_MESSAGE.format(n=stop_at))
        conn.respond(500, content_type, body)
    elif kind == "malformed":
        conn.respond(200, "application/json; charset=utf-8", b'{"model": "truncated')
    else:
        if kind == "stall":
            await asyncio.sleep(state.config.stall_s)
        conn.abort_quietly()
        return
    await conn.drain()
