"""The stream pool: bounded connections, reuse, and a slot freed however a response ends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chimera.backends.base import EndpointSettings, GenerationRequest, TextChunk, generate
from chimera.backends.ollama import OllamaBackend
from chimera.backends.wire import StampedStream, StampingBackend
from chimera.errors import StreamCutError
from chimera.testing import TestServer, TestServerConfig

REQ = GenerationRequest(model="tiny:latest", prompt="x")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ports of the TCP connections the stamping backend opens."""
    ports: list[int] = []
    connect = StampingBackend.connect_tcp

    async def counting(self: StampingBackend, host: str, port: int, **kw: Any) -> StampedStream:
        ports.append(port)
        return await connect(self, host, port, **kw)

    monkeypatch.setattr(StampingBackend, "connect_tcp", counting)
    return ports


async def test_streams_beyond_the_bound_wait_for_a_connection(opened: list[int]) -> None:
    cfg = TestServerConfig(prefill_ms=20, token_interval_ms=2, default_tokens=8)
    async with (
        TestServer(cfg) as srv,
        OllamaBackend(EndpointSettings(url=srv.url, max_connections=3)) as b,
    ):
        results = await asyncio.gather(*(generate(b, REQ) for _ in range(12)))
        assert srv.max_in_flight == 3
    assert [r.metrics.output_tokens for r in results] == [8] * 12
    assert len(opened) == 3


async def test_a_stream_left_early_frees_its_slot(opened: list[int]) -> None:
    # with one connection, a stream abandoned after its first token (connection closed) or
    # cancelled while waiting must not keep the next request waiting
    cfg = TestServerConfig(prefill_ms=10, token_interval_ms=20, default_tokens=10)
    async with (
        TestServer(cfg) as srv,
        OllamaBackend(EndpointSettings(url=srv.url, max_connections=1)) as b,
    ):
        stream = b.stream(REQ)
        assert isinstance(await anext(stream), TextChunk)
        await stream.aclose()
        task = asyncio.create_task(generate(b, REQ))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5):
            assert (await generate(b, REQ)).metrics.output_tokens == 10
    assert len(opened) == 3  # the two left early were closed, not reused


async def test_a_cut_stream_is_an_error_and_its_connection_is_not_reused(
    opened: list[int],
) -> None:
    cfg = TestServerConfig(fast=True, fault="cut", fault_from_request=2, fault_every=2)
    async with (
        TestServer(cfg) as srv,
        OllamaBackend(EndpointSettings(url=srv.url, max_connections=1)) as b,
    ):
        assert (await generate(b, REQ)).metrics.output_tokens == 32
        with pytest.raises(StreamCutError):
            await generate(b, REQ)
        assert (await generate(b, REQ)).metrics.output_tokens == 32
    assert len(opened) == 2
