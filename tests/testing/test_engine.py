"""The modelled timeline: prefill before the first byte, token pacing, slots, shared loads.

Latency bounds are loose on purpose (a loaded 2-core machine); lower bounds are strict where
the server must not be early.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from chimera.testing import TestServer

if TYPE_CHECKING:
    from conftest import Clients

Start = Callable[..., Awaitable[TestServer]]
MS = 1_000_000


async def _timed_stream(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Stream one request; times in ms from sending it: head, first token, each line, end."""
    started = time.perf_counter()
    stamps: list[float] = []
    lines: list[str] = []
    async with http.stream("POST", path, json=body) as r:
        head_ms = (time.perf_counter() - started) * 1000
        async for line in r.aiter_lines():
            if line:
                stamps.append((time.perf_counter() - started) * 1000)
                lines.append(line)
    return {"head_ms": head_ms, "stamps": stamps, "lines": lines}


async def test_ollama_first_byte_comes_after_the_prefill(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(prefill_ms=200)
    http = clients.http(srv)
    await http.get("/")  # connect first, so the figure is the server's, not the handshake
    got = await _timed_stream(http, "/api/generate", {"model": "tiny", "prompt": "x"})
    # like Ollama, the head leaves with the first token
    assert 190 <= got["head_ms"] <= 260
    assert 190 <= got["stamps"][0] <= 260


async def test_openai_head_is_immediate_and_the_first_token_after_prefill(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol="openai", prefill_ms=200)
    http = clients.http(srv)
    await http.get("/v1/models")
    body = {"model": "tiny:latest", "prompt": "x", "stream": True}
    got = await _timed_stream(http, "/v1/completions", body)
    assert got["head_ms"] < 150
    assert 190 <= got["stamps"][0] <= 260


async def test_tokens_follow_the_interval_without_drift(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(prefill_ms=50, token_interval_ms=20, default_tokens=6)
    http = clients.http(srv)
    got = await _timed_stream(http, "/api/generate", {"model": "tiny", "prompt": "x"})
    first, last = got["stamps"][0], got["stamps"][5]
    # absolute deadlines: never early; late only by a busy machine (a wide bound, no timing)
    assert 5 * 20 - 2 <= last - first <= 5 * 20 + 250
    final = orjson.loads(got["lines"][-1])
    assert final["eval_duration"] == 6 * 20 * MS
    assert final["prompt_eval_duration"] == 50 * MS


async def _two_at_once(srv: TestServer, clients: Clients) -> tuple[float, list[dict[str, Any]]]:
    http = clients.http(srv)
    await asyncio.gather(http.get("/"), http.get("/"))  # two warm connections
    body = {"model": "tiny", "prompt": "x", "stream": False}
    started = time.perf_counter()
    answers = await asyncio.gather(*(http.post("/api/generate", json=body) for _ in range(2)))
    elapsed_ms = (time.perf_counter() - started) * 1000
    return elapsed_ms, [a.json() for a in answers]


@pytest.mark.parametrize("slots", [1, 0])
async def test_slots_queue_or_run_in_parallel(
    slots: int, chimera_server: Start, clients: Clients
) -> None:
    # one request: first token at 100 ms, 5 tokens 10 ms apart -> answer at 140 ms
    srv = await chimera_server(slots=slots, prefill_ms=100, token_interval_ms=10, default_tokens=5)
    elapsed_ms, answers = await _two_at_once(srv, clients)
    totals = sorted(a["total_duration"] for a in answers)
    if slots == 1:
        assert srv.max_in_flight == 1
        assert elapsed_ms >= 2 * 140 - 5
        # the queued request's total includes its wait for the slot
        assert totals[0] == 150 * MS
        assert totals[1] >= 150 * MS + 135 * MS
    else:
        assert srv.max_in_flight == 2
        assert elapsed_ms < 140 * 1.6
        assert totals == [150 * MS, 150 * MS]


async def test_concurrent_cold_requests_share_one_load(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(load_ms=150)
    elapsed_ms, answers = await _two_at_once(srv, clients)
    loads = sorted(a["load_duration"] for a in answers)
    assert elapsed_ms < 150 * 1.6  # one load, not two in a row
    assert loads[1] == 150 * MS  # the request that started the load reports it exactly
    assert 100 * MS <= loads[0] <= 150 * MS  # the other reports the time it waited for it


async def test_load_then_prefill_then_tokens(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(load_ms=100, prefill_ms=100)
    http = clients.http(srv)
    await http.get("/")
    cold = await _timed_stream(http, "/api/generate", {"model": "tiny", "prompt": "x"})
    warm = await _timed_stream(http, "/api/generate", {"model": "tiny", "prompt": "x"})
    assert 190 <= cold["stamps"][0] <= 280
    assert 90 <= warm["stamps"][0] <= 180


async def test_a_reader_leaving_a_big_fast_body_frees_the_slot(
    chimera_server: Start, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    srv = await chimera_server(fast=True, slots=1, default_tokens=200_000)
    body = b'{"model": "tiny", "prompt": "x"}'
    head = b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(head + body)
    assert b"200 OK" in await reader.read(1000)  # then stop reading: the server is blocked
    await asyncio.sleep(0.1)
    assert srv.in_flight == 1
    writer.close()
    await writer.wait_closed()
    r = await clients.http(srv, timeout=5).post(
        "/api/generate", json={"model": "tiny", "prompt": "x", "stream": False}
    )
    assert r.status_code == 200 and r.json()["eval_count"] == 200_000
    assert srv.in_flight == 0
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]
