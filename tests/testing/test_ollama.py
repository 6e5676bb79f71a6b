"""Wire faithfulness of the Ollama-protocol server, seen through the official ``ollama`` client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import ollama
import pytest

from chimera.testing import TestServer

if TYPE_CHECKING:
    from conftest import Clients

Start = Callable[..., Awaitable[TestServer]]
MS = 1_000_000


async def test_generate_stream_has_every_documented_field(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        responses=["Hello world, again"], load_ms=20, prefill_ms=30, token_interval_ms=5
    )
    client = clients.ollama(srv)
    parts = [
        p async for p in await client.generate(model="tiny", prompt="one two three", stream=True)
    ]

    tokens, final = parts[:-1], parts[-1]
    assert [p.response for p in tokens] == ["Hello", " world,", " again"]
    for part in tokens:
        assert part.model == "tiny"
        assert part.created_at and part.created_at.endswith("Z")
        assert part.done is False
        assert part.done_reason is None and part.eval_count is None
    assert final.done is True
    assert final.response == ""
    assert final.done_reason == "stop"
    assert final.load_duration == 20 * MS  # first use: cold
    assert final.prompt_eval_duration == 30 * MS
    assert final.eval_duration == 3 * 5 * MS
    assert final.total_duration == (20 + 30 + 15) * MS
    assert final.prompt_eval_count == 3
    assert final.eval_count == 3
    assert final.context is not None and len(final.context) == 3 + 3

    again = [p async for p in await client.generate(model="tiny", prompt="x", stream=True)]
    assert again[-1].load_duration == 0  # warm: the model stayed loaded


async def test_chat_stream_has_message_role_and_content(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(responses=["Fine thanks"], prefill_ms=10, token_interval_ms=2)
    client = clients.ollama(srv)
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "how are you"},
    ]
    parts = [
        p async for p in await client.chat(model="tiny:latest", messages=messages, stream=True)
    ]

    assert [p.message.content for p in parts[:-1]] == ["Fine", " thanks"]
    assert all(p.message.role == "assistant" for p in parts)
    final = parts[-1]
    assert final.done and final.done_reason == "stop"
    assert final.message.content == ""
    assert final.prompt_eval_count == 5
    assert final.eval_count == 2
    assert final.prompt_eval_duration == 10 * MS
    assert final.eval_duration == 4 * MS
    assert "context" not in final.model_dump(exclude_none=True)
    assert srv.requests[-1].body is not None
    assert srv.requests[-1].body["messages"] == messages


async def test_non_streaming_answers_one_object(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(responses=["A whole answer"])
    client = clients.ollama(srv)
    gen = await client.generate(model="tiny", prompt="p", stream=False)
    assert gen.response == "A whole answer"
    assert gen.done and gen.done_reason == "stop" and gen.eval_count == 3
    chat = await client.chat(
        model="tiny", messages=[{"role": "user", "content": "q"}], stream=False
    )
    assert chat.message.content == "A whole answer"
    assert chat.message.role == "assistant"


async def test_stream_content_type_and_chunked_transfer(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server()
    http = clients.http(srv)
    async with http.stream("POST", "/api/generate", json={"model": "tiny", "prompt": "p"}) as r:
        assert r.headers["content-type"] == "application/x-ndjson"
        assert r.headers["transfer-encoding"] == "chunked"
        lines = [line async for line in r.aiter_lines()]
    assert len(lines) == 33  # 32 default tokens and the final chunk
    whole = await http.post("/api/generate", json={"model": "tiny", "prompt": "p", "stream": False})
    assert whole.headers["content-type"] == "application/json; charset=utf-8"
    assert whole.json()["response"] == " ".join(f"tok{i}" for i in range(1, 33))


async def test_list_ps_show_and_version(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(models=["tiny:latest", "other:7b"], version="0.99.1")
    client = clients.ollama(srv)

    listed = await client.list()
    assert [m.model for m in listed.models] == ["tiny:latest", "other:7b"]
    first = listed.models[0]
    assert first.size and first.digest and first.modified_at is not None
    assert first.details is not None
    assert first.details.format == "gguf"
    assert first.details.family == "llama"
    assert first.details.families == ["llama"]
    assert first.details.parameter_size and first.details.quantization_level

    assert (await client.ps()).models == []
    await client.generate(model="other:7b", prompt="x", options={"num_ctx": 8192})
    loaded = (await client.ps()).models
    assert [m.name for m in loaded] == ["other:7b"]
    assert loaded[0].size_vram == loaded[0].size
    assert loaded[0].expires_at is not None and loaded[0].details is not None
    assert loaded[0].context_length == 8192

    shown = await client.show("tiny")
    assert shown.details is not None and shown.details.family == "llama"
    assert shown.modelinfo is not None and shown.modelinfo["general.architecture"] == "llama"
    assert shown.template and shown.modelfile and shown.parameters is not None
    assert shown.capabilities == ["completion"]

    http = clients.http(srv)
    assert (await http.get("/api/version")).json() == {"version": "0.99.1"}
    root = await http.get("/")
    assert root.text == "Ollama is running"
    assert (await http.head("/")).status_code == 200


async def test_empty_prompt_loads_and_keep_alive_zero_unloads(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(load_ms=50)
    client = clients.ollama(srv)

    loaded = await client.generate(model="tiny", prompt="")
    assert loaded.done and loaded.done_reason == "load"
    assert loaded.load_duration is None  # like Ollama: a load call reports no timings
    assert srv.loaded_models == ["tiny:latest"]
    warm = await client.generate(model="tiny", prompt="x")
    assert warm.load_duration == 0

    unloaded = await client.generate(model="tiny", prompt="", keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert srv.loaded_models == []
    cold = await client.generate(model="tiny", prompt="x")
    assert cold.load_duration == 50 * MS

    chat_load = await client.chat(model="tiny", messages=[])
    assert chat_load.done_reason == "load" and chat_load.message.role == "assistant"
    chat_unload = await client.chat(model="tiny", messages=[], keep_alive=0)
    assert chat_unload.done_reason == "unload"


async def test_keep_alive_zero_on_a_generation_unloads_after_it(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server()
    client = clients.ollama(srv)
    await client.generate(model="tiny", prompt="x", keep_alive=0)
    assert srv.loaded_models == []
    await client.generate(model="tiny", prompt="x", keep_alive="10m")
    assert srv.loaded_models == ["tiny:latest"]


async def test_num_predict_truncates_with_done_reason_length(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(responses=["a b c d e f"])
    client = clients.ollama(srv)
    parts = [
        p
        async for p in await client.generate(
            model="tiny", prompt="x", options={"num_predict": 4}, stream=True
        )
    ]
    assert "".join(p.response or "" for p in parts) == "a b c d"
    assert parts[-1].done_reason == "length" and parts[-1].eval_count == 4
    assert srv.requests[-1].body is not None
    assert srv.requests[-1].body["options"] == {"num_predict": 4}


async def test_canned_responses_cycle_in_order(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(responses=["first", "second answer"])
    client = clients.ollama(srv)
    texts = [(await client.generate(model="tiny", prompt="x")).response for _ in range(3)]
    assert texts == ["first", "second answer", "first"]


async def test_unknown_model_is_ollamas_404(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server()
    client = clients.ollama(srv)
    with pytest.raises(ollama.ResponseError) as err:
        await client.generate(model="llama3:8b", prompt="x")
    assert err.value.status_code == 404
    assert err.value.error == 'model "llama3:8b" not found, try pulling it first'
    with pytest.raises(ollama.ResponseError) as shown:
        await client.show("llama3:8b")
    assert shown.value.status_code == 404


async def test_bad_requests_get_ollama_error_bodies(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server()
    http = clients.http(srv)
    no_model = await http.post("/api/generate", json={"prompt": "x"})
    assert no_model.status_code == 400
    assert no_model.json() == {"error": "model is required"}
    bad_json = await http.post("/api/chat", content=b"{nope")
    assert bad_json.status_code == 400
    assert "invalid JSON" in bad_json.json()["error"]
    bad_options = await http.post("/api/generate", json={"model": "tiny", "options": [1]})
    assert bad_options.status_code == 400


async def test_an_expired_keep_alive_makes_the_model_cold(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(load_ms=10)
    client = clients.ollama(srv)
    await client.generate(model="tiny", prompt="x", keep_alive=0.1)
    assert (await client.generate(model="tiny", prompt="x", keep_alive=0.1)).load_duration == 0
    await asyncio.sleep(0.2)
    assert srv.loaded_models == []
    cold = await client.generate(model="tiny", prompt="x", options={"num_gpu": 0})
    assert cold.load_duration == 10 * MS
    loaded = (await client.ps()).models
    assert loaded[0].size_vram == 0  # num_gpu 0: nothing offloaded
