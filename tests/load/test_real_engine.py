"""The load generator against a real engine (llama_cpp.server on loopback, a tiny GGUF): a
request that misses its first-token deadline fails typed and named, the level goes on, and
the server (and the pool's connections) serve the next level whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chimera.load.metrics import summarize
from chimera.load.spec import LoadLevel
from chimera.models import write_tiny_gguf

from .conftest import run_level, spec

pytestmark = [pytest.mark.real_server, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    pytest.importorskip("llama_cpp.server")
    from chimera.testing.llamacpp_server import llama_cpp_server

    model = write_tiny_gguf(tmp_path_factory.mktemp("load") / "tiny.gguf").resolve()
    with llama_cpp_server(model) as url:
        yield url, model


async def test_a_missed_first_token_deadline_on_a_real_engine(server: tuple[str, Path]) -> None:
    url, model = server
    load = spec(LoadLevel(concurrency=2), requests=6)
    # the request goes out (well under a millisecond on loopback); no engine, the tiny model
    # included, has sent its first token 3 ms later
    late = await run_level(url, load, kind="openai", first_token_timeout_s=0.003, model=str(model))
    s = summarize(late)
    assert s.requests_ok == 0 and s.failures_by_type == {"first_token_timeout": 6}
    assert all("--first-token-timeout" in (r.error or "") for r in late.records)
    # the abandoned streams left the server and a new pool whole
    after = await run_level(url, load, kind="openai", model=str(model))
    assert summarize(after).requests_ok == 6
