"""An empty completion is an error, never a success: the wire shapes real servers send."""

from __future__ import annotations

import gzip

import httpx
import pytest

from chimera.backends.base import ChatMessage, EndpointSettings, GenerationRequest, generate
from chimera.backends.ollama import OllamaBackend
from chimera.backends.openai import OpenAIBackend
from chimera.errors import EmptyResponseError, ReasoningOnlyError
from chimera.options import InferenceOptions

CHAT = (ChatMessage(role="user", content="hello"),)
# What llama-cpp-python's server sent a second concurrent stream: a role chunk, then [DONE].
LLAMA_CPP_PYTHON_EMPTY = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,'
    b'"finish_reason":null}]}\r\n\r\n'
    b"data: [DONE]\r\n\r\n"
)


def sse(*events: bytes) -> bytes:
    return b"".join(b"data: " + e + b"\n\n" for e in events)


def openai_backend(body: bytes) -> OpenAIBackend:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=httpx.ByteStream(body)
        )

    settings = EndpointSettings(kind="openai", url="http://127.0.0.1:9")
    return OpenAIBackend(settings, transport=httpx.MockTransport(handler))


def ollama_backend(body: bytes) -> OllamaBackend:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "application/x-ndjson"}, stream=httpx.ByteStream(body)
        )

    settings = EndpointSettings(kind="ollama", url="http://127.0.0.1:9")
    return OllamaBackend(settings, transport=httpx.MockTransport(handler))


async def test_llama_cpp_python_empty_stream_is_an_error_naming_the_remedy() -> None:
    async with openai_backend(LLAMA_CPP_PYTHON_EMPTY) as b:
        with pytest.raises(EmptyResponseError) as info:
            await generate(b, GenerationRequest(model="m", messages=CHAT))
    text = str(info.value)
    assert "http://127.0.0.1:9/v1/chat/completions" in text
    assert "no content, no finish_reason and no usage" in text
    assert "--max-in-flight 1" in text
    assert info.value.exit_code == 3


async def test_text_without_finish_reason_or_usage_is_refused() -> None:
    body = sse(
        b'{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}', b"[DONE]"
    )
    async with openai_backend(body) as b:
        with pytest.raises(EmptyResponseError, match="never said the answer was complete"):
            await generate(b, GenerationRequest(model="m", messages=CHAT))


async def test_finish_reason_with_no_content_is_refused() -> None:
    body = sse(
        b'{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0}}',
        b"[DONE]",
    )
    async with openai_backend(body) as b:
        with pytest.raises(EmptyResponseError, match=r"\(no content\)"):
            await generate(b, GenerationRequest(model="m", messages=CHAT))


async def test_a_normal_stream_without_usage_still_passes() -> None:
    body = sse(
        b'{"choices":[{"index":0,"delta":{"content":"Hi there"},"finish_reason":null}]}',
        b'{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        b"[DONE]",
    )
    async with openai_backend(body) as b:
        result = await generate(b, GenerationRequest(model="m", messages=CHAT))
    assert result.text == "Hi there" and result.done_reason == "stop"


async def test_ollama_done_with_no_content_is_an_error() -> None:
    body = (
        b'{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant",'
        b'"content":""},"done":true,"done_reason":"stop","total_duration":1000,'
        b'"prompt_eval_count":3,"eval_count":0}\n'
    )
    async with ollama_backend(body) as b:
        with pytest.raises(EmptyResponseError, match="done_reason 'stop' with no content"):
            await generate(b, GenerationRequest(model="m", messages=CHAT))


async def test_asking_for_no_tokens_allows_an_empty_answer() -> None:
    body = sse(
        b'{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}',
        b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0}}',
        b"[DONE]",
    )
    request = GenerationRequest(model="m", messages=CHAT, options=InferenceOptions(num_predict=0))
    async with openai_backend(body) as b:
        result = await generate(b, request)
    assert result.text == "" and result.metrics.output_tokens == 0


