"""The stamping network backend: timestamps from the socket, keep-alive, closed connections."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from chimera.backends.base import (
    EndpointSettings,
    GenerationRequest,
    TextChunk,
    create_backend,
    generate,
)
from chimera.backends.ollama import OllamaBackend
from chimera.backends.wire import StampedStream, StampingBackend, stamping_transport
from chimera.calls import ChatMessage
from chimera.testing import TestServer, TestServerConfig


async def test_plain_http_streams_go_through_stamped_connections() -> None:
    limits = httpx.Limits(max_connections=4)
    transport = stamping_transport("http://127.0.0.1:1", limits)
    assert transport is not None
    assert stamping_transport("https://example.invalid", limits) is None
    async with TestServer(TestServerConfig()) as srv, httpx.AsyncClient(transport=transport) as c:
        before = time.perf_counter_ns()
        async with c.stream(
            "POST", srv.url + "/api/generate", json={"model": "tiny:latest", "prompt": "x"}
        ) as resp:
            wire = resp.extensions["network_stream"]
            assert isinstance(wire, StampedStream)
            body = await resp.aread()
        assert before < wire.last_arrival_ns <= time.perf_counter_ns()
        assert body.count(b"\n") == 33  # 32 tokens and the final chunk


async def test_keep_alive_reuses_and_survives_a_server_restart() -> None:
    srv = TestServer(TestServerConfig())
    await srv.start()
    port = srv.port
    req = GenerationRequest(model="tiny:latest", prompt="x")
    async with OllamaBackend(EndpointSettings(url=srv.url)) as backend:
        for _ in range(5):
            assert (await generate(backend, req)).metrics.output_tokens == 32
        await srv.stop()
        # the pooled connection is now closed by the peer: the next call must open a new one
        again = TestServer(TestServerConfig(port=port))
        await again.start()
        try:
            assert (await generate(backend, req)).metrics.output_tokens == 32
        finally:
            await again.stop()


async def test_large_fast_stream_is_read_whole() -> None:
    cfg = TestServerConfig(fast=True, default_tokens=50_000)
    async with TestServer(cfg) as srv, OllamaBackend(EndpointSettings(url=srv.url)) as b:
        result = await generate(b, GenerationRequest(model="tiny:latest", prompt="x"))
    assert result.metrics.output_tokens == 50_000 == result.metrics.chunks
    assert result.metrics.itl_ms_p50 == pytest.approx(0, abs=1)


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("chat", [False, True])
async def test_a_stream_read_to_its_end_gives_its_connection_back(
    protocol: str, chat: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the backends stop at the protocol's last event (done, [DONE]); the body's terminating
    # chunk must still be read, or every request pays for a new TCP connection
    opened: list[tuple[str, int]] = []
    connect = StampingBackend.connect_tcp

    async def counting(self: StampingBackend, host: str, port: int, **kw: Any) -> StampedStream:
        opened.append((host, port))
        return await connect(self, host, port, **kw)

    monkeypatch.setattr(StampingBackend, "connect_tcp", counting)
    if chat:
        req = GenerationRequest(
            model="tiny:latest", messages=[ChatMessage(role="user", content="x")]
        )
    else:
        req = GenerationRequest(model="tiny:latest", prompt="x")
    async with (
        TestServer(TestServerConfig(protocol=protocol, fast=True)) as srv,
        create_backend(EndpointSettings(kind=protocol, url=srv.url, max_connections=1)) as b,
    ):
        for _ in range(5):
            assert (await generate(b, req)).metrics.output_tokens == 32
    assert len(opened) == 1


@pytest.mark.parametrize(("protocol", "path"), [("ollama", ""), ("openai", "/v1")])
async def test_a_streams_end_is_stamped_when_its_bytes_arrived(protocol: str, path: str) -> None:
    # The consumer dawdles 80 ms at the last token with its loop free (as when it parses
    # other streams' tokens): the final event's bytes arrive meanwhile, and e2e ends with
    # them, not when the consumer got round to them.
    cfg = TestServerConfig(protocol=protocol, responses=["a b c"], token_interval_ms=2)
    request = GenerationRequest(
        model="tiny:latest", messages=(ChatMessage(role="user", content="x"),)
    )
    stamps: list[int] = []
    result = None
    async with (
        TestServer(cfg) as srv,
        create_backend(EndpointSettings(kind=protocol, url=srv.url + path)) as backend,
    ):
        async for event in backend.stream(request):
            if isinstance(event, TextChunk):
                stamps.append(event.t_ns)
                if event.text.strip() == "c":
                    await asyncio.sleep(0.08)
            else:
                result = event
    assert result is not None
    m = result.metrics
    assert m.ttft_ms is not None and m.e2e_ms is not None
    start_ns = stamps[0] - m.ttft_ms * 1e6
    after_last_token_ms = (start_ns + m.e2e_ms * 1e6 - stamps[-1]) / 1e6
    assert 0 <= after_last_token_ms < 40  # 80+ when stamped at parsing
