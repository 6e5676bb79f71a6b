"""A real inference server: llama_cpp.server on loopback, against the in-process engine.

The same tiny GGUF is streamed from ``python -m llama_cpp.server`` with the ``openai``
backend and run in-process with the ``llamacpp`` backend. Both must yield exactly the
tokens asked for with positive, consistent timings; with the same seed and sampling
options they must even produce the same text, which shows both run the same engine the
same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from chimera.backends.base import (
    Backend,
    CallMetrics,
    CallResult,
    ChatMessage,
    GenerationRequest,
    create_backend,
    generate,
)
from chimera.errors import BackendError
from chimera.models import write_tiny_gguf
from chimera.options import InferenceOptions

pytestmark = pytest.mark.real_server

# Spelled out so both sides sample alike: llama_cpp.server's defaults differ from
# Llama.generate's (repeat_penalty 1.1 against 1.0).
SAMPLING = {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp.server")
    return write_tiny_gguf(tmp_path_factory.mktemp("real") / "tiny.gguf").resolve()


@pytest.fixture(scope="module")
def server_url(model: Path) -> Iterator[str]:
    from chimera.testing.llamacpp_server import llama_cpp_server

    with llama_cpp_server(model) as url:  # terminated on leaving, whatever happened
        yield url


@pytest.fixture
async def served(server_url: str) -> AsyncIterator[Backend]:
    async with create_backend(kind="openai", url=server_url) as backend:
        yield backend


@pytest.fixture
async def embedded() -> AsyncIterator[Backend]:
    async with create_backend(kind="llamacpp") as backend:
        yield backend


def request(model: Path, n: int, seed: int, chat: bool) -> GenerationRequest:
    options = InferenceOptions.parse({"num_predict": n, "seed": seed, **SAMPLING})
    if chat:
        messages = (ChatMessage(role="user", content=f"Tell me story number {seed}."),)
        return GenerationRequest(model=str(model), messages=messages, options=options)
    return GenerationRequest(model=str(model), prompt=f"Story {seed}: once upon", options=options)


def assert_timings(m: CallMetrics) -> None:
    assert m.ttft_ms is not None and m.ttft_ms > 0
    assert m.e2e_ms is not None and m.e2e_ms >= m.ttft_ms
    # Tokens that arrive in one packet have a gap of 0 (the client stamps packets as they
    # come off the socket); then the stream alone cannot give a decode time.
    assert m.itl_ms_p50 is not None and m.itl_ms_p50 >= 0
    assert m.itl_ms_p99 is not None and m.itl_ms_p99 >= m.itl_ms_p50
    if "eval_ms" in m.estimated or m.estimated == []:
        assert m.eval_ms is not None and 0 < m.eval_ms <= m.e2e_ms
        assert m.decode_tokens_per_s is not None and m.decode_tokens_per_s > 0
    else:
        assert m.eval_ms is None and m.decode_tokens_per_s is None


@pytest.mark.parametrize("chat", [False, True], ids=["completion", "chat"])
@pytest.mark.parametrize("n", [2, 64])
async def test_server_and_engine_agree(
    served: Backend, embedded: Backend, model: Path, n: int, chat: bool
) -> None:
    seed = n * 10 + chat
    remote = await generate(served, request(model, n, seed, chat))
    local = await generate(embedded, request(model, n, seed, chat))

    for r in (remote, local):
        assert r.done_reason == "length"
        assert r.metrics.output_tokens == r.metrics.chunks == n
        assert_timings(r.metrics)
    assert remote.text == local.text

    # llama_cpp.server streams no usage and no timings: what the stream shows is derived.
    assert remote.endpoint == ("/v1/chat/completions" if chat else "/v1/completions")
    assert set(remote.metrics.estimated) in (
        {"output_tokens", "eval_ms", "decode_tokens_per_s"},
        {"output_tokens"},  # all tokens in one packet: no decode time can be seen
    )
    assert remote.metrics.prompt_tokens is None and remote.metrics.prompt_eval_ms is None

    # In-process, every figure is the engine's own.
    m = local.metrics
    assert m.estimated == []
    assert m.prompt_tokens is not None and m.prompt_tokens > 1
    assert m.prompt_eval_ms is not None and m.prompt_eval_ms > 0
    assert m.e2e_ms is not None and m.server_total_ms is not None
    assert m.server_total_ms <= m.e2e_ms


async def test_engine_load_is_measured_apart(embedded: Backend, model: Path) -> None:
    loaded: CallResult = await embedded.load(str(model))
    assert loaded.metrics.load_ms is not None and loaded.metrics.load_ms > 0
    after = await generate(embedded, request(model, 8, 1, chat=False))
    assert after.metrics.load_ms is None
    assert after.metrics.output_tokens == 8


def test_the_server_is_gone_after_the_block(model: Path) -> None:
    from chimera.testing.llamacpp_server import llama_cpp_server

    with llama_cpp_server(model) as url:
        assert httpx.get(url + "/v1/models").json()["data"][0]["id"] == str(model)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/models")


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    from chimera.testing.llamacpp_server import llama_cpp_server

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(BackendError, match=r"exited with code \d+ before answering") as exc:  # noqa: SIM117
        with llama_cpp_server(bad):
            pass
    assert "bad.gguf" in str(exc.value)  # the tail of the server's own log
