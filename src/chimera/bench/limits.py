"""Backends for a scenario: one per endpoint (its own connection pool), optionally capped in flight.

Agents that name the same endpoint share its backend, and with a limit its semaphore: at most
``max_in_flight`` of their calls are out at once, the rest wait here, on the client. A waiting
call's clock (TTFT, e2e) starts when it goes out; the agent's own duration includes the wait.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import ClassVar, cast

from chimera.agent.endpoint import open_backend
from chimera.agent.spec import AgentSpec
from chimera.backends.base import Backend, EndpointSettings, StreamEvent
from chimera.calls import CallResult, GenerationRequest, ServerInfo
from chimera.errors import ConfigError
from chimera.ingest.pipeline import IngestResult
from chimera.options import InferenceOptions


class LimitedBackend:
    """A backend whose calls first take a slot of a shared semaphore."""

    kind: ClassVar[str] = "limited"  # replaced by the wrapped kind in each subclass
    load_options: ClassVar[frozenset[str]] = frozenset()  # and the wrapped one's load options

    def __init__(self, inner: Backend, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.slots = slots
        self.settings = inner.settings

    @property
    def url(self) -> str:
        return self.inner.url

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        await self.slots.acquire()
        held = True
        try:
            async for event in self.inner.stream(request):
                if isinstance(event, CallResult):
                    # The caller stops reading at the result and the generator may only be
                    # closed when collected: free the slot now, not then.
                    self.slots.release()
                    held = False
                yield event
        finally:
            if held:
                self.slots.release()

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        async with self.slots:
            return await self.inner.load(model, keep_alive, options)

    async def server_info(self) -> ServerInfo:
        return await self.inner.server_info()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> Backend:
        return cast(Backend, self)

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@functools.cache
def _limited_class(kind: str, load_options: frozenset[str]) -> type[LimitedBackend]:
    # Reports and the store name the backend by ``kind``: keep the wrapped one's.
    return type(f"Limited_{kind}", (LimitedBackend,), {"kind": kind, "load_options": load_options})


def limit_in_flight(backend: Backend, slots: asyncio.Semaphore) -> Backend:
    """``backend`` with every call holding one of ``slots`` while it runs."""
    return cast(Backend, _limited_class(backend.kind, backend.load_options)(backend, slots))


class BackendPool:
    """The open backends of a scenario's agents, one per endpoint; an async context manager."""

    def __init__(
        self, specs: Sequence[AgentSpec], facts: IngestResult, max_in_flight: int | None = None
    ) -> None:
        self.specs = list(specs)
        self.facts = facts
        self.max_in_flight = max_in_flight
        self._by_agent: dict[str, Backend] = {}
        self._stack = AsyncExitStack()

    def __getitem__(self, agent_id: str) -> Backend:
        return self._by_agent[agent_id]

    @property
    def endpoints(self) -> int:
        return len({id(b) for b in self._by_agent.values()})

    async def __aenter__(self) -> BackendPool:
        shared: dict[EndpointSettings, Backend] = {}
        try:
            for spec in self.specs:
                # Offline backends answer with the agent's own persona: one each.
                key = spec.endpoint if spec.endpoint.kind != "offline" else None
                backend = shared.get(key) if key is not None else None
                if backend is None:
                    backend = await self._stack.enter_async_context(open_backend(spec, self.facts))
                    if self.max_in_flight is not None:
                        backend = limit_in_flight(backend, asyncio.Semaphore(self.max_in_flight))
                    if key is not None:
                        shared[key] = backend
                self._by_agent[spec.agent_id] = backend
            self._check_load_options()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    def _check_load_options(self) -> None:
        """Agents sharing one loaded model must ask the same load-time options of a backend
        that fixes them at load (one load serves them all): refused here, before any call."""
        seen: dict[tuple[int, str], tuple[str, dict[str, object]]] = {}
        for spec in self.specs:
            backend = self._by_agent[spec.agent_id]
            asked = {
                k: v for k, v in spec.options.set_options().items() if k in backend.load_options
            }
            first = seen.setdefault((id(backend), spec.model), (spec.agent_id, asked))
            if first[1] != asked:
                raise ConfigError(
                    f"agents {first[0]!r} and {spec.agent_id!r} share {spec.model} on one "
                    f"{backend.kind} endpoint but ask different load-time options "
                    f"({first[1] or 'defaults'} and {asked or 'defaults'}): one load serves "
                    "both; give them the same"
                )

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
