"""A JSON schema through the backend seam: Ollama's ``format``, OpenAI's ``response_format``
(both recorded by the test servers) and llama.cpp's grammar in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chimera.backends.base import (
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    create_backend,
    generate,
)
from chimera.backends.ollama import OllamaBackend
from chimera.backends.ollama import request_body as ollama_body
from chimera.backends.openai import OpenAIBackend
from chimera.backends.openai import request_body as openai_body
from chimera.errors import ServerHTTPError
from chimera.models import write_tiny_gguf
from chimera.options import InferenceOptions
from chimera.testing import TestServer, TestServerConfig

SCHEMA = {
    "type": "object",
    "properties": {"facts": {"type": "array", "items": {"enum": ["F1", "F2"]}, "maxItems": 2}},
    "required": ["facts"],
    "additionalProperties": False,
}
ANSWER = '{"facts": ["F2"]}'
CHAT = (ChatMessage(role="user", content="Which facts?"),)


def request(
    model: str, schema: dict[str, object] | None = SCHEMA, **options: object
) -> GenerationRequest:
    return GenerationRequest(
        model=model, messages=CHAT, json_schema=schema, options=InferenceOptions.parse(options)
    )


def test_no_schema_sends_no_format_field() -> None:
    assert "format" not in ollama_body(request("m", None))
    assert "response_format" not in openai_body(request("m", None))


async def test_ollama_sends_the_schema_as_format() -> None:
    cfg = TestServerConfig(models=["tiny:latest"], responses=[ANSWER])
    async with TestServer(cfg) as srv:
        async with OllamaBackend(EndpointSettings(url=srv.url)) as b:
            result = await generate(b, request("tiny:latest"))
        body = srv.requests[-1].body
    assert body is not None and body["format"] == SCHEMA
    assert json.loads(result.text) == {"facts": ["F2"]}


async def test_openai_sends_the_schema_as_response_format() -> None:
    cfg = TestServerConfig(protocol="openai", models=["tiny"], responses=[ANSWER])
    async with TestServer(cfg) as srv:
        async with OpenAIBackend(EndpointSettings(kind="openai", url=srv.url)) as b:
            result = await generate(b, request("tiny"))
        body = srv.requests[-1].body
    assert body is not None
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": SCHEMA},
    }
    assert json.loads(result.text) == {"facts": ["F2"]}


async def test_llamacpp_holds_even_a_random_model_to_the_schema(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    tiny = write_tiny_gguf(tmp_path / "tiny.gguf", ctx=512)
    async with create_backend(kind="llamacpp") as b:
        result = await generate(b, request(str(tiny), seed=1, num_predict=200))
    # the tiny model's weights are random: only the grammar can make its text this JSON
    assert json.loads(result.text)["facts"] in (
        [],
        ["F1"],
        ["F2"],
        ["F1", "F2"],
        ["F2", "F1"],
        ["F1", "F1"],
        ["F2", "F2"],
    )


async def test_openai_falls_back_to_json_object_where_json_schema_is_refused() -> None:
    # llama-cpp-python's server answers response_format json_schema with a 500 and takes
    # {"type": "json_object", "schema": ...}: the backend retries once in that form and keeps it
    cfg = TestServerConfig(
        protocol="openai", models=["tiny"], responses=[ANSWER], json_schema_format=False
    )
    async with TestServer(cfg) as srv:
        async with OpenAIBackend(EndpointSettings(kind="openai", url=srv.url)) as b:
            first = await generate(b, request("tiny"))
            second = await generate(b, request("tiny"))
        formats = [r.body["response_format"] for r in srv.requests if r.body]
    assert json.loads(first.text) == json.loads(second.text) == {"facts": ["F2"]}
    assert [f["type"] for f in formats] == ["json_schema", "json_object", "json_object"]
    assert formats[1]["schema"] == SCHEMA


async def test_openai_does_not_retry_a_request_without_a_schema() -> None:
    cfg = TestServerConfig(protocol="openai", models=["tiny"], fault="http_500")
    async with TestServer(cfg) as srv:
        async with OpenAIBackend(EndpointSettings(kind="openai", url=srv.url)) as b:
            with pytest.raises(ServerHTTPError):
                await generate(b, request("tiny", None))
        assert len([r for r in srv.requests if r.path == "/v1/chat/completions"]) == 1
