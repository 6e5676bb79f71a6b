"""The Ollama backend against the project's Ollama-protocol test server (real sockets)."""

from __future__ import annotations

import statistics

import pytest

from chimera.backends.base import (
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    TextChunk,
    create_backend,
    generate,
)
from chimera.backends.ollama import OllamaBackend, default_url
from chimera.errors import (
    FirstTokenTimeoutError,
    IdleTimeoutError,
    MalformedResponseError,
    ModelNotFoundError,
    ServerHTTPError,
    ServerUnreachableError,
    StreamCutError,
    StreamError,
)
from chimera.options import InferenceOptions
from chimera.testing import TestServer, TestServerConfig

TEXT = "The quick brown fox jumps over the lazy dog."


def backend_for(url: str, **kw: float) -> OllamaBackend:
    return OllamaBackend(EndpointSettings(kind="ollama", url=url, **kw))


async def test_generate_streams_text_and_exact_server_timings() -> None:
    cfg = TestServerConfig(responses=[TEXT], load_ms=30, prefill_ms=20, token_interval_ms=2)
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        req = GenerationRequest(model="tiny:latest", prompt="one two three four")
        events = [e async for e in b.stream(req)]
        chunks = [e for e in events if isinstance(e, TextChunk)]
        result = events[-1]
        assert "".join(c.text for c in chunks) == TEXT == result.text  # type: ignore[union-attr]
        m = result.metrics  # type: ignore[union-attr]
        assert m.load_ms == 30 and m.prompt_eval_ms == 20
        assert m.output_tokens == len(chunks) == 9
        assert m.eval_ms == pytest.approx(2 * 9)
        assert m.decode_tokens_per_s == pytest.approx(9 / 0.018)
        assert m.prompt_tokens == 4 and m.prefill_tokens_per_s == pytest.approx(200)
        assert m.ttft_ms is not None and m.ttft_ms >= 50
        assert m.e2e_ms is not None and m.e2e_ms >= m.ttft_ms
        assert m.estimated == [] and m.done_reason == "stop"
        # warm now: no load time on the second call
        again = await generate(b, req)
        assert again.metrics.load_ms == 0


async def test_chat_passes_options_through_and_leaves_unset_ones_out() -> None:
    async with TestServer(TestServerConfig(responses=[TEXT])) as srv, backend_for(srv.url) as b:
        opts = InferenceOptions(num_gpu=80, num_ctx=1024, temperature=1.0, num_predict=4)
        req = GenerationRequest(
            model="tiny:latest",
            options=opts,
            keep_alive="5m",
            messages=(ChatMessage(role="user", content="hi"),),
        )
        result = await generate(b, req)
        assert result.endpoint == "/api/chat" and result.done_reason == "length"
        assert result.metrics.output_tokens == 4
        body = srv.requests[-1].body
        assert body is not None
        assert body["options"] == {
            "num_gpu": 80,
            "num_ctx": 1024,
            "temperature": 1.0,
            "num_predict": 4,
        }
        assert body["keep_alive"] == "5m" and body["stream"] is True


async def test_load_call_reports_load_time_apart() -> None:
    async with TestServer(TestServerConfig(load_ms=40)) as srv, backend_for(srv.url) as b:
        result = await b.load("tiny:latest")
        # Ollama sends no timings for a load: the call's own duration is the load time
        m = result.metrics
        assert result.done_reason == "load" and result.text == ""
        assert m.load_ms is not None and 40 <= m.load_ms < 200 and m.estimated == ["load_ms"]
        assert "options" not in srv.requests[-1].body and result.options == {}
        # Ollama loads with the options a load request sends (its context, layers offloaded)
        sized = await b.load("tiny:latest", options=InferenceOptions(num_ctx=1024))
        assert srv.requests[-1].body["options"] == {"num_ctx": 1024}  # type: ignore[index]
        assert sized.options == {"num_ctx": 1024}


