"""The raw-socket reader of the throughput check counts every event of a fast-mode stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from chimera.testing import TestServer
from chimera.testing.throughput import _client

Start = Callable[..., Awaitable[TestServer]]


@pytest.mark.parametrize(
    ("protocol", "per_request"),
    [("ollama", 100 + 1), ("openai", 100 + 2)],  # + final chunk (and [DONE])
)
async def test_counts_each_event(protocol: str, per_request: int, chimera_server: Start) -> None:
    srv = await chimera_server(protocol=protocol, fast=True, default_tokens=500)
    assert await _client(srv.url, protocol, 100, 3) == 3 * per_request
    assert srv.generation_requests == 3
