"""A small HTTP/1.1 server on a raw asyncio Protocol: keep-alive, Content-Length bodies, chunks.

No web framework: the test servers must control exactly when each byte leaves (headers with
the first token, a cut without the terminating chunk) and must not be a client benchmark's
bottleneck. A lost connection cancels the request being handled, as Go's net/http (Ollama)
cancels a request's context when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol, cast

import orjson

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
LAST_CHUNK = b"0\r\n\r\n"
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}


class HttpError(Exception):
    """A request that cannot be served; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status} {message}")


@dataclass(slots=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return conn == "keep-alive"
        return conn != "close"


class App(Protocol):
    """What a connection serves: one handler and the protocol's shape of an error body."""

    async def handle(self, request: HttpRequest, conn: Connection) -> None: ...

    def error_body(self, status: int, message: str) -> tuple[str, bytes]: ...


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked-encoded body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    global _date_cache  # a per-second cache of an immutable value, not shared state
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    """Request line and headers (names lower-cased) of one request head."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "undecodable request head") from exc
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"bad request line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, f"bad header line {line[:80]!r}")
        headers[name.lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


class Connection(asyncio.Protocol):
    """One client connection: reads requests in order and hands each to the app."""

    def __init__(self, app: App, on_close: set[Connection]) -> None:
        self._app = app
        self._registry = on_close
        self._buf = bytearray()
        self._eof = False
        self._lost = False
        self._busy = False
        self._served = 0  # requests answered
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._keep_alive = True
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self._data_at_ns = 0
        # time.monotonic() when the request being handled had fully arrived: the origin of its
        # modelled timeline, so the time spent parsing a burst of requests does not delay them
        self.request_received = 0.0
        self.request_received_ns = 0  # the same instant, time.monotonic_ns()

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is not a subclass of asyncio.Transport, but is one in kind
        self.transport = cast(asyncio.Transport, transport)
        self._registry.add(self)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        self._data_at_ns = time.monotonic_ns()
        self._buf += data
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        if self._busy and self.task is not None:
            self.task.cancel()  # the client went away mid-request
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._eof = True
        self._registry.discard(self)
        self._wake_reader()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)  # drain() then raises
        if self._busy and self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # --- writing, for handlers --------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("connection lost")
        if not self._paused:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._drain_waiter
        finally:
            self._drain_waiter = None
        if self._lost:
            raise ConnectionResetError("connection lost")

    def head(
        self,
        status: int,
        content_type: str,
        *,
        length: int | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> bytes:
        """A response head; without ``length`` the body is chunked."""
        lines = [
            b"HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown").encode()),
            b"Content-Type: " + content_type.encode(),
            b"Date: " + http_date(),
        ]
        lines.extend(f"{k}: {v}".encode("latin-1") for k, v in extra)
        if length is None:
            lines.append(b"Transfer-Encoding: chunked")
        else:
            lines.append(b"Content-Length: %d" % length)
        if not self._keep_alive:
            lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def respond(
        self,
        status: int,
        content_type: str,
        body: bytes,
        *,
        head_only: bool = False,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Write one complete response with a Content-Length body."""
        head = self.head(status, content_type, length=len(body), extra=extra)
        self.write(head if head_only else head + body)

    def close_after_response(self) -> None:
        """Close the connection once the current response is written."""
        self._keep_alive = False

    def abort_quietly(self) -> None:
        """Close now without a response (the 'refuse' and 'cut' faults)."""
        self._keep_alive = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def idle(self) -> bool:
        """Kept alive after a request, serving none and with no next one arriving."""
        return self._served > 0 and not self._busy and not self._buf

    # --- reading ----------------------------------------------------------------------------

    def _wake_reader(self) -> None:
        if self._read_waiter is not None and not self._read_waiter.done():
            self._read_waiter.set_result(None)

    async def _wait_data(self) -> None:
        self._read_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._read_waiter
        finally:
            self._read_waiter = None

    async def _read_request(self) -> HttpRequest | None:
        """The next request, or None when the client closed between requests."""
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > MAX_HEAD_BYTES:
                raise HttpError(431, "request head too large")
            if self._eof:
                if self._buf.strip():
                    raise HttpError(400, "incomplete request head")
                return None
            await self._wait_data()
        method, target, version, headers = parse_head(bytes(self._buf[:end]))
        del self._buf[: end + 4]
        if "transfer-encoding" in headers:
            raise HttpError(501, "chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise HttpError(400, "bad Content-Length") from exc
        if length < 0:
            raise HttpError(400, "bad Content-Length")
        if length > MAX_BODY_BYTES:
            raise HttpError(413, f"request body over {MAX_BODY_BYTES} bytes")
        while len(self._buf) < length:
            if self._eof:
                raise HttpError(400, "request body shorter than Content-Length")
            await self._wait_data()
        body = bytes(self._buf[:length])
        del self._buf[:length]
        self.request_received_ns = self._data_at_ns
        self.request_received = self._data_at_ns / 1e9
        return HttpRequest(method, target, version, headers, body)

    async def _serve(self) -> None:
        try:
            while not self._lost:
                try:
                    request = await self._read_request()
                except HttpError as exc:
                    self._keep_alive = False
                    content_type, body = self._app.error_body(exc.status, exc.message)
                    self.respond(exc.status, content_type, body)
                    break
                if request is None:
                    break
                self._keep_alive = request.keep_alive
                self._busy = True
                try:
                    await self._app.handle(request, self)
                finally:
                    self._busy = False
                    self._served += 1
                if not self._keep_alive:
                    break
        except (asyncio.CancelledError, ConnectionError):
            pass  # client gone or server stopping: nothing left to answer
        except Exception:  # a bug in a handler must not kill the server; show it
            log.exception("test server: handler failed")
        finally:
            if self.transport is not None and not self.transport.is_closing():
                with contextlib.suppress(Exception):
                    self.transport.close()


Route = Callable[[HttpRequest, dict[str, Any] | None, "Connection"], Awaitable[None]]


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object; HttpError(400) otherwise."""
    if not body.strip():
        raise HttpError(400, "missing request body")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"invalid JSON in request body: {exc}") from exc
    if not isinstance(value, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return value


async def dispatch(
    app: App,
    routes: dict[str, dict[str, Route]],
    request: HttpRequest,
    conn: Connection,
    record: Callable[[str, str, dict[str, Any] | None, dict[str, str]], None],
) -> None:
    """Record the request, then route it: 404 unknown path, 405 wrong method, 400 bad JSON."""
    body: dict[str, Any] | None = None
    bad_body: HttpError | None = None
    if request.method == "POST":
        try:
            body = parse_json_object(request.body)
        except HttpError as exc:
            bad_body = exc
    record(request.method, request.target, body, request.headers)
    methods = routes.get(request.path)
    error: HttpError | None = None
    extra: tuple[tuple[str, str], ...] = ()
    if methods is None:
        error = HttpError(404, f"404 page not found: {request.path}")
    elif request.method not in methods:
        error = HttpError(405, f"405 method not allowed: {request.method} {request.path}")
        extra = (("Allow", ", ".join(sorted(methods))),)
    elif bad_body is not None:
        error = bad_body
    if error is not None:
        content_type, payload = app.error_body(error.status, error.message)
        conn.respond(error.status, content_type, payload, extra=extra)
        return
    assert methods is not None
    await methods[request.method](request, body, conn)
