"""Wire faithfulness of the OpenAI-protocol server, seen through the official ``openai`` SDK."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import openai
import orjson
import pytest

from chimera.testing import TestServer

if TYPE_CHECKING:
    from conftest import Clients

Start = Callable[..., Awaitable[TestServer]]
USER = [{"role": "user", "content": "say hello to me"}]


async def test_chat_stream_with_usage(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai", responses=["Hello there you"])
    client = clients.openai(srv)
    stream = await client.chat.completions.create(
        model="tiny:latest",
        messages=USER,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]

    assert all(c.object == "chat.completion.chunk" and c.model == "tiny:latest" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert all(c.created > 0 for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    texts = [c.choices[0].delta.content for c in chunks[1:4]]
    assert texts == ["Hello", " there", " you"]
    finish = chunks[4]
    assert finish.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:4])
    usage_chunk = chunks[5]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.prompt_tokens == 4  # words in "say hello to me"
    assert usage_chunk.usage.completion_tokens == 3
    assert usage_chunk.usage.total_tokens == 7
    assert len(chunks) == 6
    assert all(c.usage is None for c in chunks[:5])


async def test_completions_stream_with_usage(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai", responses=["one two three four"])
    client = clients.openai(srv)
    stream = await client.completions.create(
        model="tiny:latest",
        prompt="count",
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=2,
    )
    chunks = [c async for c in stream]
    assert all(c.object == "text_completion" and c.id.startswith("cmpl-") for c in chunks)
    assert [c.choices[0].text for c in chunks[:2]] == ["one", " two"]
    assert chunks[2].choices[0].finish_reason == "length"
    assert chunks[3].choices == []
    assert chunks[3].usage is not None
    assert (chunks[3].usage.prompt_tokens, chunks[3].usage.completion_tokens) == (1, 2)


async def test_non_streaming_responses_carry_usage(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai", responses=["All at once"])
    client = clients.openai(srv)
    chat = await client.chat.completions.create(model="tiny:latest", messages=USER)  # type: ignore[arg-type]
    assert chat.object == "chat.completion"
    assert chat.choices[0].message.content == "All at once"
    assert chat.choices[0].message.role == "assistant"
    assert chat.choices[0].finish_reason == "stop"
    assert chat.usage is not None and chat.usage.completion_tokens == 3
    done = await client.completions.create(model="tiny:latest", prompt="x y", max_tokens=1)
    assert done.choices[0].text == "All" and done.choices[0].finish_reason == "length"
    assert done.usage is not None and done.usage.prompt_tokens == 2


async def test_max_completion_tokens_truncates_chat(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol="openai")
    client = clients.openai(srv)
    chat = await client.chat.completions.create(
        model="tiny:latest",
        messages=USER,  # type: ignore[arg-type]
        max_completion_tokens=5,
    )
    assert chat.choices[0].message.content == "tok1 tok2 tok3 tok4 tok5"
    assert chat.choices[0].finish_reason == "length"


async def test_server_that_ignores_include_usage(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai", usage_in_stream=False)
    stream = await clients.openai(srv).chat.completions.create(
        model="tiny:latest",
        messages=USER,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    assert all(c.usage is None and c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_llamacpp_timings_on_the_final_chunk(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(
        protocol="openai", llamacpp_timings=True, prefill_ms=20, token_interval_ms=4
    )
    http = clients.http(srv)
    body = {"model": "tiny:latest", "messages": USER, "stream": True, "max_tokens": 5}
    async with http.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line async for line in r.aiter_lines() if line]
    assert events[-1] == "data: [DONE]"
    final = orjson.loads(events[-2].removeprefix("data: "))
    assert final["choices"][0]["finish_reason"] == "length"
    assert final["timings"] == {
        "cache_n": 0,
        "prompt_n": 4,
        "prompt_ms": 20.0,
        "prompt_per_token_ms": 5.0,
        "prompt_per_second": 200.0,
        "predicted_n": 5,
        "predicted_ms": 20.0,
        "predicted_per_token_ms": 4.0,
        "predicted_per_second": 250.0,
    }
    assert all("timings" not in orjson.loads(e.removeprefix("data: ")) for e in events[:-2])


async def test_models_list(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai", models=["a", "b:1"])
    page = await clients.openai(srv).models.list()
    assert [m.id for m in page.data] == ["a", "b:1"]
    assert all(m.object == "model" and m.owned_by for m in page.data)


async def test_unknown_model_is_openais_404(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(protocol="openai")
    with pytest.raises(openai.NotFoundError) as err:
        await clients.openai(srv).chat.completions.create(model="gpt-9", messages=USER)  # type: ignore[arg-type]
    assert err.value.status_code == 404
    assert err.value.body == {
        "message": "The model `gpt-9` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


async def test_api_key_is_enforced_and_never_recorded(
    chimera_server: Start, clients: Clients
) -> None:
    key = "sk-test-s3cret-value"
    srv = await chimera_server(protocol="openai", api_key=key)
    assert key not in repr(srv.config)

    with pytest.raises(openai.AuthenticationError) as err:
        await clients.openai(srv, api_key="wrong").models.list()
    assert err.value.status_code == 401
    assert isinstance(err.value.body, dict) and err.value.body["code"] == "invalid_api_key"
    missing = await clients.http(srv).get("/v1/models")
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"

    good = clients.openai(srv, api_key=key)
    chat = await good.chat.completions.create(model="tiny:latest", messages=USER)  # type: ignore[arg-type]
    assert chat.choices[0].message.content

    assert len(srv.requests) == 3
    assert srv.requests[-1].headers["authorization"] == "<redacted>"
    assert key not in repr(srv.requests)
    assert all("wrong" not in str(r.headers) for r in srv.requests)


async def test_bad_requests_get_openai_error_bodies(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol="openai")
    http = clients.http(srv)
    no_messages = await http.post("/v1/chat/completions", json={"model": "tiny:latest"})
    assert no_messages.status_code == 400
    assert no_messages.json()["error"]["param"] == "messages"
    bad_json = await http.post("/v1/completions", content=b"[1,")
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["type"] == "invalid_request_error"
    unknown = await http.get("/v1/embeddings")
    assert unknown.status_code == 404 and "error" in unknown.json()
    wrong = await http.get("/v1/chat/completions")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
