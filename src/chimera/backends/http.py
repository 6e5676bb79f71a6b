"""HTTP plumbing shared by the HTTP backends: one httpx client each, error mapping, line streams.

Lines are split from raw bytes here (httpx's line decoder is several times slower) and the
first-token and idle timeouts are enforced with one rescheduled ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from time import perf_counter_ns
from typing import Any, ClassVar, NoReturn, Self

import httpx
import orjson

from chimera.backends.base import EndpointSettings, TextChunk
from chimera.backends.metrics import StreamClock
from chimera.backends.wire import StampedStream, stamping_transport
from chimera.errors import (
    BackendError,
    ConnectTimeoutError,
    FirstTokenTimeoutError,
    IdleTimeoutError,
    MalformedResponseError,
    ModelNotFoundError,
    ServerHTTPError,
    ServerUnreachableError,
    StreamCutError,
    StreamError,
)

MAX_LINE_BYTES = 8 * 2**20  # a stream line past this is no event (Ollama's largest, a
# final chunk with a long context's token ids, is under 1 MB)
DRAIN_S = 0.5  # how long the rest of a body is waited for once its last event is in
_JSON_HEADERS = {"Content-Type": "application/json"}
# A stream's lines are read as the bytes that arrive (stamped as they come): a stream must not
# come compressed, as a proxy in front of a server would send it when asked for gzip.
_STREAM_HEADERS = {**_JSON_HEADERS, "Accept-Encoding": "identity"}


def normalize_url(raw: str, default_port: int) -> str:
    """``host``, ``host:port`` or a full URL -> ``scheme://host:port`` without a trailing slash.

    ``0.0.0.0`` (how servers are told to listen everywhere) is dialled as 127.0.0.1.
    """
    raw = raw.strip().rstrip("/")
    if "://" not in raw:
        raw = "http://" + raw
    url = httpx.URL(raw)
    host = url.host or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    port = url.port or (
        default_port if url.scheme == "http" and ":" not in raw.split("://")[1] else None
    )
    path = url.path.rstrip("/")
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    return f"{url.scheme}://{netloc}{path}"


def server_message(response: httpx.Response) -> str:
    """The error text a server put in its body (Ollama and OpenAI shapes), else the raw body;
    on one line (an error is printed as one)."""
    body = response.content[:2000]
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return one_line(body.decode("utf-8", "replace")) or response.reason_phrase
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return one_line(str(err))
    return one_line(body.decode("utf-8", "replace"))


def one_line(text: str) -> str:
    """``text`` with its whitespace runs (newlines included) made single spaces."""
    return " ".join(text.split())


class HttpClient:
    """An httpx.AsyncClient for one endpoint, with Chimera's timeouts and error mapping."""

    def __init__(
        self,
        settings: EndpointSettings,
        base_url: str,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        secret: str | None = None,
        unreachable_hint: str | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self._secret = secret
        self._unreachable_hint = unreachable_hint  # None: Ollama's (start `ollama serve`)
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        # Read timeouts are enforced per stream (first token, idle); httpx guards connect/write.
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_s, read=None, write=settings.idle_timeout_s, pool=None
        )
        if transport is None:
            transport = stamping_transport(base_url, limits) or httpx.AsyncHTTPTransport(
                limits=limits, trust_env=False
            )
        # Streams go straight to the transport (see stream); other requests through the client.
        self._transport = transport
        self._urls: dict[str, httpx.URL] = {}  # path -> its full URL, merged once
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            limits=limits,
            transport=transport,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def scrub(self, text: str) -> str:
        """``text`` (from the server) with the API key blanked: a server may echo the request's
        headers in an error, a model may say them back in its answer, and both are printed,
        logged and stored."""
        if self._secret:
            text = text.replace(self._secret, "***")
        return text

    def fail(self, exc: Exception) -> NoReturn:
        """Map an httpx exception to Chimera's tree and raise it."""
        if isinstance(exc, BackendError):
            raise exc
        if isinstance(exc, httpx.ConnectTimeout):
            raise ConnectTimeoutError(
                self.base_url,
                self.settings.connect_timeout_s,
                "the connect timeout (--connect-timeout, connect_timeout_s)",
            ) from None
        if isinstance(exc, httpx.ConnectError):
            raise ServerUnreachableError(
                self.base_url, _short(exc), self._unreachable_hint
            ) from None
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            raise StreamCutError(self.base_url, _short(exc)) from None
        if isinstance(exc, httpx.HTTPError):
            raise ServerUnreachableError(
                self.base_url, _short(exc), self._unreachable_hint
            ) from None
        raise exc

    async def request_json(
        self, method: str, path: str, body: Any = None, *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """One non-streaming request; returns the JSON object it answers or raises a mapped
        error (a body that is not a JSON object is a MalformedResponseError)."""
        try:
            async with asyncio.timeout(timeout_s or self.settings.first_token_timeout_s):
                content = None if body is None else orjson.dumps(body)
                resp = await self._client.request(
                    method,
                    path,
                    content=content,
                    headers={"Content-Type": "application/json"} if content else None,
                )
        except TimeoutError:
            raise FirstTokenTimeoutError(
                self.base_url + path,
                timeout_s or self.settings.first_token_timeout_s,
                "the first-token timeout (--first-token-timeout, first_token_timeout_s)",
            ) from None
        except httpx.HTTPError as exc:
            self.fail(exc)
        if resp.status_code >= 400:
            raise ServerHTTPError(
                self.base_url + path, resp.status_code, self.scrub(server_message(resp))
            )
        shown = self.scrub(resp.content[:200].decode("utf-8", "replace"))
        try:
            data = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise MalformedResponseError(
                self.base_url + path, "the body is not JSON", shown
            ) from None
        if not isinstance(data, dict):
            raise MalformedResponseError(
                self.base_url + path, "the body is JSON but not an object", shown
            )
        return data

    @asynccontextmanager
    async def stream(
        self, path: str, body: Any, on_status: Callable[[httpx.Response], None]
    ) -> AsyncIterator[LineStream]:
        """POST ``body`` and yield a LineStream over the response; ``on_status`` vets errors.

        The request is built by the client (its headers, cookies and timeouts) and sent by
        the client's transport itself: ``AsyncClient.send`` would add redirects, auth and
        event hooks, none of which a stream uses, and parse every response's cookies, which
        cost more than a tenth of a first token's CPU (a response that sets one still has
        it kept). A path's URL is merged with the base URL once, not on every request."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._client.build_request("POST", path).url
        request = self._client.build_request(
            "POST", url, content=orjson.dumps(body), headers=_STREAM_HEADERS
        )
        lines = LineStream(self, path, StreamClock(time.perf_counter_ns()))
        request.extensions["trace"] = lines.trace
        try:
            async with asyncio.timeout_at(lines.first_token_deadline):
                response = await self._transport.handle_async_request(request)
            response.request = request
            if "set-cookie" in response.headers:
                self._client.cookies.extract_cookies(response)
        except TimeoutError:
            lines.raise_timeout()
        except httpx.HTTPError as exc:
            self.fail(exc)
        try:
            if response.status_code >= 400:
                await response.aread()
                on_status(response)
                raise ServerHTTPError(
                    self.base_url + path,
                    response.status_code,
                    self.scrub(server_message(response)),
                )
            lines.response = response
            yield lines
            await lines.drain()
        except httpx.HTTPError as exc:
            self.fail(exc)
        finally:
            lines.release()
            await response.aclose()


class LineStream:
    """Non-empty lines of a streaming response, with first-token and idle deadlines.

    The deadline covers only the wait for the next bytes, never the consumer's own work.
    """

    def __init__(self, client: HttpClient, path: str, clock: StreamClock) -> None:
        self.client = client
        self.url = client.base_url + path
        loop = asyncio.get_running_loop()
        self.first_token_deadline = loop.time() + client.settings.first_token_timeout_s
        self.response: httpx.Response | None = None
        self.got_token = False
        self.tokens = 0  # text and reasoning pieces so far
        self.clock = clock  # starts when the request goes out (see trace)
        self.parts: list[str] = []
        self.read_ns = 0
        self._loop = loop
        self._raw: AsyncIterator[bytes] | None = None
        self._wire: StampedStream | None = None

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: stamp the moment the request starts going out on the wire,
        after any wait for a pooled connection or a TCP connect."""
        if event.endswith("send_request_headers.started"):
            self.clock.start_ns = time.perf_counter_ns()

    def chunk(self, text: str) -> TextChunk:
        """Record a non-empty piece of text as arrived with the bytes just read; from the first
        one on, the idle timeout applies instead of the first-token timeout."""
        self.got_token = True
        self.tokens += 1
        self.clock.content(self.read_ns, text)
        self.parts.append(text)
        return TextChunk(text, self.read_ns)

    def reasoning(self, text: str) -> TextChunk:
        """Record a piece of reasoning sent apart from the answer: a token (the first-token
        timeout is met), not part of the answer's text."""
        self.got_token = True
        self.tokens += 1
        self.clock.reasoning(self.read_ns)
        return TextChunk(text, self.read_ns, reasoning=True)

    def finish(self) -> StreamClock:
        """Stop the clock when the bytes holding the stream's last event came off the
        socket, not when this client got round to parsing them: with other streams' tokens
        queued before them, that was 5-45 ms later at 32 streams, added to e2e and TPOT."""
        self.clock.end_ns = self.read_ns or time.perf_counter_ns()
        return self.clock

    def raise_timeout(self) -> NoReturn:
        s = self.client.settings
        if self.got_token:
            raise IdleTimeoutError(
                self.url, s.idle_timeout_s, "the idle timeout (--idle-timeout, idle_timeout_s)"
            ) from None
        raise FirstTokenTimeoutError(
            self.url,
            s.first_token_timeout_s,
            "the first-token timeout (--first-token-timeout, first_token_timeout_s)",
        ) from None

    async def _read(self, when: float) -> bytes | None:
        """The body's next bytes (None at its end) if they come by ``when`` (loop time): the
        stamping connection enforces it only when it has to wait; other transports pay for
        one ``asyncio.timeout`` a read."""
        assert self._raw is not None
        try:
            if self._wire is not None:
                self._wire.deadline = when
                data = await anext(self._raw)
                # A token arrived when its bytes came off the socket, not when this client
                # got round to parsing them.
                self.read_ns = self._wire.last_arrival_ns
            else:
                async with asyncio.timeout_at(when):
                    data = await anext(self._raw)
                self.read_ns = perf_counter_ns()
        except StopAsyncIteration:
            return None
        except (TimeoutError, httpx.TimeoutException):
            self.raise_timeout()
        except httpx.HTTPError as exc:
            self.client.fail(exc)
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert self.response is not None
        # the transport's byte stream itself: aiter_raw would add a layer (and a re-chunker)
        # to every read, for nothing a line reader needs
        stream = self.response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        self._raw = aiter(stream)
        ext = self.response.extensions.get("network_stream")
        self._wire = ext if isinstance(ext, StampedStream) else None
        idle = self.client.settings.idle_timeout_s
        buf = b""
        when = self.first_token_deadline
        tokens = self.tokens
        while True:
            data = await self._read(when)
            if data is None:
                break
            buf += data
            # buf held no line break before data came: look in data alone (a long line read in
            # many pieces is then not searched again and again)
            if b"\n" not in data:
                if len(buf) > MAX_LINE_BYTES:
                    raise self.malformed(f"a stream line longer than {MAX_LINE_BYTES} bytes", buf)
                continue  # part of a line: the deadline stays (a byte drip is still a stall)
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line and not line.isspace():
                    yield line
            if self.tokens != tokens:
                # the idle timeout counts from the last token: neither bytes that end no line
                # (a drip) nor lines without a token (keep-alives, empty deltas) hold it off
                tokens = self.tokens
                when = self._loop.time() + idle
        if buf.strip():
            yield buf

    async def drain(self) -> None:
        """Read what is left of the body once the protocol's last event is in (the
        terminating chunk, as a rule in the same packet): a response read to its end gives
        its connection back to the pool, one closed early costs a new TCP connection on the
        next request. A body that does not end within ``DRAIN_S`` is left (and closed)."""
        if self._raw is None:
            return
        with contextlib.suppress(BackendError):
            while await self._read(self._loop.time() + DRAIN_S) is not None:
                pass

    def release(self) -> None:
        """The connection's deadline ends with this response (the next may reuse it)."""
        if self._wire is not None:
            self._wire.deadline = None

    def decode(self, line: bytes) -> dict[str, Any]:
        """A stream line as a JSON object; anything else is a MalformedResponseError."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise self.malformed("a stream line is not JSON", line) from None
        if not isinstance(obj, dict):
            raise self.malformed("a stream line is JSON but not an object", line)
        return obj

    def malformed(self, detail: str, line: bytes) -> MalformedResponseError:
        """The error for a line whose JSON is not what the protocol allows."""
        return MalformedResponseError(
            self.url, detail, self.client.scrub(line.decode("utf-8", "replace"))
        )

    def server_error(self, message: object) -> StreamError:
        """The error for an error the server reported mid-stream."""
        return StreamError(self.url, self.client.scrub(one_line(str(message))))


def entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects in the list ``data[key]`` (a model list); anything else in it is left out."""
    items = data.get(key)
    return [e for e in items if isinstance(e, dict)] if isinstance(items, list) else []


def text_or_none(value: Any) -> str | None:
    """A string field of a server's answer; None when it is absent or not a string."""
    return value if isinstance(value, str) else None


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


class HttpBackend:
    """What the HTTP backends share: one client per endpoint, its lifecycle, and the
    model-not-found error that lists what the server does have."""

    kind: ClassVar[str]
    load_options: ClassVar[frozenset[str]] = frozenset()  # the server takes them per call
    missing_model_hint: ClassVar[str | None] = None  # None: suggest `ollama pull NAME`
    unreachable_hint: ClassVar[str | None] = None  # None: suggest `ollama serve`

    def __init__(
        self,
        settings: EndpointSettings,
        base_url: str,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        secret: str | None = None,
    ) -> None:
        self.settings = settings
        self._http = HttpClient(
            settings,
            base_url,
            headers=headers,
            transport=transport,
            secret=secret,
            unreachable_hint=self.unreachable_hint,
        )

    @property
    def url(self) -> str:
        return self._http.base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def installed_models(self) -> list[str]:
        raise NotImplementedError

    async def missing_model(self, model: str) -> ModelNotFoundError:
        """The error for a model the server lacks, with its models when it will list them."""
        try:
            available: list[str] | None = await self.installed_models()
        except BackendError:
            available = None
        return ModelNotFoundError(model, self.url, available, hint=self.missing_model_hint)
