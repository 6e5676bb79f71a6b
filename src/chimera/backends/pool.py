"""A connection pool for many concurrent streams to one server, at a constant cost a request.

httpcore's own pool matches every queued request against every connection each time a request
starts or ends. With 64 streams starting together (a closed loop's rounds do) that was 40% of
the client's CPU, and event-loop stalls of 100-200 ms that landed in the very TTFTs being
measured. This pool keeps its idle connections on a stack and bounds the open ones with a
semaphore (first come, first served); what it opens are httpcore's own HTTP/1.1 connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator

import httpcore

# what a request on a kept-alive connection meets when the server closed it unanswered
_CLOSED_UNANSWERED = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)


class StreamPool(httpcore.AsyncConnectionPool):
    """Up to ``max_connections`` HTTP/1.1 connections over ``network_backend``; a request
    waits for a free one when all are busy, and its connection is reused once its response
    has been read to the end (closed otherwise, as httpcore does).

    A response's first token costs the client about a millisecond of CPU from its socket to
    the token's text (h11 parsing the head, httpx building its response, the backend its
    stream), and the event loop reads its sockets, and stamps what arrived
    (``wire.StampedStream``), only between two steps of its tasks. With 64 streams whose
    first tokens come within a few milliseconds those steps queue, and a stamp waits for
    the ones in progress. One turn of the loop after h11's part
    (``yield_after_head``) and one before the body is first read (``yield_before_body``,
    after httpx's part) let it read its sockets twice in the middle (a few microseconds a
    request)."""

    yield_after_head = True
    yield_before_body = True

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry: float | None,
        network_backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        super().__init__(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            network_backend=network_backend,
        )
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[httpcore.AsyncHTTPConnection] = []  # the most recently used last
        self._open: set[httpcore.AsyncHTTPConnection] = set()
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._backend = network_backend

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        await self._slots.acquire()
        conn: httpcore.AsyncHTTPConnection | None = None
        try:
            conn, reused = await self._connection_for(request.url.origin)
            try:
                response = await conn.handle_async_request(request)
            except _CLOSED_UNANSWERED as closed:
                if not reused:
                    raise
                # A kept-alive connection the server closed (a restart, its keep-alive timeout)
                # just as this request went out on it: nothing was answered, so the request
                # goes once more, on a new connection, as browsers and urllib3 do.
                await self._discard(conn)
                conn, _ = await self._connection_for(request.url.origin, fresh=True)
                try:
                    response = await conn.handle_async_request(request)
                except httpcore.ConnectError:
                    # nothing listens any more: the server went down with the request, which
                    # is what the first error says (a cut, not a refusal)
                    raise closed from None
            if self.yield_after_head:
                await asyncio.sleep(0)
        except BaseException:
            if conn is not None:
                await self._discard(conn)
            self._slots.release()
            raise
        assert isinstance(response.stream, AsyncIterable)  # an async connection's body
        response.stream = _PooledStream(response.stream, conn, self)  # the response kept
        return response

    async def _connection_for(
        self, origin: httpcore.Origin, *, fresh: bool = False
    ) -> tuple[httpcore.AsyncHTTPConnection, bool]:
        """An idle connection still good for ``origin`` (True: reused), else a new one (it
        connects when the request is sent); ``fresh`` always opens a new one."""
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.can_handle_request(origin) and conn.is_idle() and not conn.has_expired():
                return conn, True
            await self._discard(conn)  # closed by the server while idle, or too old
        conn = httpcore.AsyncHTTPConnection(
            origin=origin, keepalive_expiry=self._expiry, network_backend=self._backend
        )
        self._open.add(conn)
        return conn, False

    async def _discard(self, conn: httpcore.AsyncHTTPConnection) -> None:
        self._open.discard(conn)
        await conn.aclose()

    async def release(self, conn: httpcore.AsyncHTTPConnection) -> None:
        """A response is closed: its connection goes back to the stack if it can take another
        request, else is closed; either way its slot is free."""
        try:
            if conn.is_idle() and not conn.has_expired() and len(self._idle) < self._max_idle:
                self._idle.append(conn)
            else:
                await self._discard(conn)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        self._idle.clear()
        for conn in list(self._open):
            await self._discard(conn)


class _PooledStream:
    """A response body that gives its connection back to the pool when closed."""

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        conn: httpcore.AsyncHTTPConnection,
        pool: StreamPool,
    ) -> None:
        self._stream = stream
        self._conn = conn
        self._pool = pool
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            if self._pool.yield_before_body:
                await asyncio.sleep(0)
            async for part in self._stream:
                yield part
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                await close()  # ends the HTTP/1.1 cycle: the connection is idle, or closed
        finally:
            await self._pool.release(self._conn)
