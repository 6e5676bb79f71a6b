"""How the old demos defined each figure they wrote, by origin, stored beside the figures."""

from __future__ import annotations

from typing import Literal

Origin = Literal["python", "rust"]

LEGACY_SPEEDUP_WHY = (
    "not a measurement: the old 'sequential estimate' is the sum of the agents' durations "
    "measured while they ran together, so the old speedup reads near the agent count even "
    "when a server queues every request; Chimera's concurrency_speedup times each agent alone "
    "instead (chimera multiagent)"
)

_COMMON: dict[str, str] = {
    "legacy_concurrency_speedup": "the old concurrency_speedup = sequential estimate / "
    "concurrent wall time; " + LEGACY_SPEEDUP_WHY,
    "efficiency_percent": "the old speedup / 2 x 100 (two agents assumed)",
    "concurrent_wall_time": "launching both agents together to the last one's end",
}

DEFINITIONS: dict[Origin, dict[str, str]] = {
    "python": _COMMON
    | {
        "sequential_estimate": "sum of the two agents' total_duration_ms: the SERVER's "
        "prompt-eval + eval durations while both ran together (no load time, no queueing)",
        "throughput": "throughput_tokens_per_sec = eval_count / eval_duration (the server's "
        "decode rate), tok/s",
        "ttft_ms": "the server's prompt_eval_duration, ms: prefill time only, without load, "
        "queueing or the network; not a time to first token",
        "total_duration_ms": "eval_duration + prompt_eval_duration, ms",
        "wall_clock_ms": "the client's time for the one call, ms",
        "e2e_ms": "wall_clock_ms: the client's time for the agent's one call, ms",
        "throughput_delta": "insight throughput - collector throughput, tok/s",
        "ttft_delta_ms": "insight ttft_ms - collector ttft_ms",
    },
    "rust": _COMMON
    | {
        "sequential_estimate": "sum of the two agents' execution_time_s: each agent's WALL "
        "time while both ran together",
        "throughput": "tokens / eval_duration (the server's decode rate), tok/s, averaged "
        "over the agent's calls",
        "ttft_ms": "the client's time from sending the request to the first streamed chunk, "
        "ms (includes model load and queueing)",
        "total_duration_ms": "the client's time for the whole call, ms",
        "e2e_ms": "total_duration_ms: the client's time for the agent's calls, ms",
        "throughput_delta": "insight throughput - collector throughput, tok/s",
        "ttft_delta_ms": "collector TTFT - insight TTFT (the opposite sign of the Python demo's)",
        "resource_contention_detected": "the old speedup was below 1.5; not a measurement "
        "of contention",
    },
}

SINGLE_DEFINITIONS: dict[str, str] = {
    "throughput": "the agent's average_tokens_per_second over its LLM calls (the server's "
    "decode rate), tok/s",
    "ttft_ms": "the agent's average_ttft_ms over its LLM calls (Python: the server's "
    "prompt_eval_duration; Rust: time to the first streamed chunk)",
    "total_duration_ms": "the agent's total LLM call time, ms",
    "e2e_ms": "total_duration_ms: the agent's total LLM call time, ms",
}

# The first Python multi-agent demo (TR110): flat runs of baseline_*/chimera_* figures in
# seconds, run_N/metrics.json holding each agent's single-agent metrics.
PYTHON_V1: dict[str, str] = _COMMON | {
    "sequential_estimate": "sum of the two agents' execution times (baseline_duration + "
    "chimera_duration): each agent's WALL time while both ran together",
    "throughput": "the agent's average_tokens_per_second over its calls: eval_count / "
    "eval_duration (the server's decode rate), tok/s",
    "ttft_ms": "the agent's average over its calls of the server's prompt_eval_duration, ms: "
    "prefill only; not a time to first token",
    "total_duration_ms": "the agent's LLM call durations, summed, ms",
    "e2e_ms": "total_duration_ms: the agent's LLM call durations, summed, ms",
    "throughput_delta": "chimera (insight) throughput - baseline (collector) throughput, tok/s",
    "ttft_delta_ms": "baseline (collector) TTFT - chimera (insight) TTFT, ms",
    "efficiency_percent": "not written per run; the aggregate's average_efficiency is the "
    "mean old speedup / 2 x 100",
    "resource_contention_detected": "as the old demo judged it; not a measurement",
}


def definitions_for(fmt: str, origin: Origin, multiagent: bool = True) -> dict[str, str]:
    """How the figures of a folder in format ``fmt`` were defined."""
    if not multiagent:
        return SINGLE_DEFINITIONS
    if fmt.startswith("python-multiagent-v1"):
        return PYTHON_V1
    return DEFINITIONS[origin]
