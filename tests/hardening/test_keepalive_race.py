"""The keep-alive race, made deterministic: a server that answers a request, keeps the
connection, and closes it unanswered when the next request arrives on it (what a server that
restarts, or whose keep-alive timeout expires, does to a request already on its way). The
client must send that request once more on a new connection, and only then."""

from __future__ import annotations

import asyncio

import orjson

from chimera.backends.base import EndpointSettings, GenerationRequest, generate
from chimera.backends.ollama import OllamaBackend

REQ = GenerationRequest(model="m:1b", prompt="x")
BODY = (
    orjson.dumps({"model": "m:1b", "response": "hi", "done": False})
    + b"\n"
    + orjson.dumps({"model": "m:1b", "response": "", "done": True, "done_reason": "stop"})
    + b"\n"
)
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
)


class RacingServer:
    """Answers the first request on each connection; closes a connection, unanswered, when a
    second request arrives on it."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.unanswered = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                await reader.readexactly(length)
                self.requests += 1
                if served:
                    self.unanswered += 1
                    return  # closed with the request unanswered
                writer.write(ANSWER)
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


async def test_a_request_the_server_closed_unanswered_goes_once_more() -> None:
    racing = RacingServer()
    server = await asyncio.start_server(racing.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"http://127.0.0.1:{port}"
        async with OllamaBackend(EndpointSettings(url=url, idle_timeout_s=5)) as backend:
            texts = [(await generate(backend, REQ)).text for _ in range(3)]
    finally:
        server.close()
        await server.wait_closed()
    assert texts == ["hi"] * 3
    # each call after the first met its kept-alive connection closed, and went once more
    assert racing.unanswered == 2 and racing.requests == 5 and racing.connections == 3
