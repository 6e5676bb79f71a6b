"""One metric vocabulary: the figures of a call (``chimera.calls.CallMetrics``) with their
units and direction, and the names ingested artifacts use for the same figures (pure data).

Ingestion normalizes artifact columns to its canonical names (``tokens_per_s``, ``ttft_s``,
...); calls, sweeps and the store speak the call names (``decode_tokens_per_s``,
``ttft_ms``, ...). This table is the one bridge between the two, so that a CSV of old results
and a stored run compare on the same metric in the same unit.
"""

from __future__ import annotations

# The per-run figures of a call, in the order tables show them, with their units.
CALL_METRIC_UNITS: dict[str, str] = {
    "decode_tokens_per_s": "tok/s",
    "ttft_ms": "ms",
    "load_ms": "ms",
    "prompt_eval_ms": "ms",
    "eval_ms": "ms",
    "e2e_ms": "ms",
    "prompt_tokens": "tokens",
    "output_tokens": "tokens",
}
# Figures where a smaller value is the better one (for verdicts and objectives).
LOWER_IS_BETTER = frozenset({"ttft_ms", "load_ms", "prompt_eval_ms", "eval_ms", "e2e_ms"})

# Ingest's canonical metric -> (the call metric, the unit to convert a value to; "" = as is).
INGEST_TO_CALL: dict[str, tuple[str, str]] = {
    "tokens_per_s": ("decode_tokens_per_s", ""),
    "ttft_s": ("ttft_ms", "ms"),
    "load_s": ("load_ms", "ms"),
    "prompt_eval_s": ("prompt_eval_ms", "ms"),
    "eval_s": ("eval_ms", "ms"),
    "latency_ms": ("e2e_ms", "ms"),
    "prompt_eval_count": ("prompt_tokens", ""),
    "eval_count": ("output_tokens", ""),
}
# The unit a column without one is read in: the canonical metric's own.
INGEST_DEFAULT_UNIT: dict[str, str] = {
    "ttft_s": "s",
    "load_s": "s",
    "prompt_eval_s": "s",
    "eval_s": "s",
}
