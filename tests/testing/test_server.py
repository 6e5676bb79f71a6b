"""TestServer and ServerThread: lifecycle, settings, the sync thread, recorded requests."""

from __future__ import annotations

import socket

import httpx
import pytest
from pydantic import ValidationError

from chimera.testing import ServerThread, TestServer, TestServerConfig


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError):
        TestServerConfig(slots=-1)
    with pytest.raises(ValidationError):
        TestServerConfig(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        TestServer(fault="explode")


def test_keyword_overrides_apply_on_top_of_a_config() -> None:
    server = TestServer(TestServerConfig(protocol="openai", slots=2), prefill_ms=5)
    assert (server.config.protocol, server.config.slots, server.config.prefill_ms) == (
        "openai",
        2,
        5,
    )


def test_url_before_start_says_how_to_start() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = TestServer().url


def test_pytest_does_not_collect_the_test_named_classes() -> None:
    assert TestServer.__test__ is False
    assert TestServerConfig.__test__ is False


async def test_stop_is_idempotent_and_frees_the_port() -> None:
    server = await TestServer().start()
    port = server.port
    await server.stop()
    await server.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_server_thread_serves_sync_clients() -> None:
    with ServerThread(protocol="openai", responses=["sync ok"]) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        r = httpx.post(
            srv.url + "/v1/completions",
            json={"model": "tiny:latest", "prompt": "hi"},
        )
        assert r.json()["choices"][0]["text"] == "sync ok"
        assert [q.path for q in srv.requests] == ["/v1/completions"]
        assert srv.max_in_flight == 1 and srv.generation_requests == 1
        srv.set_fault("http_500")
        assert (
            httpx.post(srv.url + "/v1/completions", json={"model": "x", "prompt": ""}).status_code
            == 500
        )
    assert len(srv.requests) == 2  # still readable once stopped
    with pytest.raises(RuntimeError, match="not started"):
        _ = ServerThread().url


def test_server_thread_on_uvloop_and_a_taken_port() -> None:
    with ServerThread(use_uvloop=True) as srv:
        assert httpx.get(srv.url + "/api/version").json() == {"version": "0.12.6"}
        with pytest.raises(OSError), ServerThread(port=srv.port):
            pass


def test_thread_fixture_stops_servers(chimera_server_thread) -> None:  # type: ignore[no-untyped-def]
    srv = chimera_server_thread(models=["m:1"])
    assert httpx.get(srv.url + "/api/tags").json()["models"][0]["name"] == "m:1"


def test_recording_can_be_switched_off() -> None:
    with ServerThread(record_requests=False) as srv:
        httpx.get(srv.url + "/")
        assert srv.requests == []
