"""An httpcore network backend that stamps every received packet with its arrival time.

Under load many streams receive data in the same instant, and a client handles them one after
another: a timestamp taken where the client parses a token includes the time spent on the
other streams first. This backend reads sockets through an asyncio Protocol whose
``data_received`` records ``perf_counter_ns`` when the event loop reads the bytes, before any
task handles them: a token's stamp does not wait for the parsing of the tokens that arrived
with it. It does wait for the step of a task that is running when the bytes arrive (the loop
reads its sockets between steps), which is why the pool cuts a response's first, longest
step in three (``pool.StreamPool``); ``benchmarks/client_overhead.py`` measures what is left
against the test server's own write times. Plain-HTTP only: for https the default backend is
used (timestamps are then taken when the client reads the bytes).
"""

# ruff: noqa: ASYNC109  (the timeout parameters are httpcore's interface)
from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Iterable
from time import perf_counter_ns
from typing import Any

import httpcore
import httpx

from chimera.backends.pool import StreamPool

_HIGH_WATER = 4 * 2**20  # pause reading when this much is buffered and unread
DEFAULT_MAX_CONNECTIONS = 100  # httpx's default, for limits that set none


class _StampingProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.chunks: deque[tuple[bytes, int]] = deque()
        self.buffered = 0
        self.eof = False
        self.exc: Exception | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.drain_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.chunks.append((data, perf_counter_ns()))
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.exc = exc
        self._wake()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def pause_writing(self) -> None:
        self.drain_waiter = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)
        self.drain_waiter = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpcore.ReadTimeout("timed out reading from the server"))


class StampedStream(httpcore.AsyncNetworkStream):
    """One TCP connection; ``last_arrival_ns`` is when the bytes last returned arrived.

    ``deadline`` (event-loop time), when set, bounds a read that has to wait for bytes in
    place of httpcore's timeout: a streaming reader moves it forward with every chunk for the
    price of an assignment, and a timer is armed only when a read finds nothing buffered
    (one ``asyncio.timeout`` per chunk read was a tenth of the client's CPU under load)."""

    def __init__(self, transport: asyncio.Transport, protocol: _StampingProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self.last_arrival_ns = 0
        self.deadline: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        while not p.chunks:
            if p.exc is not None:
                raise httpcore.ReadError(str(p.exc) or type(p.exc).__name__)
            if p.eof:
                return b""
            loop = asyncio.get_running_loop()
            p.waiter = waiter = loop.create_future()
            when = self.deadline
            if when is None and timeout is not None:
                when = loop.time() + timeout
            # a timer that fails the waiter: cheaper than asyncio.timeout, which cancels and
            # uncancels the task (this wait comes once per chunk when the client keeps up)
            timer = None if when is None else loop.call_at(when, _time_out, waiter)
            try:
                await waiter
            finally:
                p.waiter = None
                if timer is not None:
                    timer.cancel()
        data, arrived = p.chunks.popleft()
        if len(data) > max_bytes:
            p.chunks.appendleft((data[max_bytes:], arrived))
            data = data[:max_bytes]
        p.buffered -= len(data)
        if p.paused and p.buffered < _HIGH_WATER // 2:
            self._transport.resume_reading()
            p.paused = False
        self.last_arrival_ns = arrived
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        waiter = self._protocol.drain_waiter
        if waiter is not None:
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing to the server") from None

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("TLS is not handled by the stamping backend")

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle keep-alive connection with data or EOF pending was closed by the server.
            return bool(self._protocol.chunks) or self._protocol.eof
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        return None


class StampingBackend(httpcore.AsyncNetworkBackend):
    """Opens plain TCP connections as StampedStreams."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> StampedStream:
        loop = asyncio.get_running_loop()
        protocol = _StampingProtocol()
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await loop.create_connection(
                    lambda: protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return StampedStream(transport, protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not handled by the stamping backend")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def stamping_transport(base_url: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
    """An httpx transport over StampingBackend for a plain-HTTP URL; None where it does not
    apply (https) or this httpx has no pool to replace, so the caller keeps httpx's default."""
    if not base_url.startswith("http://"):
        return None
    transport = httpx.AsyncHTTPTransport(limits=limits)
    if not hasattr(transport, "_pool"):
        return None
    # httpx exposes no network_backend argument; its pool is replaced, with the same limits.
    n = limits.max_connections or DEFAULT_MAX_CONNECTIONS
    transport._pool = StreamPool(
        max_connections=n,
        max_keepalive_connections=min(n, limits.max_keepalive_connections or n),
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=StampingBackend(),
    )
    return transport
