"""Time to first output token: the answer's first token after any reasoning, on the client's
clock, from the stream clock's own timestamps and against the test servers."""

from __future__ import annotations

import pytest

from chimera.backends.base import (
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    TextChunk,
    create_backend,
    generate,
)
from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.calls import CallResult
from chimera.errors import ReasoningOnlyError
from chimera.options import InferenceOptions
from chimera.testing import TestServer, TestServerConfig

MS = 1_000_000


def figures(events: list[tuple[str, str]]) -> tuple[float | None, float | None]:
    """TTFT and TTFOT of a stream starting at 0 with one event a millisecond from 10 ms:
    ("c", text) is content, ("r", text) reasoning sent apart."""
    clock = StreamClock(0)
    for i, (kind, text) in enumerate(events):
        t = (10 + i) * MS
        clock.reasoning(t) if kind == "r" else clock.content(t, text)
    clock.end_ns = (11 + len(events)) * MS
    m = compute_metrics(clock, ServerTimings(), "stop")
    return m.ttft_ms, m.ttfot_ms


def test_without_reasoning_ttfot_is_ttft() -> None:
    assert figures([("c", "Hello"), ("c", " world")]) == (10, 10)
    assert figures([("c", "\n"), ("c", "Hello")]) == (10, 10)  # whitespace first: still TTFT
    assert figures([("c", "<b>bold")]) == (10, 10)
    assert figures([("c", "<th"), ("c", "ings>")]) == (10, 10)  # not a think tag after all


def test_a_think_block_first_in_the_text() -> None:
    think = [("c", "<think>"), ("c", "Let me"), ("c", " see."), ("c", "</think>")]
    assert figures([*think, ("c", "\n\n"), ("c", "Paris")]) == (10, 15)
    assert figures([("c", "<think>x</think>Paris")]) == (10, 10)  # one chunk holds it all
    # tags split over chunks, the answer in the closing tag's chunk
    split = [("c", " <thi"), ("c", "nk>a</th"), ("c", "ink> Paris")]
    assert figures(split) == (10, 12)
    assert figures([*think]) == (10, None)  # reasoning that never reached an answer
    assert figures([("c", "<think>a"), ("c", "b")]) == (10, None)  # cut in its reasoning
    # a think tag later in the answer is the answer's text
    assert figures([("c", "Paris"), ("c", "<think>")]) == (10, 10)


def test_reasoning_sent_apart() -> None:
    assert figures([("r", "Let"), ("r", " me"), ("c", "Paris")]) == (10, 12)
    assert figures([("r", "a"), ("c", "\n\n"), ("c", "Paris")]) == (10, 12)
    assert figures([("r", "a"), ("r", "b")]) == (10, None)


def test_chunks_stamped_without_their_text_count_as_answer() -> None:
    clock = StreamClock(0)  # the in-process engine and offline stamp chunks directly
    clock.chunk_ns.extend([7 * MS, 9 * MS])
    m = compute_metrics(clock, ServerTimings(), "stop")
    assert m.ttft_ms == m.ttfot_ms == 7


ANSWER = "<think>The capital of France is Paris.</think>\n\nParis is the capital."


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("apart", [False, True])
async def test_against_the_test_server(protocol: str, apart: bool) -> None:
    cfg = TestServerConfig(
        protocol=protocol,
        responses=[ANSWER],
        prefill_ms=5,
        token_interval_ms=4,
        reasoning_apart=apart,
    )
    request = GenerationRequest(
        model="tiny:latest", messages=(ChatMessage(role="user", content="capital?"),)
    )
    async with TestServer(cfg) as srv:
        endpoint = EndpointSettings(kind=protocol, url=srv.url)
        async with create_backend(endpoint) as backend:
            events = [e async for e in backend.stream(request)]
    result = events[-1]
    assert isinstance(result, CallResult)
    chunks = [e for e in events if isinstance(e, TextChunk)]
    thought = [c for c in chunks if c.reasoning]
    m = result.metrics
    assert m.ttft_ms is not None and m.ttfot_ms is not None
    assert m.chunks == len(chunks)  # reasoning tokens are tokens: TTFT and ITL count them
    first_answer = next(c for c in chunks if "Paris is" in c.text or c.text.strip() == "Paris")
    # the answer's first token is the chunk TTFOT stamps: exactly, on the same clock
    assert m.ttfot_ms == pytest.approx(m.ttft_ms + (first_answer.t_ns - chunks[0].t_ns) / MS)
    assert first_answer.t_ns > chunks[0].t_ns
    if apart:
        assert result.text == "Paris is the capital."  # reasoning is not the answer's text
        assert "".join(c.text for c in thought) == "The capital of France is Paris."
    else:
        assert result.text == ANSWER and not thought


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("apart", [False, True])
async def test_a_cap_inside_the_reasoning_is_one_outcome_in_either_shape(
    protocol: str, apart: bool
) -> None:
    """4 tokens asked, a 10-token reasoning: the call has reasoning and no answer, whether the
    reasoning came as a <think> block in the text or apart; its result says what was made."""
    cfg = TestServerConfig(protocol=protocol, responses=[ANSWER], fast=True, reasoning_apart=apart)
    request = GenerationRequest(
        model="tiny:latest",
        messages=(ChatMessage(role="user", content="capital?"),),
        options=InferenceOptions(num_predict=4),
    )
    async with (
        TestServer(cfg) as srv,
        create_backend(EndpointSettings(kind=protocol, url=srv.url)) as backend,
    ):
        with pytest.raises(ReasoningOnlyError) as info:
            await generate(backend, request)
    exc = info.value
    assert exc.at_cap and exc.result is not None and exc.result.done_reason == "length"
    m = exc.result.metrics
    assert m.output_tokens == 4 and m.chunks == 4 and m.prompt_tokens is not None
    assert m.ttft_ms is not None and m.ttfot_ms is None  # reasoning never reached an answer
    assert "reasoned and gave no answer" in str(exc)
