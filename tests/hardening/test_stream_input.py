"""Ollama NDJSON and OpenAI SSE streams of any bytes: a CallResult or a BackendError, never
another exception (the parsers behind ``generate``, fed through httpx's MockTransport)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chimera.backends.base import EndpointSettings, GenerationRequest, generate
from chimera.backends.http import HttpBackend
from chimera.backends.ollama import OllamaBackend
from chimera.backends.openai import OpenAIBackend, server_timings
from chimera.errors import BackendError

from .conftest import FAST, SLOW

URL = "http://127.0.0.1:9"  # never dialled: the mock transport answers
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def _maybe(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.just(key), values, max_size=1)


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in parts:
        out.update(p)
    return out


# Chunks shaped like the protocol's, every field of any JSON type
ollama_chunks = st.tuples(
    _maybe("response", json_values | st.text(max_size=8)),
    _maybe("message", json_values | st.fixed_dictionaries({"content": json_values})),
    _maybe("done", st.booleans() | json_values),
    _maybe("done_reason", json_values),
    _maybe("eval_count", json_values),
    _maybe("eval_duration", json_values),
    _maybe("error", json_values),
).map(lambda t: orjson.dumps(_merge(list(t))))
openai_chunks = st.tuples(
    _maybe(
        "choices",
        json_values
        | st.lists(
            st.tuples(
                _maybe("delta", json_values | st.fixed_dictionaries({"content": json_values})),
                _maybe("text", json_values),
                _maybe("finish_reason", json_values),
            ).map(lambda t: _merge(list(t))),
            max_size=2,
        ),
    ),
    _maybe("usage", json_values),
    _maybe("timings", json_values | st.fixed_dictionaries({"prompt_ms": st.floats()})),
    _maybe("error", json_values),
).map(lambda t: orjson.dumps(_merge(list(t))))
garbage = st.binary(max_size=40) | json_values.map(orjson.dumps)


def ndjson_bodies() -> st.SearchStrategy[bytes]:
    line = ollama_chunks | garbage
    return st.lists(line, max_size=6).map(lambda ls: b"\n".join(ls))


def sse_bodies() -> st.SearchStrategy[bytes]:
    event = (openai_chunks | garbage).map(lambda b: b"data: " + b) | st.sampled_from(
        [b"data: [DONE]", b": keep-alive", b"event: message", b"data:", b"retry: 10"]
    )
    return st.lists(event | garbage, max_size=6).map(lambda ls: b"\n\n".join(ls))


def _outcome(backend_type: type[HttpBackend], body: bytes, chat: bool) -> object:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body))

    settings = EndpointSettings(kind=backend_type.kind, url=URL)
    request = GenerationRequest(
        model="m",
        **({"messages": [{"role": "user", "content": "hi"}]} if chat else {"prompt": "hi"}),
    )

    async def call() -> object:
        async with backend_type(settings, transport=httpx.MockTransport(answer)) as backend:  # type: ignore[call-arg]
            try:
                return await generate(backend, request)
            except BackendError as exc:
                return exc

    return asyncio.run(call())


def _check(result: object) -> None:
    if isinstance(result, BackendError):
        assert "\n" not in str(result)  # printed as one line
    else:
        assert isinstance(getattr(result, "text", None), str), result


@FAST
@given(ndjson_bodies(), st.booleans())
@example(b"[1, 2]", False)  # found: a JSON line that is not an object raised TypeError
@example(b'{"response": 5, "done": true}', False)  # found: a number as text (TypeError on join)
@example(b'{"message": "hi", "done": true}', True)  # found: 'str' has no attribute 'get'
@example(b'{"response": "a", "done": true, "done_reason": 3}', False)  # found: ValidationError
def test_ollama_ndjson_of_any_bytes(body: bytes, chat: bool) -> None:
    _check(_outcome(OllamaBackend, body, chat))


@FAST
@given(sse_bodies(), st.booleans())
@example(b"data: 7", True)  # found: 'in' on an int raised TypeError
@example(b'data: {"choices": ["x"]}', True)  # found: 'str' has no attribute 'get'
@example(b'data: {"choices": [{"delta": "x"}]}', True)
@example(b'data: {"choices": [{"text": 1, "finish_reason": "stop"}]}', False)
@example(b'data: {"choices": [{"text": "a", "finish_reason": 1}]}\n\ndata: [DONE]', False)
@example(  # found: round(1e308 * 1e6) raised OverflowError
    b'data: {"choices": [{"text": "a", "finish_reason": "stop"}], "timings": {"prompt_ms": 1e308}}',
    False,
)
def test_openai_sse_of_any_bytes(body: bytes, chat: bool) -> None:
    _check(_outcome(OpenAIBackend, body, chat))


def test_server_timings_skip_what_a_float_cannot_hold() -> None:
    st_ = server_timings(None, {"prompt_ms": 1e308, "predicted_ms": 12.5})
    assert st_.prompt_eval_ns is None and st_.eval_ns == 12_500_000


def _info_outcome(backend_type: type[HttpBackend], body: bytes, what: str) -> object:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=httpx.ByteStream(body), headers={"content-type": "application/json"}
        )

    settings = EndpointSettings(kind=backend_type.kind, url=URL)

    async def call() -> object:
        async with backend_type(settings, transport=httpx.MockTransport(answer)) as backend:  # type: ignore[call-arg]
            try:
                if what == "server_info":
                    return await backend.server_info()  # type: ignore[attr-defined]
                if what == "load":
                    return await backend.load("m")  # type: ignore[attr-defined]
                return await backend.installed_models()
            except BackendError as exc:
                return exc

    return asyncio.run(call())


model_entries = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values, "model": json_values, "id": json_values, "size": json_values,
        "size_vram": json_values, "expires_at": json_values,
        "details": json_values | st.fixed_dictionaries(
            {}, optional={"parameter_size": json_values, "quantization_level": json_values,
                          "family": json_values},
        ),
    },
)  # fmt: skip
info_bodies = (
    json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "models": json_values | st.lists(model_entries | json_values, max_size=3),
            "data": json_values | st.lists(model_entries | json_values, max_size=3),
            "version": json_values,
            "done_reason": json_values,
            "load_duration": json_values,
        },
    )
).map(orjson.dumps) | st.binary(max_size=30)


@FAST
@given(
    info_bodies,
    st.sampled_from([OllamaBackend, OpenAIBackend]),
    st.sampled_from(["server_info", "installed_models", "load"]),
)
@example(b"[]", OllamaBackend, "server_info")  # found: 'list' has no attribute 'get'
@example(b'{"models": [3]}', OllamaBackend, "installed_models")
@example(b'{"models": [{"name": "m", "size": "big"}]}', OllamaBackend, "server_info")
@example(b'{"data": [{"id": "m"}], "version": 3}', OpenAIBackend, "server_info")
@example(b'{"done_reason": 1}', OllamaBackend, "load")
def test_server_info_of_any_json(body: bytes, backend_type: type[HttpBackend], what: str) -> None:
    result = _info_outcome(backend_type, body, what)
    if isinstance(result, BackendError):
        assert "\n" not in str(result)


_HEADS = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"",
    ]
)


@FAST
@given(
    _HEADS,
    st.lists(ndjson_bodies() | st.binary(max_size=40), min_size=0, max_size=3),
    st.sampled_from([OllamaBackend, OpenAIBackend]),
)
@example(b"", [b"\x00\xff garbage"], OllamaBackend)  # not HTTP at all
@example(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", [b"zz\r\n"], OpenAIBackend)
def test_any_bytes_over_a_real_socket(
    head: bytes, writes: list[bytes], backend_type: type[HttpBackend]
) -> None:
    """The whole client path (the stamping socket reader, httpx, line splitting, parsing)
    against a loopback server that writes ``head`` then ``writes`` and closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(head)
        for data in writes:
            writer.write(data)
            await writer.drain()
        writer.close()

    async def call() -> object:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = EndpointSettings(
            kind=backend_type.kind, url=f"http://127.0.0.1:{port}", first_token_timeout_s=5
        )
        request = GenerationRequest(model="m", prompt="hi")
        try:
            async with backend_type(settings) as backend:  # type: ignore[call-arg]
                return await generate(backend, request)
        except BackendError as exc:
            return exc
        finally:
            server.close()
            await server.wait_closed()

    _check(asyncio.run(call()))


@pytest.mark.slow
@SLOW
@given(
    ndjson_bodies() | sse_bodies(), st.booleans(), st.sampled_from([OllamaBackend, OpenAIBackend])
)
def test_many_more_streams(body: bytes, chat: bool, backend_type: type[HttpBackend]) -> None:
    _check(_outcome(backend_type, body, chat))
