"""The modelled engine: canned answers on a modelled timeline of queue, load, prefill, tokens.

Deadlines are absolute on time.monotonic() from the request's arrival (start + k * interval),
so a loaded server does not drift. With ``prompt_cache`` each slot remembers the words of
its last prompt and prefill is charged for the uncached share only.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from chimera.testing import modelling as m
from chimera.testing.generation import (
    JSON_CONTENT,
    Encoder,
    Generation,
    fault_point,
    stream_fault,
    whole_fault,
)
from chimera.testing.http import LAST_CHUNK, Connection, chunk
from chimera.testing.pacing import Pacer
from chimera.testing.slots import SlotTable
from chimera.testing.state import ModelTable, ServerState
from chimera.testing.structured import looks_like_json, smallest_instance
from chimera.testing.timeline import Entry, Timeline, tag_of

_YIELD_EVERY = 256  # tokens written back to back before letting other requests run


class ModelledEngine:
    """Serves the configured canned answers with the configured timings, reported exactly."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        cfg = state.config
        self.names = cfg.models
        self.models = ModelTable()
        self.slots = SlotTable(cfg.slots, route=cfg.prompt_cache)
        self.pacer = Pacer()
        self._modified_epoch = m.started_epoch()
        self._response_index = 0
        self._pieces: dict[str, list[str]] = {}
        self.timeline = Timeline(cfg.timeline) if cfg.timeline else None

    async def start(self) -> None:
        if self.timeline is not None:
            self.timeline.open()

    async def stop(self) -> None:
        self.models.cancel_loads()
        if self.timeline is not None:
            self.timeline.close()

    # --- catalogue --------------------------------------------------------------------------

    def card(self, name: str) -> m.ModelCard:
        return m.modelled_card(name, self._modified_epoch)

    def running(self) -> list[m.Running]:
        return [
            m.Running(x.name, x.expires_epoch, x.size_vram, x.context_length)
            for x in self.models.live()
        ]

    async def load(self, name: str, keep_alive_s: float | None, options: dict[str, object]) -> None:
        cfg = self.state.config
        await self.models.acquire(name, cfg.load_ms, wait=not cfg.fast, options=options)
        self.models.release(name, keep_alive_s)

    def unload(self, name: str) -> None:
        self.models.unload(name)

    def next_answer(self, schema: dict[str, Any] | None = None) -> list[str]:
        """The token pieces of the next answer: canned texts in turn, else 'tok1 ... tokN';
        with a ``schema`` (structured output), a text that does not open a JSON document
        becomes the smallest document the schema allows, as a server holding sampling to the
        schema would send.

        Split once per text and shared: callers must not modify the list.
        """
        responses = self.state.config.responses
        if responses:
            text = responses[self._response_index % len(responses)]
            self._response_index += 1
        else:
            text = m.default_text(self.state.config.default_tokens)
        if schema is not None and not looks_like_json(text):
            text = json.dumps(smallest_instance(schema))
        pieces = self._pieces.get(text)
        if pieces is None:
            pieces = self._pieces[text] = m.split_tokens(text)
        return pieces

    def thought(self, pieces: list[str]) -> tuple[list[str], int]:
        """With ``reasoning_apart``: the answer's leading ``<think>...</think>`` as pieces of
        reasoning (tags dropped) before the answer's, and how many lead; else as given, 0."""
        text = "".join(pieces)
        head = text.lstrip()
        if not self.state.config.reasoning_apart or not head.startswith(m.THINK_OPEN):
            return pieces, 0
        thought, _, answer = head[len(m.THINK_OPEN) :].partition(m.THINK_CLOSE)
        lead = m.split_tokens(thought.strip())
        return lead + m.split_tokens(answer.lstrip()), len(lead)

    # --- generation -------------------------------------------------------------------------

    async def generate(self, conn: Connection, gen: Generation, enc: Encoder) -> None:
        """Serve one generation over ``conn`` following the configured timeline and fault."""
        cfg, state = self.state.config, self.state
        pieces, thinking = self.thought(self.next_answer(gen.schema))
        pieces, done_reason = m.truncate(pieces, gen.limit)
        head = conn.head(200, enc.stream_content_type) if gen.stream else b""
        if head and enc.headers_first:
            conn.write(head)
            head = b""
        prompt = gen.prompt.words() if cfg.prompt_cache else ()
        entry = Entry(received_ns=conn.request_received_ns)
        claim = await self.slots.acquire(prompt)
        state.enter()
        try:
            load_ns = await self.models.acquire(
                gen.model, cfg.load_ms, wait=not cfg.fast, options=gen.options
            )
            try:
                total = len(prompt) if cfg.prompt_cache else m.count_words(*gen.prompt.texts())
                evaluated, cached = m.cached_share(total, claim.cached)
                # the prefill is charged for the uncached share of the prompt only
                prefill_ms = cfg.prefill_ms * evaluated / total if cached else cfg.prefill_ms
                timings = m.Timings.model(
                    queue_ns=claim.queue_ns,
                    load_ns=load_ns,
                    prefill_ms=prefill_ms,
                    token_interval_ms=cfg.token_interval_ms,
                    prompt_eval_count=evaluated,
                    eval_count=len(pieces),
                    prompt_cached=cached,
                )
                # the prefill starts when the request arrived, or when its wait ended
                origin = time.monotonic() if claim.queue_ns or load_ns else conn.request_received
                first = origin + prefill_ms / 1000
                entry.due_ns = round(first * 1e9)
                if gen.stream:
                    await self._stream(
                        conn, gen, enc, (pieces, thinking), done_reason, head, timings, first,
                        entry,
                    )  # fmt: skip
                else:
                    answer = pieces[thinking:]  # a whole body: the answer alone
                    await self._whole(conn, gen, enc, answer, done_reason, timings, first, entry)
            finally:
                self.models.release(gen.model, gen.keep_alive_s)
        finally:
            state.leave()
            self.slots.release(claim.index, prompt)
            if self.timeline is not None:
                self.timeline.add(tag_of(gen.prompt.texts()), gen.stream, entry)
                if not state.in_flight:
                    self.timeline.flush()

    async def _stream(
        self,
        conn: Connection,
        gen: Generation,
        enc: Encoder,
        answer: tuple[list[str], int],
        done_reason: str,
        head: bytes,
        timings: m.Timings,
        first: float,
        entry: Entry,
    ) -> None:
        cfg = self.state.config
        pieces, thinking = answer  # the first ``thinking`` pieces are reasoning sent apart
        events = [enc.reasoning if i < thinking else enc.token for i in range(len(pieces))]
        after = fault_point(gen.fault)
        stop_at = None if after is None else min(after, len(pieces))
        count = len(pieces) if stop_at is None else stop_at
        opening = enc.opening()
        # The head (unless already sent) and the opening events go out with the first event.
        lead = head + (chunk(opening) if opening else b"")
        interval = cfg.token_interval_ms / 1000
        for i in range(count):
            if cfg.fast:
                # One token per write, as a serving engine sends them, and the other streams'
                # tokens between two of this one's: a client benchmark then pays for every
                # token it reads, not for one parse of a whole response.
                if i:
                    await asyncio.sleep(0)
            elif interval > 0 or i == 0:
                await self.pacer.sleep_until(first + i * interval)
            elif i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            if i == 0:
                entry.woke_ns = time.monotonic_ns()
            conn.write(lead + chunk(events[i](pieces[i])))
            if i == 0:
                entry.first_write_ns = time.monotonic_ns()
            entry.tokens = i + 1
            lead = b""
            await conn.drain()
        if not cfg.fast and (count == 0 or stop_at is not None):
            # the fault (or the final chunk of an empty answer) comes when a next token would
            await self.pacer.sleep_until(first + count * interval)
        if stop_at is None:
            closing = b"".join(chunk(e) for e in enc.final(timings, done_reason))
            conn.write(lead + closing + LAST_CHUNK)
            entry.last_write_ns = time.monotonic_ns()
            await conn.drain()
            return
        await stream_fault(conn, enc, gen.fault.kind, lead, stop_at, cfg.stall_s)

    async def _whole(
        self,
        conn: Connection,
        gen: Generation,
        enc: Encoder,
        pieces: list[str],
        done_reason: str,
        timings: m.Timings,
        first: float,
        entry: Entry,
    ) -> None:
        cfg = self.state.config
        after = fault_point(gen.fault)
        stop_at = None if after is None else min(after, len(pieces))
        if not cfg.fast:
            # the body is ready when the last token (or the fault) would have been sent
            tokens = len(pieces) if stop_at is None else stop_at
            await self.pacer.sleep_until(first + cfg.token_interval_ms * max(tokens - 1, 0) / 1000)
        if stop_at is None:
            entry.woke_ns = time.monotonic_ns()
            conn.respond(200, JSON_CONTENT, enc.whole("".join(pieces), timings, done_reason))
            entry.first_write_ns = entry.last_write_ns = time.monotonic_ns()
            entry.tokens = len(pieces)
            await conn.drain()
            return
        await whole_fault(conn, enc, gen.fault.kind, stop_at, cfg.stall_s)
