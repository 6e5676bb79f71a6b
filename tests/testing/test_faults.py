"""Each injected fault produces its documented wire behaviour, on both protocols."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx
import ollama
import openai
import orjson
import pytest

from chimera.testing import TestServer

if TYPE_CHECKING:
    from conftest import Clients

Start = Callable[..., Awaitable[TestServer]]
PROTOCOLS = ["ollama", "openai"]


def _request(protocol: str, stream: bool = True) -> tuple[str, dict[str, Any]]:
    if protocol == "ollama":
        return "/api/generate", {"model": "tiny", "prompt": "x", "stream": stream}
    return "/v1/chat/completions", {
        "model": "tiny:latest",
        "messages": [{"role": "user", "content": "x"}],
        "stream": stream,
    }


def _events(protocol: str, lines: list[str]) -> list[str]:
    """The stream's events: NDJSON lines, or SSE data payloads."""
    if protocol == "ollama":
        return lines
    return [line.removeprefix("data: ") for line in lines if line]


async def _read_stream(http: httpx.AsyncClient, protocol: str) -> tuple[int, list[str]]:
    path, body = _request(protocol)
    lines: list[str] = []
    async with http.stream("POST", path, json=body) as r:
        async for line in r.aiter_lines():
            lines.append(line)
        return r.status_code, _events(protocol, lines)


