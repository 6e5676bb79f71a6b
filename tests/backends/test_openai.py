"""The OpenAI-compatible backend against the project's OpenAI-protocol test server."""

from __future__ import annotations

import pytest

from chimera.backends.base import ChatMessage, EndpointSettings, GenerationRequest, generate
from chimera.backends.openai import OpenAIBackend, request_body
from chimera.errors import (
    ConfigError,
    ModelNotFoundError,
    ServerHTTPError,
    StreamCutError,
    StreamError,
)
from chimera.options import InferenceOptions
from chimera.testing import TestServer, TestServerConfig

TEXT = "Alpha beta gamma delta epsilon"
CHAT = (ChatMessage(role="user", content="hello there"),)


def cfg(**kw: object) -> TestServerConfig:
    return TestServerConfig(protocol="openai", models=["tiny"], responses=[TEXT], **kw)  # type: ignore[arg-type]


def backend_for(url: str, **kw: object) -> OpenAIBackend:
    return OpenAIBackend(EndpointSettings(kind="openai", url=url, **kw))  # type: ignore[arg-type]


async def test_chat_stream_with_usage() -> None:
    async with TestServer(cfg(token_interval_ms=1)) as srv, backend_for(srv.url + "/v1") as b:
        result = await generate(b, GenerationRequest(model="tiny", messages=CHAT))
        assert result.text == TEXT and result.done_reason == "stop"
        m = result.metrics
        assert m.output_tokens == 5 and m.prompt_tokens == 2
        assert "output_tokens" not in m.estimated
        # no server timings in plain OpenAI streams: decode rate derived from the stream
        assert "decode_tokens_per_s" in m.estimated and m.load_ms is None
        assert srv.requests[-1].body["stream_options"] == {"include_usage": True}  # type: ignore[index]


async def test_completions_with_llamacpp_timings() -> None:
    async with (
        TestServer(cfg(llamacpp_timings=True, prefill_ms=10, token_interval_ms=2)) as srv,
        backend_for(srv.url) as b,
    ):
        result = await generate(b, GenerationRequest(model="tiny", prompt="a b c"))
        m = result.metrics
        assert result.endpoint == "/v1/completions" and result.text == TEXT
        assert m.prompt_eval_ms == pytest.approx(10) and m.eval_ms == pytest.approx(10)
        assert m.decode_tokens_per_s == pytest.approx(500) and m.estimated == []


async def test_server_ignoring_include_usage_gives_estimated_counts() -> None:
    async with TestServer(cfg(usage_in_stream=False)) as srv, backend_for(srv.url) as b:
        m = (await generate(b, GenerationRequest(model="tiny", messages=CHAT))).metrics
        assert m.output_tokens == 5 and "output_tokens" in m.estimated
        assert m.prompt_tokens is None


async def test_api_key_from_environment_only_in_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-123")
    async with TestServer(cfg(api_key="sk-secret-123")) as srv:
        async with backend_for(srv.url, api_key_env="MY_KEY") as b:
            result = await generate(b, GenerationRequest(model="tiny", messages=CHAT))
        assert "sk-secret-123" not in result.model_dump_json()
        async with backend_for(srv.url) as anonymous:
            with pytest.raises(ServerHTTPError, match="OPENAI_API_KEY") as info:
                await generate(anonymous, GenerationRequest(model="tiny", messages=CHAT))
            assert info.value.status == 401


def test_missing_key_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NOPE_KEY"):
        backend_for("http://127.0.0.1:1", api_key_env="NOPE_KEY")


def test_options_mapping_and_load_time_options_refused() -> None:
    opts = InferenceOptions(num_predict=8, temperature=0.5, top_k=40, repeat_penalty=1.1, seed=3)
    body = request_body(GenerationRequest(model="m", prompt="p", options=opts))
    assert body["max_tokens"] == 8 and body["top_k"] == 40 and body["repeat_penalty"] == 1.1
    assert "options" not in body and body["seed"] == 3
    with pytest.raises(ConfigError, match="num_ctx"):
        request_body(
            GenerationRequest(model="m", prompt="p", options=InferenceOptions(num_ctx=2048))
        )


async def test_unknown_model_lists_served_models() -> None:
    async with TestServer(cfg()) as srv, backend_for(srv.url) as b:
        with pytest.raises(ModelNotFoundError, match="tiny"):
            await generate(b, GenerationRequest(model="gpt-9", messages=CHAT))


@pytest.mark.parametrize(
    ("fault", "error"),
    [("error_line", StreamError), ("cut", StreamCutError), ("http_500", ServerHTTPError)],
)
async def test_stream_faults(fault: str, error: type) -> None:
    async with TestServer(cfg(fault=fault)) as srv, backend_for(srv.url) as b:
        with pytest.raises(error):
            await generate(b, GenerationRequest(model="tiny", messages=CHAT))
