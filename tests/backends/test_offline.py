"""The offline backend streams its responder's text with measured client-side metrics."""

from __future__ import annotations

from chimera.backends.base import GenerationRequest, TextChunk, create_backend, generate
from chimera.backends.offline import OfflineBackend
from chimera.options import InferenceOptions


async def test_streams_responder_text_exactly() -> None:
    text = "Alpha beta\n\n- gamma  delta\n"
    backend = OfflineBackend(responder=lambda r: text)
    chunks = [e async for e in backend.stream(GenerationRequest(model="x", prompt="p"))]
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == text
    result = await generate(backend, GenerationRequest(model="x", prompt="p"))
    assert result.text == text and result.backend == "offline"
    m = result.metrics
    assert m.output_tokens == 5 and "output_tokens" in m.estimated
    assert m.load_ms is None and m.prompt_eval_ms is None  # no server, no made-up timings
    assert m.e2e_ms is not None and m.ttft_ms is not None and m.e2e_ms >= m.ttft_ms


async def test_num_predict_truncates_and_registry_knows_offline() -> None:
    backend = create_backend(kind="offline")
    req = GenerationRequest(model="x", prompt="p", options=InferenceOptions(num_predict=3))
    result = await generate(backend, req)
    assert result.done_reason == "length" and result.metrics.chunks == 3
