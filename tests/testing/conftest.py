"""Fixtures: the test-server fixtures (as users would enable them) and clients closed after use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import ollama
import openai
import pytest_asyncio

from chimera.testing import TestServer
from chimera.testing.pytest_plugin import chimera_server, chimera_server_thread

__all__ = ["chimera_server", "chimera_server_thread"]


@pytest_asyncio.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    for close in reversed(made.closers):
        await close()


class Clients:
    """Makes official clients for a server and closes them when the test ends."""

    def __init__(self) -> None:
        self.closers: list[Callable[[], Any]] = []

    def ollama(self, srv: TestServer, **kwargs: Any) -> ollama.AsyncClient:
        client = ollama.AsyncClient(host=srv.url, **kwargs)
        self.closers.append(client.close)
        return client

    def openai(self, srv: TestServer, api_key: str = "unused", **kwargs: Any) -> openai.AsyncOpenAI:
        kwargs.setdefault("max_retries", 0)
        client = openai.AsyncOpenAI(base_url=srv.url + "/v1", api_key=api_key, **kwargs)
        self.closers.append(client.close)
        return client

    def http(self, srv: TestServer, **kwargs: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=srv.url, **kwargs)
        self.closers.append(client.aclose)
        return client
