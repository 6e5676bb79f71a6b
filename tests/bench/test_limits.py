"""One backend per endpoint, shared by its agents, and the in-flight limit per endpoint."""

from __future__ import annotations

import asyncio

import pytest

from chimera.agent.personas import get_persona
from chimera.agent.spec import AgentSpec
from chimera.backends.base import EndpointSettings, GenerationRequest, generate
from chimera.bench.limits import BackendPool
from chimera.errors import ChimeraError, ConfigError
from chimera.ingest.pipeline import ingest_paths
from chimera.options import InferenceOptions
from chimera.testing import TestServer, TestServerConfig


def spec(agent_id: str, url: str | None, kind: str = "ollama") -> AgentSpec:
    return AgentSpec(
        agent_id=agent_id,
        label=agent_id,
        persona=get_persona("insight"),
        model="tiny",
        endpoint=EndpointSettings(kind=kind, url=url),
    )


def request() -> GenerationRequest:
    return GenerationRequest(model="tiny", prompt="hi")


async def test_agents_on_one_endpoint_share_its_backend() -> None:
    async with TestServer() as one, TestServer() as two:
        specs = [spec("a", one.url), spec("b", one.url), spec("c", two.url)]
        specs += [spec("d", None, "offline"), spec("e", None, "offline")]
        async with BackendPool(specs, ingest_paths([])) as pool:
            assert pool["a"] is pool["b"] and pool["a"] is not pool["c"]
            assert pool["d"] is not pool["e"]  # offline: each answers as its own persona
            assert pool.endpoints == 4
            assert pool["a"].kind == "ollama" and pool["a"].url == one.url


async def test_limit_caps_calls_in_flight_per_endpoint_and_keeps_the_kind() -> None:
    async with TestServer(prefill_ms=50, default_tokens=3, token_interval_ms=5) as srv:
        specs = [spec("a", srv.url), spec("b", srv.url)]
        async with BackendPool(specs, ingest_paths([]), max_in_flight=1) as pool:
            assert pool["a"].kind == "ollama" and pool["a"].url == srv.url
            results = await asyncio.gather(*(generate(pool[s], request()) for s in "abab"))
            assert srv.max_in_flight == 1 and srv.generation_requests == 4
            assert all(r.backend == "ollama" for r in results)
            # the slot is free again once each call returned its result
            await asyncio.wait_for(generate(pool["a"], request()), 2)
            loaded = await pool["b"].load("tiny")
            assert loaded.done_reason == "load"


async def test_without_a_limit_calls_overlap() -> None:
    async with TestServer(prefill_ms=50, default_tokens=3, token_interval_ms=5) as srv:
        specs = [spec("a", srv.url), spec("b", srv.url)]
        async with BackendPool(specs, ingest_paths([])) as pool:
            await asyncio.gather(*(generate(pool[s], request()) for s in "abab"))
            assert srv.max_in_flight == 4


async def test_a_failed_call_frees_its_slot() -> None:
    cfg = TestServerConfig(fault="cut", fault_after_tokens=1, default_tokens=3)
    async with (
        TestServer(cfg) as srv,
        BackendPool([spec("a", srv.url)], ingest_paths([]), max_in_flight=1) as pool,
    ):
        for _ in range(2):
            with pytest.raises(ChimeraError, match="ended before it was done"):
                await asyncio.wait_for(generate(pool["a"], request()), 2)
        srv.set_fault("none")
        result = await asyncio.wait_for(generate(pool["a"], request()), 2)
        assert result.text == "tok1 tok2 tok3"


def llama_spec(agent_id: str, **options: object) -> AgentSpec:
    return spec(agent_id, None, "llamacpp").model_copy(
        update={"options": InferenceOptions.parse(options)}
    )


async def test_agents_sharing_an_in_process_model_must_ask_the_same_load() -> None:
    """One load serves every agent on an in-process model: differing load-time options are
    refused before any call, naming both agents; sampling options may differ."""
    same = [llama_spec("a", num_ctx=512, temperature=0.1), llama_spec("b", num_ctx=512)]
    async with BackendPool(same, ingest_paths([]), max_in_flight=1) as pool:
        assert pool["a"] is pool["b"]
        assert "num_ctx" in pool["a"].load_options  # kept through the in-flight limit
    differ = [llama_spec("a", num_ctx=512), llama_spec("b", num_ctx=1024)]
    with pytest.raises(ConfigError, match=r"agents 'a' and 'b' share tiny.*num_ctx"):
        async with BackendPool(differ, ingest_paths([])):
            pass
    # over a server that takes them per call (Ollama reloads by itself), nothing is refused
    async with TestServer() as srv:
        over_http = [
            spec("a", srv.url).model_copy(update={"options": InferenceOptions(num_ctx=512)}),
            spec("b", srv.url).model_copy(update={"options": InferenceOptions(num_ctx=1024)}),
        ]
        async with BackendPool(over_http, ingest_paths([])) as pool:
            assert pool["a"].load_options == frozenset()
