"""Pytest fixtures that start test servers and stop them after the test.

Enable in your own ``conftest.py`` with ``pytest_plugins = ["chimera.testing.pytest_plugin"]``:

    async def test_ttft(chimera_server):
        srv = await chimera_server(protocol="ollama", prefill_ms=200)
        ...  # srv.url

    def test_cli(chimera_server_thread):
        srv = chimera_server_thread(protocol="openai", api_key="k")
        ...  # srv.url, reachable from subprocesses too
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from chimera.testing.server import ServerThread, TestServer


@pytest_asyncio.fixture
async def chimera_server() -> AsyncIterator[Callable[..., Awaitable[TestServer]]]:
    """An async factory: ``await chimera_server(**settings)`` returns a started TestServer."""
    started: list[TestServer] = []

    async def start(*args: Any, **settings: Any) -> TestServer:
        server = await TestServer(*args, **settings).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await server.stop()


@pytest.fixture
def chimera_server_thread() -> Iterator[Callable[..., ServerThread]]:
    """A sync factory: ``chimera_server_thread(**settings)`` returns a started ServerThread."""
    started: list[ServerThread] = []

    def start(*args: Any, **settings: Any) -> ServerThread:
        server = ServerThread(*args, **settings).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()
