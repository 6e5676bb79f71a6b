"""The HTTP/1.1 layer over raw sockets: keep-alive, framing, and errors on bad requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chimera.testing import TestServer
from chimera.testing.http import HttpError, chunk, parse_head

Start = Callable[..., Awaitable[TestServer]]


async def _exchange(srv: TestServer, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes or goes quiet for 0.5 s."""
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(raw)
    data = b""
    try:
        while part := await asyncio.wait_for(reader.read(65536), timeout=0.5):
            data += part
    except TimeoutError:
        pass
    writer.close()
    await writer.wait_closed()
    return data


def _get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_chunk_framing() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"


def test_parse_head_lowercases_header_names() -> None:
    method, target, version, headers = parse_head(
        b"POST /api/chat?x=1 HTTP/1.1\r\nContent-Length: 2\r\nX-Thing:  v "
    )
    assert (method, target, version) == ("POST", "/api/chat?x=1", "HTTP/1.1")
    assert headers == {"content-length": "2", "x-thing": "v"}


def test_parse_head_rejects_a_bad_request_line() -> None:
    try:
        parse_head(b"NONSENSE\r\n")
    except HttpError as exc:
        assert exc.status == 400
    else:
        raise AssertionError("no HttpError")


async def test_keep_alive_serves_pipelined_requests_in_order(chimera_server: Start) -> None:
    srv = await chimera_server()
    data = await _exchange(srv, _get("/api/version") + _get("/"))
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert data.index(b'{"version":"0.12.6"}') < data.index(b"Ollama is running")
    assert [r.path for r in srv.requests] == ["/api/version", "/"]


async def test_connection_close_is_honoured(chimera_server: Start) -> None:
    srv = await chimera_server()
    data = await _exchange(srv, _get("/", "Connection: close\r\n") + _get("/api/version"))
    assert data.count(b"HTTP/1.1 200 OK") == 1
    assert b"Connection: close" in data


async def test_http_1_0_closes_by_default(chimera_server: Start) -> None:
    srv = await chimera_server()
    data = await _exchange(srv, b"GET / HTTP/1.0\r\n\r\n" + _get("/"))
    assert data.count(b"200 OK") == 1


async def test_bad_request_line_gets_400_and_close(chimera_server: Start) -> None:
    srv = await chimera_server()
    data = await _exchange(srv, b"garbage\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400 Bad Request")
    assert b'"error"' in data and b"Connection: close" in data


async def test_chunked_request_bodies_are_refused(chimera_server: Start) -> None:
    srv = await chimera_server(protocol="openai")
    raw = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    data = await _exchange(srv, raw)
    assert data.startswith(b"HTTP/1.1 501")
    assert b'{"error":{"message":"chunked request bodies' in data  # OpenAI-shaped error body


async def test_head_has_headers_and_no_body(chimera_server: Start) -> None:
    srv = await chimera_server()
    data = await _exchange(srv, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Length: 17" in data
    assert data.endswith(b"\r\n\r\n")


async def test_a_body_split_across_packets_is_read_whole(chimera_server: Start) -> None:
    srv = await chimera_server()
    body = b'{"model": "tiny", "prompt": "x", "stream": false}'
    head = b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(head + body[:10])
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(body[10:])
    answer = await asyncio.wait_for(reader.readuntil(b"}"), timeout=2)
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert srv.requests[-1].body == {"model": "tiny", "prompt": "x", "stream": False}
