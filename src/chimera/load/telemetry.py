"""Server telemetry sampled while a level runs, on the level's clock.

Two sources: Ollama's ``/api/ps`` (the model's size and how much of it is in VRAM: what
spilled to the CPU), and a Prometheus ``/metrics`` page read with each engine's own names
(llama.cpp's server, vLLM, SGLang): requests running and waiting, KV cache use. An engine
whose names are not known is an error (its figures would be guesses); a known engine's
missing figure stays absent, never 0. A sample that fails is recorded with its error.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable
from time import perf_counter_ns
from typing import Any

import httpx

from chimera.errors import ChimeraError, ConfigError

# figure -> the engine's metric names, first found wins (engines renamed some over versions)
ENGINES: dict[str, dict[str, tuple[str, ...]]] = {
    "llamacpp": {
        "requests_running": ("llamacpp:requests_processing",),
        "requests_waiting": ("llamacpp:requests_deferred",),
        "kv_cache_usage": ("llamacpp:kv_cache_usage_ratio",),
    },
    "vllm": {
        "requests_running": ("vllm:num_requests_running",),
        "requests_waiting": ("vllm:num_requests_waiting",),
        "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    },
    "sglang": {
        "requests_running": ("sglang:num_running_reqs",),
        "requests_waiting": ("sglang:num_queue_reqs",),
        "kv_cache_usage": ("sglang:token_usage",),
    },
}
_LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)")

Probe = Callable[[], Awaitable[dict[str, Any]]]


def parse_prometheus(text: str) -> dict[str, float]:
    """Metric name -> value, summed over its label sets (Prometheus text format)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m is None or line.startswith("#"):
            continue
        try:
            value = float(m[3])
        except ValueError:
            continue
        if math.isfinite(value):
            out[m[1]] = out.get(m[1], 0.0) + value
    return out


def engine_figures(metrics: dict[str, float]) -> tuple[str, dict[str, float]]:
    """The engine the names belong to and its figures under Chimera's names."""
    prefixes = {name.split(":", 1)[0] for name in metrics if ":" in name}
    engine = next((e for e in ENGINES if e in prefixes), None)
    if engine is None:
        raise ConfigError(
            "--metrics: the page's metrics are of no engine Chimera knows (llama.cpp's "
            "server, vLLM, SGLang); drop --metrics"
        )
    figures = {}
    for figure, names in ENGINES[engine].items():
        found = next((metrics[n] for n in names if n in metrics), None)
        if found is not None:
            figures[figure] = found
    return engine, figures


def metrics_probe(client: httpx.AsyncClient) -> Probe:
    async def probe() -> dict[str, Any]:
        resp = await client.get("/metrics")
        resp.raise_for_status()
        engine, figures = engine_figures(parse_prometheus(resp.text))
        return {"engine": engine, **figures}

    return probe


def ollama_ps_probe(client: httpx.AsyncClient, model: str) -> Probe:
    names = {model} if ":" in model else {model, f"{model}:latest"}

    async def probe() -> dict[str, Any]:
        resp = await client.get("/api/ps")
        resp.raise_for_status()
        for m in resp.json().get("models") or []:
            if m.get("name") in names or m.get("model") in names:
                # a field the server did not send stays absent (never null, never 0)
                size, vram = m.get("size"), m.get("size_vram")
                out: dict[str, Any] = {}
                if isinstance(size, int):
                    out["model_bytes"] = size
                if isinstance(vram, int):
                    out["vram_bytes"] = vram
                if isinstance(size, int) and isinstance(vram, int):
                    out["on_cpu_bytes"] = size - vram
                return out
        return {"loaded": False}

    return probe


async def sample(probes: list[Probe], out: list[dict[str, Any]], interval_s: float = 1.0) -> None:
    """Call every probe each ``interval_s`` until cancelled, each row stamped ``t_ns``
    (perf_counter_ns); a probe that fails leaves its error in the row."""
    while True:
        row: dict[str, Any] = {"t_ns": perf_counter_ns()}
        for probe in probes:
            try:
                row.update(await probe())
            except (httpx.HTTPError, ValueError, ChimeraError) as exc:
                row["error"] = str(exc)[:200] or type(exc).__name__
        out.append(row)
        await asyncio.sleep(interval_s)


def on_level_clock(rows: list[dict[str, Any]], t0_ns: int) -> list[dict[str, Any]]:
    """Rows with ``t_s``, seconds from the level's start, in place of ``t_ns``."""
    return [
        {"t_s": (r["t_ns"] - t0_ns) / 1e9, **{k: v for k, v in r.items() if k != "t_ns"}}
        for r in rows
    ]