async def test_a_stream_asks_for_no_compression() -> None:
    """Lines are read as the bytes arrive: a proxy that gzips when asked must not be asked."""
    plain = sse(
        b'{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}',
        b'{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":1}}',
        b"[DONE]",
    )
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        encoding = request.headers.get("accept-encoding", "")
        asked.append(encoding)
        headers = {"content-type": "text/event-stream"}
        body = plain
        if "gzip" in encoding:
            headers["content-encoding"] = "gzip"
            body = gzip.compress(plain)
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    settings = EndpointSettings(kind="openai", url="http://127.0.0.1:9")
    async with OpenAIBackend(settings, transport=httpx.MockTransport(handler)) as b:
        result = await generate(b, GenerationRequest(model="m", messages=CHAT))
    assert asked == ["identity"] and result.text == "hi"


# Reasoning that never reached an answer, in each shape a server sends it.
OLLAMA_THINKING_CUT = (
    b'{"model":"m","message":{"role":"assistant","content":"","thinking":"Let"},"done":false}\n'
    b'{"model":"m","message":{"role":"assistant","content":"","thinking":" me"},"done":false}\n'
    b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
    b'"done_reason":"length","prompt_eval_count":43,"eval_count":2}\n'
)
OPENAI_REASONING_STOP = sse(
    b'{"choices":[{"index":0,"delta":{"reasoning_content":"Let"},"finish_reason":null}]}',
    b'{"choices":[{"index":0,"delta":{"reasoning_content":" me"},"finish_reason":null}]}',
    b'{"choices":[{"index":0,"delta":{"content":"\\n"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":43,"completion_tokens":3}}',
    b"[DONE]",
)
OLLAMA_THINK_TAG_CUT = (
    b'{"model":"m","message":{"role":"assistant","content":"<think>"},"done":false}\n'
    b'{"model":"m","message":{"role":"assistant","content":"Let"},"done":false}\n'
    b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
    b'"done_reason":"length","prompt_eval_count":43,"eval_count":2}\n'
)


@pytest.mark.parametrize("body", [OLLAMA_THINKING_CUT, OLLAMA_THINK_TAG_CUT])
async def test_reasoning_cut_by_the_cap_is_reasoning_only_in_either_shape(body: bytes) -> None:
    request = GenerationRequest(model="m", messages=CHAT, options=InferenceOptions(num_predict=2))
    async with ollama_backend(body) as b:
        with pytest.raises(ReasoningOnlyError) as info:
            await generate(b, request)
    exc = info.value
    assert isinstance(exc, EmptyResponseError)  # no answer: never a success for its reader
    assert exc.at_cap and exc.result is not None
    # the call as measured: its reasoning tokens were generated, its prompt counted
    m = exc.result.metrics
    assert m.output_tokens == 2 and m.prompt_tokens == 43 and m.chunks == 2
    assert m.ttft_ms is not None and m.ttfot_ms is None
    text = str(exc)
    assert "reasoned and gave no answer" in text and "output-token cap" in text
    assert "one request at a time" not in text  # reasoning streamed: the server served it


async def test_reasoning_that_ends_without_an_answer_is_reasoning_only_not_at_the_cap() -> None:
    async with openai_backend(OPENAI_REASONING_STOP) as b:
        with pytest.raises(ReasoningOnlyError) as info:
            await generate(b, GenerationRequest(model="m", messages=CHAT))
    exc = info.value
    assert not exc.at_cap and exc.result is not None
    assert exc.result.metrics.output_tokens == 3 and exc.result.done_reason == "stop"
    text = str(exc)
    assert "answered with reasoning and no answer (3 tokens, finish reason 'stop')" in text
    assert "reasoned and gave no answer" in text and "one request at a time" not in text


async def test_an_empty_completion_carries_what_the_server_counted() -> None:
    body = (
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
        b'"done_reason":"stop","prompt_eval_count":3,"eval_count":0}\n'
    )
    async with ollama_backend(body) as b:
        with pytest.raises(EmptyResponseError) as info:
            await generate(b, GenerationRequest(model="m", messages=CHAT))
    assert not isinstance(info.value, ReasoningOnlyError)  # no reasoning came
    assert info.value.result is not None and info.value.result.metrics.prompt_tokens == 3
