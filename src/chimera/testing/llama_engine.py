"""The llama.cpp engine: real tokens from a GGUF model behind the Ollama and OpenAI protocols.

``parallel`` slots, each its own ``llama_cpp.Llama`` loaded at start, generate in worker
threads (llama.cpp releases the GIL), so slots run in parallel; more requests wait first
in, first out, as with ``OLLAMA_NUM_PARALLEL``. A request goes to the free slot whose cache
shares the longest token prefix with its prompt, and only the rest is evaluated. Each token's
text is written as its own chunk the moment it is produced; a client that goes away stops
the generation at the next token. Timings come from llama.cpp's perf counters.

Imported only for ``engine="llamacpp"``: llama-cpp-python is an optional dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from chimera.backends.llama_options import LOAD_PARAMS, UNSUPPORTED, json_grammar, plan_call
from chimera.errors import ChimeraError
from chimera.models import resolve_gguf
from chimera.options import InferenceOptions
from chimera.testing import modelling as m
from chimera.testing.generation import (
    JSON_CONTENT,
    Encoder,
    Generation,
    fault_point,
    stream_fault,
    whole_fault,
)
from chimera.testing.gguf_card import gguf_card
from chimera.testing.http import LAST_CHUNK, Connection, chunk
from chimera.testing.llama_slot import Job, LlamaSlot, Outcome, encode, load_llama
from chimera.testing.slots import Claim, SlotTable
from chimera.testing.state import ServerState

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKENIZER_CTX = 256  # the tokenizer's own context: it never evaluates anything
_Event = str | Outcome | Exception  # what a run sends back: text, then how it ended


class BadRequest(Exception):
    """A request the engine cannot serve as sent; answered 400 with the protocol's body."""


def served_names(config: Any) -> list[str]:
    """What the server lists: ``models`` if set, else the alias or file stem (':latest' on
    Ollama, as ``ollama create`` would name it)."""
    if "models" in config.model_fields_set:
        return list(config.models)
    stem = Path(config.model).stem.lower()
    return [f"{stem}:latest" if config.protocol == "ollama" else stem]


