"""Server telemetry: Prometheus pages read by engine, Ollama's /api/ps, sampled per level."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chimera.errors import ConfigError
from chimera.load.telemetry import (
    engine_figures,
    metrics_probe,
    ollama_ps_probe,
    on_level_clock,
    parse_prometheus,
    sample,
)
from chimera.testing import TestServer

LLAMACPP = """\
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 3
llamacpp:requests_deferred 5
llamacpp:kv_cache_usage_ratio 0.25
"""
VLLM = """\
vllm:num_requests_running{model_name="m"} 2.0
vllm:num_requests_running{model_name="n"} 1.0
vllm:num_requests_waiting{model_name="m"} 0.0
vllm:gpu_cache_usage_perc{model_name="m"} 0.5
vllm:num_preemptions_total{model_name="m"} NaN
"""


def test_prometheus_text_is_summed_over_labels() -> None:
    m = parse_prometheus(VLLM)
    assert m["vllm:num_requests_running"] == 3.0
    assert "vllm:num_preemptions_total" not in m  # NaN is no value


@pytest.mark.parametrize(
    ("text", "engine", "figures"),
    [
        (LLAMACPP, "llamacpp",
         {"requests_running": 3.0, "requests_waiting": 5.0, "kv_cache_usage": 0.25}),
        (VLLM, "vllm", {"requests_running": 3.0, "requests_waiting": 0.0, "kv_cache_usage": 0.5}),
        ("sglang:num_running_reqs 4\n", "sglang", {"requests_running": 4.0}),  # the rest absent
    ],
)  # fmt: skip
def test_each_engine_by_its_own_names(text: str, engine: str, figures: dict[str, float]) -> None:
    assert engine_figures(parse_prometheus(text)) == (engine, figures)


def test_an_unknown_engine_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no engine Chimera knows"):
        engine_figures(parse_prometheus("process_cpu_seconds_total 1.5\ntgi:queue_size 2\n"))


async def test_the_metrics_probe_reads_the_page() -> None:
    transport = httpx.MockTransport(lambda req: httpx.Response(200, text=LLAMACPP))
    async with httpx.AsyncClient(base_url="http://m", transport=transport) as client:
        row = await metrics_probe(client)()
    assert row == {
        "engine": "llamacpp", "requests_running": 3.0, "requests_waiting": 5.0,
        "kv_cache_usage": 0.25,
    }  # fmt: skip


async def test_ollama_ps_says_what_is_on_the_cpu_once_loaded() -> None:
    async with (
        TestServer(fast=True) as srv,
        httpx.AsyncClient(base_url=srv.url) as client,
    ):
        probe = ollama_ps_probe(client, "tiny")
        assert await probe() == {"loaded": False}
        await client.post("/api/generate", json={"model": "tiny:latest", "prompt": "hi"})
        row = await probe()
    assert row["on_cpu_bytes"] == row["model_bytes"] - row["vram_bytes"]


async def test_ollama_ps_leaves_out_what_the_server_did_not_send() -> None:
    page = {"models": [{"name": "tiny:latest", "size": 1000}]}  # no size_vram
    transport = httpx.MockTransport(lambda req: httpx.Response(200, json=page))
    async with httpx.AsyncClient(base_url="http://m", transport=transport) as client:
        row = await ollama_ps_probe(client, "tiny")()
    assert row == {"model_bytes": 1000}  # neither null nor 0 for the VRAM


async def test_samples_go_on_the_levels_clock_and_failures_are_rows() -> None:
    calls = 0

    async def flaky() -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise httpx.ConnectError("refused")
        return {"requests_running": float(calls)}

    rows: list[dict[str, object]] = []
    task = asyncio.create_task(sample([flaky], rows, interval_s=0.001))
    while len(rows) < 3:  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    task.cancel()
    t0 = int(rows[0]["t_ns"])  # type: ignore[call-overload]
    out = on_level_clock(rows, t0)
    assert out[0]["t_s"] == 0.0 and "t_ns" not in out[0]
    assert out[1]["error"] == "refused" and out[2]["requests_running"] == 3.0
