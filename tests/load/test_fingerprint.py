"""What a load run records about the machine, the server and the model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.fingerprint import client_machine, server_snapshot
from chimera.models import write_tiny_gguf
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
        # the weights: Ollama's digest and quantization level from /api/tags, as listed
        tags = await backend._http.request_json("GET", "/api/tags")
        (entry,) = [m for m in tags["models"] if m["name"] == "tiny:latest"]
        assert snap["model_digest"] == entry["digest"] and len(entry["digest"]) == 64
        assert snap["quantization"] == entry["details"]["quantization_level"] == "Q4_K_M"
        assert (await server_snapshot(backend, "other"))["model"] is None


async def test_a_server_that_cannot_be_read_is_recorded_not_fatal() -> None:
    async with create_backend(EndpointSettings(url="http://127.0.0.1:9")) as backend:
        snap = await server_snapshot(backend, "m")
    assert "cannot reach" in snap["error"]


async def test_an_openai_server_does_not_say_so_the_weights_are_unknown() -> None:
    async with (
        TestServer(protocol="openai") as srv,
        create_backend(EndpointSettings(kind="openai", url=srv.url)) as backend,
    ):
        snap = await server_snapshot(backend, "tiny:latest")
    assert snap["kind"] == "openai" and snap["model"] == {"name": "tiny:latest"}
    assert snap["model_digest"] is None and snap["quantization"] is None  # unknown, not made up


async def test_the_in_process_engine_reads_the_gguf_file(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    path = write_tiny_gguf(tmp_path / "tiny.gguf", ctx=256)
    async with create_backend(EndpointSettings(kind="llamacpp")) as backend:
        snap = await server_snapshot(backend, str(path))
        missing = await server_snapshot(backend, str(tmp_path / "none.gguf"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert snap["model_digest"] == f"sha256:{digest}"
    assert snap["quantization"] == "F32"  # write_tiny_gguf's general.file_type 0
    assert snap["model"]["family"] == "llama" and snap["model"]["size_bytes"] > 0
    assert "error" in missing["model"] and missing["model_digest"] is None