def _token_texts(protocol: str, events: list[str]) -> list[str]:
    texts = []
    for event in events:
        obj = orjson.loads(event)
        if protocol == "ollama":
            texts.append(obj["response"])
        elif obj["choices"] and obj["choices"][0]["delta"].get("content"):
            texts.append(obj["choices"][0]["delta"]["content"])
    return texts


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_refuse_closes_without_a_response(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="refuse")
    http = clients.http(srv)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        await _read_stream(http, protocol)
    # metadata endpoints are not generation requests: they still answer
    meta = "/api/tags" if protocol == "ollama" else "/v1/models"
    assert (await http.get(meta)).status_code == 200


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_http_404_is_the_protocols_model_not_found(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="http_404")
    path, body = _request(protocol)
    r = await clients.http(srv).post(path, json=body)
    assert r.status_code == 404
    error = r.json()["error"]
    if protocol == "ollama":
        assert error == 'model "tiny" not found, try pulling it first'
    else:
        assert error["code"] == "model_not_found" and error["param"] == "model"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_http_500_has_an_error_body(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="http_500")
    path, body = _request(protocol)
    r = await clients.http(srv).post(path, json=body)
    assert r.status_code == 500
    error = r.json()["error"]
    message = error if protocol == "ollama" else error["message"]
    assert "injected fault (http_500)" in message
    if protocol == "openai":
        assert error["type"] == "server_error"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_error_line_comes_inside_the_stream(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="error_line", fault_after_tokens=2)
    status, events = await _read_stream(clients.http(srv), protocol)
    assert status == 200
    assert _token_texts(protocol, events[:-1]) == ["tok1", " tok2"]
    error = orjson.loads(events[-1])["error"]
    message = error if protocol == "ollama" else error["message"]
    assert "injected fault (error_line) after 2 tokens" in message


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_cut_ends_the_connection_without_the_last_chunk(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="cut", fault_after_tokens=3)
    path, body = _request(protocol)
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        async with clients.http(srv).stream("POST", path, json=body) as r:
            async for line in r.aiter_lines():
                lines.append(line)
    assert _token_texts(protocol, _events(protocol, lines)) == ["tok1", " tok2", " tok3"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stall_goes_silent_after_some_tokens(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="stall", fault_after_tokens=1, stall_s=30)
    path, body = _request(protocol)
    lines: list[str] = []
    http = clients.http(srv, timeout=httpx.Timeout(5.0, read=0.3))
    with pytest.raises(httpx.ReadTimeout):
        async with http.stream("POST", path, json=body) as r:
            async for line in r.aiter_lines():
                lines.append(line)
    assert _token_texts(protocol, _events(protocol, lines)) == ["tok1"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_malformed_sends_a_line_that_is_not_json(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol=protocol, fault="malformed", fault_after_tokens=3)
    status, events = await _read_stream(clients.http(srv), protocol)
    assert status == 200
    assert _token_texts(protocol, events[:-1]) == ["tok1", " tok2", " tok3"]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[-1])


@pytest.mark.parametrize(
    ("fault", "status"), [("error_line", 500), ("malformed", 200), ("cut", None)]
)
async def test_faults_without_streaming(
    fault: str, status: int | None, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(fault=fault)
    path, body = _request("ollama", stream=False)
    http = clients.http(srv)
    if status is None:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(path, json=body)
        return
    r = await http.post(path, json=body)
    assert r.status_code == status
    if fault == "malformed":
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(r.content)


async def test_fault_from_request_lets_earlier_calls_through(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(fault="http_500", fault_from_request=2)
    client = clients.ollama(srv)
    assert (await client.generate(model="tiny", prompt="analysis")).done
    for _ in range(2):
        with pytest.raises(ollama.ResponseError) as err:
            await client.generate(model="tiny", prompt="again")
        assert err.value.status_code == 500


async def test_set_fault_counts_from_the_call_and_heals(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server()
    client = clients.ollama(srv)
    await client.generate(model="tiny", prompt="x")
    srv.set_fault("http_404", from_request=2)
    await client.generate(model="tiny", prompt="x")  # 1st since set_fault: fine
    with pytest.raises(ollama.ResponseError):
        await client.generate(model="tiny", prompt="x")
    srv.set_fault("none")
    assert (await client.generate(model="tiny", prompt="x")).done
    assert srv.generation_requests == 4


async def test_official_clients_raise_on_error_lines(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(fault="error_line")
    with pytest.raises(ollama.ResponseError, match="injected fault"):
        async for _ in await clients.ollama(srv).generate(model="tiny", prompt="x", stream=True):
            pass
    srv2 = await chimera_server(protocol="openai", fault="error_line")
    stream = await clients.openai(srv2).chat.completions.create(
        model="tiny:latest",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
    )
    with pytest.raises(openai.APIError, match="injected fault"):
        async for _ in stream:
            pass


PATH, BODY = "/api/generate", b'{"model": "tiny", "prompt": "x", "stream": false}'


async def test_a_client_leaving_a_stall_frees_its_slot(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(slots=1, fault="stall", fault_after_tokens=0, stall_s=60)
    http = clients.http(srv, timeout=httpx.Timeout(5.0, read=0.2))
    with pytest.raises(httpx.ReadTimeout):
        await http.post(PATH, content=BODY)
    await http.aclose()  # the client gives up: the server must cancel the stalled request
    srv.set_fault("none")
    fresh = clients.http(srv, timeout=5.0)
    r = await asyncio.wait_for(fresh.post(PATH, content=BODY), timeout=5)
    assert r.status_code == 200
    assert r.json()["done"] is True
    assert srv.in_flight == 0 and srv.max_in_flight == 1


async def _stream_raw(http: httpx.AsyncClient, protocol: str) -> tuple[httpx.Response, list[str]]:
    """One streamed request: the response and its non-empty lines."""
    path, body = _request(protocol)
    async with http.stream("POST", path, json=body) as r:
        return r, [line async for line in r.aiter_lines() if line]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_empty_concurrent_answers_a_second_stream_empty(
    protocol: str, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        protocol=protocol, fault="empty_concurrent", default_tokens=10, token_interval_ms=20
    )
    http = clients.http(srv)
    first = asyncio.create_task(_stream_raw(http, protocol))
    await asyncio.sleep(0.06)  # the first is generating now
    second, lines = await _stream_raw(http, protocol)
    full, full_lines = await first
    assert len(_token_texts(protocol, _events(protocol, full_lines)[:-1])) == 10
    assert second.status_code == 200
    assert second.headers["content-type"] == full.headers["content-type"]
    if protocol == "ollama":
        (only,) = lines
        done = orjson.loads(only)
        # a final chunk with nothing generated: no counts, no timings, no context
        assert list(done) == ["model", "created_at", "response", "done", "done_reason"]
        assert (done["response"], done["done"], done["done_reason"]) == ("", True, "stop")
    else:
        role, end = lines
        assert end == "data: [DONE]"
        chunk = orjson.loads(role.removeprefix("data: "))
        assert chunk["object"] == "chat.completion.chunk" and "usage" not in chunk
        assert chunk["choices"] == [
            {"index": 0, "delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}
        ]
    # alone, a request under the same fault is served in full
    _, alone = await _stream_raw(http, protocol)
    assert len(_token_texts(protocol, _events(protocol, alone)[:-1])) == 10


async def test_empty_concurrent_without_streaming_and_through_the_official_client(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        protocol="openai", fault="empty_concurrent", default_tokens=5, token_interval_ms=20
    )
    client = clients.openai(srv)
    messages: Any = [{"role": "user", "content": "x"}]
    first = asyncio.create_task(
        client.chat.completions.create(model="tiny:latest", messages=messages)
    )
    await asyncio.sleep(0.03)
    empty = await client.chat.completions.create(model="tiny:latest", messages=messages)
    assert empty.choices[0].message.content == "" and empty.choices[0].finish_reason is None
    assert empty.usage is None
    assert (await first).choices[0].message.content == "tok1 tok2 tok3 tok4 tok5"
    srv2 = await chimera_server(fault="empty_concurrent", default_tokens=5, token_interval_ms=20)
    ollama_client = clients.ollama(srv2)
    slow = asyncio.create_task(ollama_client.generate(model="tiny", prompt="x"))
    await asyncio.sleep(0.03)
    reply = await ollama_client.generate(model="tiny", prompt="x")
    assert reply.done and reply.response == "" and reply.eval_count is None
    assert (await slow).eval_count == 5