async def test_server_info_lists_models_and_loaded() -> None:
    cfg = TestServerConfig(models=["a:latest", "b:7b"])
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        await b.load("a:latest")
        info = await b.server_info()
        assert [m.name for m in info.models] == ["a:latest", "b:7b"]
        assert info.loaded is not None and [m.name for m in info.loaded] == ["a:latest"]
        assert info.version


async def test_ttft_accuracy_with_injected_first_token_delay() -> None:
    cfg = TestServerConfig(prefill_ms=200, responses=["a b c"], token_interval_ms=1)
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        req = GenerationRequest(model="tiny:latest", prompt="x")
        ttfts = [(await generate(b, req)).metrics.ttft_ms for _ in range(5)]
    assert abs(statistics.median(t for t in ttfts if t is not None) - 200) < 5


def test_ollama_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:9999")
    assert default_url() == "http://127.0.0.1:9999"
    monkeypatch.setenv("OLLAMA_HOST", "https://gpu-box.local")
    assert default_url() == "https://gpu-box.local"
    monkeypatch.delenv("OLLAMA_HOST")
    assert default_url() == "http://127.0.0.1:11434"
    assert create_backend(kind="ollama").url == "http://127.0.0.1:11434"


# --- errors: each fault its own type and message ----------------------------------------


async def test_unreachable_server_names_url_and_how_to_start_ollama() -> None:
    async with TestServer(TestServerConfig()) as srv:
        url = srv.url
    async with backend_for(url) as b:
        with pytest.raises(ServerUnreachableError) as info:
            await generate(b, GenerationRequest(model="m", prompt="x"))
    assert url in str(info.value) and "ollama serve" in str(info.value)


async def test_unknown_model_suggests_pull_and_lists_installed() -> None:
    cfg = TestServerConfig(models=["gemma3:latest", "qwen3:4b"])
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        with pytest.raises(ModelNotFoundError) as info:
            await generate(b, GenerationRequest(model="llama9", prompt="x"))
        msg = str(info.value)
        assert "ollama pull llama9" in msg and "gemma3:latest, qwen3:4b" in msg
        with pytest.raises(ModelNotFoundError):
            await b.load("llama9")


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ("http_500", ServerHTTPError, "HTTP 500"),
        ("error_line", StreamError, "mid-stream"),
        ("cut", StreamCutError, "ended before it was done"),
        ("malformed", MalformedResponseError, "not JSON"),
        ("refuse", (StreamCutError, ServerUnreachableError), ""),
    ],
)
async def test_faults_map_to_their_own_errors(fault: str, error: type, text: str) -> None:
    cfg = TestServerConfig(fault=fault, fault_after_tokens=2)  # type: ignore[arg-type]
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        with pytest.raises(error) as info:
            await generate(b, GenerationRequest(model="tiny:latest", prompt="x"))
        assert text in str(info.value) and srv.url in str(info.value)


async def test_first_token_and_idle_timeouts() -> None:
    async with (
        TestServer(TestServerConfig(prefill_ms=2000)) as srv,
        backend_for(srv.url, first_token_timeout_s=0.2) as b,
    ):
        with pytest.raises(FirstTokenTimeoutError, match="first_token_timeout_s"):
            await generate(b, GenerationRequest(model="tiny:latest", prompt="x"))
    async with (
        TestServer(TestServerConfig(fault="stall", fault_after_tokens=2)) as srv,
        backend_for(srv.url, idle_timeout_s=0.2) as b,
    ):
        with pytest.raises(IdleTimeoutError, match="idle_timeout_s"):
            await generate(b, GenerationRequest(model="tiny:latest", prompt="x"))


async def test_fault_from_second_request_lets_the_first_succeed() -> None:
    cfg = TestServerConfig(fault="http_500", fault_from_request=2)
    async with TestServer(cfg) as srv, backend_for(srv.url) as b:
        req = GenerationRequest(model="tiny:latest", prompt="x")
        assert (await generate(b, req)).text
        with pytest.raises(ServerHTTPError):
            await generate(b, req)
