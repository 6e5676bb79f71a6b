"""TestServer (async, in the caller's event loop) and ServerThread (its own loop in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from chimera.testing.config import FaultKind, TestServerConfig
from chimera.testing.engine import ModelledEngine
from chimera.testing.generation import Engine
from chimera.testing.http import App, Connection
from chimera.testing.ollama import OllamaApp
from chimera.testing.openai import OpenAIApp
from chimera.testing.state import RecordedRequest, ServerState


def _configure(config: TestServerConfig | None, overrides: dict[str, Any]) -> TestServerConfig:
    base = config if config is not None else TestServerConfig()
    if not overrides:
        return base
    # only the fields set by hand, so defaults that depend on others (a served model's
    # name) stay defaults
    return TestServerConfig.model_validate({**base.model_dump(exclude_unset=True), **overrides})


def _engine(state: ServerState) -> Engine:
    if state.config.engine == "llamacpp":
        # imported only here: llama-cpp-python is an optional dependency
        from chimera.testing.llama_engine import LlamaEngine

        return LlamaEngine(state)
    return ModelledEngine(state)


class TestServer:
    """An Ollama- or OpenAI-protocol server on a real loopback socket, in the running loop.

    ``async with TestServer(protocol="openai", prefill_ms=200) as srv:`` then point a client
    at ``srv.url``. Keyword arguments override fields of ``config``.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, config: TestServerConfig | None = None, /, **overrides: Any) -> None:
        self.config = _configure(config, overrides)
        self._state = ServerState(self.config)
        self._engine = _engine(self._state)
        self._app: App = (
            OllamaApp(self._state, self._engine)
            if self.config.protocol == "ollama"
            else OpenAIApp(self._state, self._engine)
        )
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()
        self._state.drop_connections = self._drop_connections
        self._state.go_down = self._go_down
        self._port = 0

    def _drop_connections(self) -> None:
        """Close every idle connection, as a server restarted between two calls does to the
        connections a client keeps for its next request."""
        for conn in list(self._connections):
            if conn.idle:
                conn.abort_quietly()

    def _go_down(self) -> None:
        """Stop listening (a new connection is refused) and drop every connection, as a
        server that died does; ``stop`` still cleans up."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort()

    async def start(self) -> Self:
        if self._server is not None:
            return self
        loop = asyncio.get_running_loop()
        try:
            await self._engine.start()  # a real engine loads its model here
            self._server = await loop.create_server(
                lambda: Connection(self._app, self._connections),
                self.config.host,
                self.config.port,
                reuse_address=True,
                backlog=2048,
            )
        except BaseException:
            await self._engine.stop()
            raise
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening, drop every connection (in-flight requests are cancelled)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = [c.task for c in self._connections if c.task is not None]
        for conn in list(self._connections):
            conn.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        await self._engine.stop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the test server is not started; use `async with TestServer()`")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (OpenAI clients add ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (Authorization and API-key headers redacted)."""
        return self._state.requests

    @property
    def max_in_flight(self) -> int:
        """The most requests that were generating at the same time (queued ones excluded)."""
        return self._state.max_in_flight

    @property
    def in_flight(self) -> int:
        return self._state.in_flight

    @property
    def generation_requests(self) -> int:
        """Requests to generation endpoints so far (load calls included)."""
        return self._state.generation_requests

    @property
    def loaded_models(self) -> list[str]:
        """Models currently loaded (what /api/ps lists)."""
        return [model.name for model in self._engine.running()]

    def set_fault(
        self,
        kind: FaultKind,
        *,
        after_tokens: int | None = None,
        from_request: int = 1,
        every: int = 1,
    ) -> None:
        """Inject a fault from now on: ``from_request=1`` hits the next generation request,
        2 lets one more through first; ``every=N`` then hits one request in N.
        ``set_fault("none")`` heals the server."""
        after = self.config.fault_after_tokens if after_tokens is None else after_tokens
        self._state.set_fault(kind, after, from_request, every)


class ServerThread:
    """A TestServer running its own event loop in a daemon thread, for sync code.

    ``with ServerThread(protocol="ollama") as srv:`` serves while the block runs; subprocesses
    (CLI tests) can reach ``srv.url`` as well.
    """

    def __init__(
        self,
        config: TestServerConfig | None = None,
        /,
        *,
        use_uvloop: bool = False,
        **overrides: Any,
    ) -> None:
        self.config = _configure(config, overrides)
        self._use_uvloop = use_uvloop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: TestServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="chimera-test-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        if self._use_uvloop:
            import uvloop

            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
        return asyncio.new_event_loop()

    def _run(self) -> None:
        loop = self._new_loop()
        self._loop = loop
        server = TestServer(self.config)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # e.g. the port is taken: report it to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._server = server
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, fn: Callable[[TestServer], Any]) -> Any:
        """Run ``fn(server)`` on the server's loop and return its result."""
        server = self._server
        if server is None or self._loop is None:
            raise RuntimeError("the server thread is not started; use `with ServerThread()`")
        if self._thread is None:  # stopped: its loop is gone, read what it left
            return fn(server)

        async def call() -> Any:
            return fn(server)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    @property
    def url(self) -> str:
        return str(self._call(lambda s: s.url))

    @property
    def port(self) -> int:
        return int(self._call(lambda s: s.port))

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self._call(lambda s: list(s.requests)))

    @property
    def max_in_flight(self) -> int:
        return int(self._call(lambda s: s.max_in_flight))

    @property
    def in_flight(self) -> int:
        return int(self._call(lambda s: s.in_flight))

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def generation_requests(self) -> int:
        return int(self._call(lambda s: s.generation_requests))

    @property
    def loaded_models(self) -> list[str]:
        return list(self._call(lambda s: s.loaded_models))

    def set_fault(
        self,
        kind: FaultKind,
        *,
        after_tokens: int | None = None,
        from_request: int = 1,
        every: int = 1,
    ) -> None:
        self._call(
            lambda s: s.set_fault(
                kind, after_tokens=after_tokens, from_request=from_request, every=every
            )
        )
