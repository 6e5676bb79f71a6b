"""Structured outputs on the test servers: Ollama's ``format`` and OpenAI's
``response_format`` are honoured (a grammar on the llama.cpp engine, the smallest document
the schema allows on the modelled one), and a malformed one is a 400 naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from chimera.models import write_tiny_gguf
from chimera.testing import TestServer, TestServerConfig
from chimera.testing.structured import (
    FormatError,
    ollama_schema,
    openai_schema,
    smallest_instance,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "facts": {"type": "array", "items": {"enum": ["F2", "F7"]}, "minItems": 1},
                    "statement": {"type": "string", "minLength": 3, "maxLength": 40},
                },
                "required": ["facts", "statement"],
            },
            "minItems": 2,
        },
        "count": {"type": "integer", "minimum": 3},
        "done": {"type": "boolean"},
    },
    "required": ["findings", "count"],
}


def test_format_fields_as_the_servers_take_them() -> None:
    assert ollama_schema(None) is None and ollama_schema("") is None
    assert ollama_schema("json") == {"type": "object"}
    assert ollama_schema(SCHEMA) is SCHEMA
    assert openai_schema(None) is None and openai_schema({"type": "text"}) is None
    assert openai_schema({"type": "json_object"}) == {"type": "object"}
    # llama-cpp-python's server's form: json_object with a schema
    assert openai_schema({"type": "json_object", "schema": SCHEMA}) is SCHEMA
    wrapped = {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}
    assert openai_schema(wrapped) is SCHEMA
    with pytest.raises(FormatError, match="format must be"):
        ollama_schema("yaml")
    with pytest.raises(FormatError, match=r"response_format\.type must be"):
        openai_schema({"type": "xml"})
    with pytest.raises(FormatError, match=r"json_schema\.schema must be"):
        openai_schema({"type": "json_schema", "json_schema": {"name": "a"}})


def test_smallest_instance_holds_to_the_schema() -> None:
    assert smallest_instance(SCHEMA) == {
        "findings": [{"facts": ["F2"], "statement": "xxx"}] * 2,
        "count": 3,
    }
    assert smallest_instance({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "x"
    assert smallest_instance({"const": 7}) == 7


async def _post(srv: TestServer, path: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        return await http.post(path, json=body)


async def test_modelled_ollama_answers_free_text_with_the_schema() -> None:
    cfg = TestServerConfig(models=["m:latest"], responses=["not json at all", '{"kept": 1}'])
    async with TestServer(cfg) as srv:
        body = {"model": "m", "prompt": "x", "stream": False, "format": SCHEMA}
        first = (await _post(srv, "/api/generate", body)).json()["response"]
        second = (await _post(srv, "/api/generate", body)).json()["response"]
        plain = {"model": "m", "prompt": "x", "stream": False}
        third = (await _post(srv, "/api/generate", plain)).json()["response"]
        bad = await _post(srv, "/api/generate", {**body, "format": 3})
    assert json.loads(first) == smallest_instance(SCHEMA)
    assert second == '{"kept": 1}'  # JSON already: served as canned
    assert third == "not json at all"  # no format: the canned text
    assert bad.status_code == 400 and "format must be" in bad.json()["error"]


async def test_modelled_openai_honours_response_format() -> None:
    cfg = TestServerConfig(protocol="openai", models=["m"], responses=["free text"])
    async with TestServer(cfg) as srv:
        fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        answer = await _post(srv, "/v1/chat/completions", {**body, "response_format": fmt})
        bad = await _post(srv, "/v1/chat/completions", {**body, "response_format": {"type": "xml"}})
    text = answer.json()["choices"][0]["message"]["content"]
    assert json.loads(text) == smallest_instance(SCHEMA)
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "response_format"


async def test_llamacpp_engine_holds_a_random_model_to_the_schema(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    tiny = write_tiny_gguf(tmp_path / "t.gguf", ctx=512)
    schema = {
        "type": "object",
        "properties": {"facts": {"type": "array", "items": {"enum": ["F1", "F2"]}, "maxItems": 2}},
        "required": ["facts"],
        "additionalProperties": False,
    }
    async with TestServer(protocol="ollama", engine="llamacpp", model=str(tiny)) as srv:
        body = {
            "model": "t",
            "prompt": "facts?",
            "stream": False,
            "format": schema,
            "options": {"num_predict": 200, "seed": 3},
        }
        r = await _post(srv, "/api/generate", body)
    assert r.status_code == 200, r.text
    # random weights: only the grammar can make this text JSON of the schema
    facts = json.loads(r.json()["response"])["facts"]
    assert set(facts) <= {"F1", "F2"} and len(facts) <= 2


@pytest.mark.real_server
async def test_smollm2_on_the_openai_engine_answers_json_of_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"colours": {"type": "array", "items": {"type": "string", "maxLength": 12},
                                   "minItems": 2, "maxItems": 3}},
        "required": ["colours"],
    }  # fmt: skip
    fmt = {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}
    async with TestServer(protocol="openai", engine="llamacpp", model="smollm2") as srv:
        body = {
            "model": "smollm2",
            "messages": [{"role": "user", "content": "Name three colours as JSON."}],
            "response_format": fmt,
            "max_tokens": 64,
            "temperature": 0,
        }
        r = await _post(srv, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    colours = json.loads(r.json()["choices"][0]["message"]["content"])["colours"]
    assert 2 <= len(colours) <= 3 and all(isinstance(c, str) for c in colours)
