"""What a load run records about the machine, the server and the model."""

from __future__ import annotations

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.fingerprint import client_machine, server_snapshot
from chimera.testing import TestServer


def test_the_client_machine_is_described_unknowns_as_none() -> None:
    m = client_machine()
    assert m["cpu_count"] and m["python"] and m["chimera"]
    assert m["ram_bytes"] is None or m["ram_bytes"] > 0
    assert m["gpus"] is None or isinstance(m["gpus"], list)  # unknown, never 0


async def test_an_ollama_server_and_its_model() -> None:
    async with (
        TestServer(models=["tiny:latest", "tiny:big"], version="0.12.6") as srv,
        create_backend(EndpointSettings(url=srv.url)) as backend,
    ):
        snap = await server_snapshot(backend, "tiny")
        assert snap["kind"] == "ollama" and snap["version"] == "0.12.6"
        assert snap["model"]["name"] == "tiny:latest"  # the implied tag, not tiny:big
        assert snap["loaded"] is None  # nothing loaded before the first request
        assert (await server_snapshot(backend, "other"))["model"] is None


async def test_a_server_that_cannot_be_read_is_recorded_not_fatal() -> None:
    async with create_backend(EndpointSettings(url="http://127.0.0.1:9")) as backend:
        snap = await server_snapshot(backend, "m")
    assert "cannot reach" in snap["error"]