class LlamaEngine:
    """Real generation with llama-cpp-python; the catalogue read from the GGUF file."""

    def __init__(self, state: ServerState) -> None:
        cfg = state.config
        self.state = state
        self.names = served_names(cfg)
        self.slots = SlotTable(cfg.parallel, route=True)
        self._workers: list[LlamaSlot] = []
        self._tokenizer: Any = None
        self._pool, self._tok_pool = self._pools()
        self._card: m.ModelCard | None = None

    def _pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """One thread per slot, and one for tokenizing so it never waits behind a generation
        (threads start on first use)."""
        slots = ThreadPoolExecutor(self.state.config.parallel, thread_name_prefix="chimera-llama")
        return slots, ThreadPoolExecutor(1, thread_name_prefix="chimera-llama-tok")

    async def _in(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def start(self) -> None:
        cfg = self.state.config
        assert cfg.model is not None  # the config requires it for this engine
        path = await self._in(self._tok_pool, resolve_gguf, cfg.model)
        self._card = await self._in(self._tok_pool, gguf_card, path, self.names[0])
        # A model of its own for tokenizing: the slots' may be reloaded (a new num_ctx) while
        # a request is tokenized, and the weights are memory-mapped, shared by all.
        self._tokenizer, _ = await self._in(self._tok_pool, load_llama, path, TOKENIZER_CTX, 1)
        for index in range(cfg.parallel):
            worker = LlamaSlot(index, path, cfg.ctx, cfg.threads)
            await self._in(self._pool, worker.load)
            self._workers.append(worker)

    async def stop(self) -> None:
        # Cancelled requests have told their runs to stop at the next token; a model is
        # closed only once no thread uses it.
        for pool in (self._pool, self._tok_pool):
            await asyncio.to_thread(pool.shutdown, True)
        for worker in self._workers:
            worker.close()
        if self._tokenizer is not None:
            self._tokenizer.close()
        self._workers, self._tokenizer = [], None
        self._pool, self._tok_pool = self._pools()  # ready to start again

    # --- catalogue --------------------------------------------------------------------------

    def card(self, name: str) -> m.ModelCard:
        assert self._card is not None, "the engine is not started"
        return self._card

    def running(self) -> list[m.Running]:
        # loaded at start for the server's lifetime: it never expires, and runs on the CPU
        ctx = max((w.n_ctx for w in self._workers), default=self.state.config.ctx)
        return [m.Running(name, float("inf"), False, ctx) for name in self.names]

    async def load(self, name: str, keep_alive_s: float | None, options: dict[str, object]) -> None:
        return None  # always loaded

    def unload(self, name: str) -> None:
        return None  # the model stays loaded while the server runs

    # --- generation -------------------------------------------------------------------------

    def _prepare(self, gen: Generation) -> Job:
        """Tokenize and check one request (in the tokenizer thread)."""
        opts = gen.options
        num_ctx = opts.get("num_ctx")
        n_ctx = num_ctx if isinstance(num_ctx, int) and num_ctx > 0 else self.state.config.ctx
        # Load-time options are the server's (--threads, --ctx), except num_ctx, which
        # reloads a slot; unknown options are ignored, as Ollama ignores them.
        skip = {*LOAD_PARAMS, *UNSUPPORTED, "num_predict"}
        known = InferenceOptions.model_fields
        sampling = {k: v for k, v in opts.items() if k in known and k not in skip}
        try:
            given = InferenceOptions.parse(sampling)
            plan = plan_call(given)
            tokens, chat_stop = encode(self._tokenizer, gen.prompt)
        except (ChimeraError, ValueError) as exc:
            raise BadRequest(str(exc).splitlines()[0]) from None
        if len(tokens) >= n_ctx:
            raise BadRequest(
                f"the prompt is {len(tokens)} tokens but the context holds {n_ctx}; "
                "raise num_ctx (or the server's --ctx) or shorten the prompt"
            )
        sample = plan.sample
        if gen.schema is not None:  # structured output: a grammar, as llama.cpp's server does
            try:
                sample = {**sample, "grammar": json_grammar(gen.schema)}
            except ChimeraError as exc:
                raise BadRequest(str(exc).splitlines()[0]) from None
        room = n_ctx - len(tokens)
        limit = gen.limit if gen.limit is not None and gen.limit > 0 else room
        return Job(
            tokens=tokens,
            stop=plan.stop + chat_stop,
            sample=sample,
            seed=plan.seed,
            repeat_last_n=plan.repeat_last_n,
            max_tokens=min(limit, room),
            n_ctx=n_ctx,
        )

    async def generate(self, conn: Connection, gen: Generation, enc: Encoder) -> None:
        arrived = time.perf_counter_ns()
        try:
            job = await self._in(self._tok_pool, self._prepare, gen)
        except BadRequest as exc:
            content_type, body = enc.error(400, str(exc))
            conn.respond(400, content_type, body)
            return
        prepare_ns = time.perf_counter_ns() - arrived
        head = conn.head(200, enc.stream_content_type) if gen.stream else b""
        if head and enc.headers_first:
            conn.write(head)
            head = b""
        claim = await self.slots.acquire(job.tokens)
        self.state.enter()  # until the run ends (see _start), not until the answer is written
        await self._serve(conn, gen, enc, job, claim, head, prepare_ns)

    def _start(self, job: Job, claim: Claim) -> tuple[asyncio.Queue[_Event], threading.Event]:
        """Run ``job`` on the claimed slot in a worker thread. Its text arrives on the queue,
        then its ``Outcome`` (or the exception it raised); setting the event stops it."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Event] = asyncio.Queue()
        cancel = threading.Event()
        worker = self._workers[claim.index]

        def emit(piece: str) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, piece)

        def finish(cached: list[int], result: Outcome | Exception) -> None:
            # The run, not the request, holds the slot: a request cancelled meanwhile must
            # not hand the model to another thread before this one is done with it.
            self.state.leave()
            self.slots.release(claim.index, cached)
            queue.put_nowait(result)

        def work() -> None:
            result: Outcome | Exception
            cached: list[int] = []
            try:
                result = worker.run(job, emit, cancel)
                cached = worker.cached_tokens()
            except Exception as exc:
                result = exc
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finish, cached, result)

        try:
            self._pool.submit(work)
        except RuntimeError as exc:  # the server is stopping
            finish([], exc)
        return queue, cancel

    async def _serve(
        self,
        conn: Connection,
        gen: Generation,
        enc: Encoder,
        job: Job,
        claim: Claim,
        head: bytes,
        prepare_ns: int,
    ) -> None:
        queue, cancel = self._start(job, claim)
        stop_at = fault_point(gen.fault)
        opening = enc.opening()
        lead = head + (chunk(opening) if opening else b"")
        sent, parts = 0, []
        try:
            while isinstance(piece := await queue.get(), str):
                if stop_at is not None and sent >= stop_at:
                    break  # the fault comes when the next token would have gone out
                if gen.stream:
                    conn.write(lead + chunk(enc.token(piece)))
                    lead = b""
                    await conn.drain()
                else:
                    parts.append(piece)
                sent += 1
            if stop_at is not None:
                cancel.set()
                stall_s = self.state.config.stall_s
                if gen.stream:
                    await stream_fault(conn, enc, gen.fault.kind, lead, sent, stall_s)
                else:
                    await whole_fault(conn, enc, gen.fault.kind, sent, stall_s)
                return
            if isinstance(piece, Exception):  # llama.cpp failed: say so in the protocol's shape
                log.error("test server: llama.cpp generation failed", exc_info=piece)
                self._fail(conn, gen, enc, lead, f"llama.cpp failed while generating: {piece}")
                return
            outcome = piece
            assert isinstance(outcome, Outcome)  # the loop above ends at the run's last event
            timings = _timings(outcome, claim, len(job.tokens), prepare_ns)
            if gen.stream:
                closing = b"".join(chunk(e) for e in enc.final(timings, outcome.done_reason))
                conn.write(lead + closing + LAST_CHUNK)
            else:
                text = "".join(parts)
                conn.respond(200, JSON_CONTENT, enc.whole(text, timings, outcome.done_reason))
            await conn.drain()
        finally:
            cancel.set()  # the client went away, or a fault: stop at the next token

    @staticmethod
    def _fail(conn: Connection, gen: Generation, enc: Encoder, lead: bytes, message: str) -> None:
        if gen.stream:
            conn.write(lead + chunk(enc.error_event(message)) + LAST_CHUNK)
        else:
            content_type, body = enc.error(500, message)
            conn.respond(500, content_type, body)


def _timings(outcome: Outcome, claim: Claim, prompt_tokens: int, prepare_ns: int) -> m.Timings:
    """The run's figures; time outside prompt and decode (tokenizing, sampling) counts in
    the total only."""
    other = max(0, outcome.busy_ns - outcome.prompt_ns - outcome.eval_ns) + prepare_ns
    return m.Timings(
        queue_ns=claim.queue_ns,
        load_ns=outcome.load_ns,
        prompt_eval_ns=outcome.prompt_ns,
        eval_ns=outcome.eval_ns,
        prompt_eval_count=outcome.prompt_evaluated,
        eval_count=outcome.output_tokens,
        prompt_cached=prompt_tokens - outcome.prompt_evaluated,
        other_ns=other,
    )
