"""The mutable state of one running test server: records, faults, loaded (modelled) models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chimera.testing.config import FaultKind, TestServerConfig
from chimera.testing.modelling import CONTEXT_LENGTH, DEFAULT_KEEP_ALIVE_S, NS_PER_MS

REDACTED_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key"})
REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it; credentials in headers are redacted."""

    path: str
    body: dict[str, object] | None
    headers: dict[str, str]
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    after_tokens: int


NO_FAULT = Fault("none", 0)


@dataclass(slots=True)
class LoadedModel:
    name: str
    keep_alive_s: float
    expires_monotonic: float
    expires_epoch: float
    users: int = 0
    size_vram: bool = True
    context_length: int = CONTEXT_LENGTH


@dataclass(slots=True)
class ModelTable:
    """Which models are loaded, as Ollama's scheduler sees it; loads are shared by waiters."""

    loaded: dict[str, LoadedModel] = field(default_factory=dict)
    loading: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def is_warm(self, name: str) -> bool:
        now = time.monotonic()
        model = self.loaded.get(name)
        return model is not None and (model.users > 0 or model.expires_monotonic > now)

    def live(self) -> list[LoadedModel]:
        now = time.monotonic()
        return [m for m in self.loaded.values() if m.users > 0 or m.expires_monotonic > now]

    async def acquire(
        self, name: str, load_ms: float, *, wait: bool, options: dict[str, object] | None = None
    ) -> int:
        """Make ``name`` loaded and count one user; returns the load time to report, in ns.

        The request that starts a load reports ``load_ms`` exactly; one that joins a load in
        progress reports how long it waited for it; a warm model reports 0. ``options`` of the
        loading request set what /api/ps shows (num_ctx, num_gpu=0 means nothing in VRAM).
        """
        if self.is_warm(name):
            self._use(name)
            return 0
        task = self.loading.get(name)
        if task is not None:
            started = time.perf_counter_ns()
            await asyncio.shield(task)
            self._use(name)
            # timer lateness must not make a joiner's share exceed the modelled load
            return min(time.perf_counter_ns() - started, round(load_ms * NS_PER_MS))
        if wait and load_ms > 0:
            task = asyncio.get_running_loop().create_task(asyncio.sleep(load_ms / 1000))
            self.loading[name] = task
            task.add_done_callback(lambda t: self._loaded(name, t))
            await asyncio.shield(task)
        model = self._use(name)
        opts = options or {}
        num_ctx, num_gpu = opts.get("num_ctx"), opts.get("num_gpu")
        model.context_length = (
            num_ctx if isinstance(num_ctx, int) and num_ctx > 0 else CONTEXT_LENGTH
        )
        model.size_vram = num_gpu != 0
        return round(load_ms * NS_PER_MS)

    def _loaded(self, name: str, task: asyncio.Task[None]) -> None:
        # Loaded as soon as the load ends, so a request arriving before the waiters resume
        # finds the model warm instead of starting a second load.
        self.loading.pop(name, None)
        if not task.cancelled():
            self._touch(name, DEFAULT_KEEP_ALIVE_S)

    def _use(self, name: str) -> LoadedModel:
        model = self.loaded.get(name) or self._touch(name, DEFAULT_KEEP_ALIVE_S)
        model.users += 1
        return model

    def release(self, name: str, keep_alive_s: float | None) -> None:
        """One user finished; the keep-alive timer starts now (0 unloads at once)."""
        model = self.loaded.get(name)
        if model is None:
            return
        model.users = max(0, model.users - 1)
        keep = DEFAULT_KEEP_ALIVE_S if keep_alive_s is None else keep_alive_s
        if keep == 0 and model.users == 0:
            del self.loaded[name]
        else:
            self._touch(name, keep)

    def unload(self, name: str) -> None:
        self.loaded.pop(name, None)

    def _touch(self, name: str, keep_alive_s: float) -> LoadedModel:
        model = self.loaded.get(name)
        if model is None:
            model = LoadedModel(name, keep_alive_s, 0.0, 0.0)
            self.loaded[name] = model
        model.keep_alive_s = keep_alive_s
        model.expires_monotonic = time.monotonic() + keep_alive_s
        model.expires_epoch = time.time() + keep_alive_s
        return model

    def cancel_loads(self) -> None:
        for task in self.loading.values():
            task.cancel()
        self.loading.clear()


class ServerState:
    """What every running server changes, whatever its engine: records, faults, counts.

    Shared by its connections, on one event loop.
    """

    def __init__(self, config: TestServerConfig) -> None:
        self.config = config
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.generation_requests = 0
        self._fault = Fault(config.fault, config.fault_after_tokens)
        self._fault_from = config.fault_from_request
        self._fault_every = config.fault_every
        self._fault_base = 0
        # set by the server: close every connection, as a restart does (the 'restart' fault)
        self.drop_connections: Callable[[], None] = lambda: None
        # set by the server: stop listening and drop every connection (the 'down' fault)
        self.go_down: Callable[[], None] = lambda: None

    def record(
        self, method: str, path: str, body: dict[str, object] | None, headers: dict[str, str]
    ) -> None:
        if not self.config.record_requests:
            return
        shown = {k: (REDACTED if k in REDACTED_HEADERS else v) for k, v in headers.items()}
        self.requests.append(RecordedRequest(path, body, shown, method))

    def set_fault(
        self, kind: FaultKind, after_tokens: int, from_request: int, every: int = 1
    ) -> None:
        """Change the fault; ``from_request`` counts generation requests from this call on."""
        if from_request < 1 or after_tokens < 0 or every < 1:
            raise ValueError("from_request and every must be >= 1, after_tokens >= 0")
        self._fault = Fault(kind, after_tokens)
        self._fault_from = from_request
        self._fault_every = every
        self._fault_base = self.generation_requests

    def next_generation(self) -> Fault:
        """Count one generation request and return the fault it gets ('none' if not its turn)."""
        self.generation_requests += 1
        past = self.generation_requests - self._fault_base - self._fault_from
        if past >= 0 and past % self._fault_every == 0:
            return self._fault
        return NO_FAULT

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1
