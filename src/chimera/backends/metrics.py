"""Per-call metrics from the client's stream clock and the server's own timings (pure)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from chimera.calls import CallMetrics, CallTotals, call_totals
from chimera.stats import percentile

__all__ = ["CallTotals", "ServerTimings", "StreamClock", "call_totals", "compute_metrics"]

NS_PER_MS = 1_000_000


@dataclass(slots=True)
class ServerTimings:
    """What a server reported about one call, in nanoseconds and tokens; None = not reported."""

    load_ns: int | None = None
    prompt_eval_ns: int | None = None
    eval_ns: int | None = None
    total_ns: int | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None


class StreamClock:
    """Records when the request went out and when each non-empty chunk arrived."""

    __slots__ = ("chunk_ns", "end_ns", "start_ns")

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.chunk_ns: list[int] = []
        self.end_ns: int | None = None


def compute_metrics(
    clock: StreamClock, server: ServerTimings, done_reason: str | None
) -> CallMetrics:
    """Combine client and server measurements into CallMetrics.

    Server figures win where present; where absent, what the stream allows is derived and
    listed in ``estimated``; what cannot be derived stays None.
    """
    estimated: list[str] = []
    times = clock.chunk_ns
    m = CallMetrics(done_reason=done_reason, chunks=len(times))
    if times:
        m.ttft_ms = (times[0] - clock.start_ns) / NS_PER_MS
    if clock.end_ns is not None:
        m.e2e_ms = (clock.end_ns - clock.start_ns) / NS_PER_MS
    if len(times) >= 2:
        gaps = sorted((b - a) / NS_PER_MS for a, b in itertools.pairwise(times))
        m.itl_ms_mean = sum(gaps) / len(gaps)
        m.itl_ms_p50 = percentile(gaps, 50)
        m.itl_ms_p99 = percentile(gaps, 99)

    def ms(ns: int | None) -> float | None:
        return None if ns is None else ns / NS_PER_MS

    m.load_ms = ms(server.load_ns)
    m.prompt_eval_ms = ms(server.prompt_eval_ns)
    m.eval_ms = ms(server.eval_ns)
    m.server_total_ms = ms(server.total_ns)
    m.prompt_tokens = server.prompt_tokens

    m.output_tokens = server.output_tokens
    if m.output_tokens is None and times:
        m.output_tokens = len(times)  # one chunk per token is how every streaming server sends
        estimated.append("output_tokens")

    if m.eval_ms is not None and m.eval_ms > 0 and m.output_tokens is not None:
        m.decode_tokens_per_s = m.output_tokens / (m.eval_ms / 1000.0)
    elif len(times) >= 2:
        # Decode seen from the client: the gaps after the first token, one token each.
        # Chunks that arrived in one packet show no decode time: nothing can be said then.
        span_s = (times[-1] - times[0]) / 1e9
        if span_s > 0:
            m.decode_tokens_per_s = (len(times) - 1) / span_s
            estimated.append("decode_tokens_per_s")
            if m.eval_ms is None:
                m.eval_ms = span_s * 1000.0
                estimated.append("eval_ms")

    if m.prompt_eval_ms is not None and m.prompt_eval_ms > 0 and m.prompt_tokens is not None:
        m.prefill_tokens_per_s = m.prompt_tokens / (m.prompt_eval_ms / 1000.0)
    m.estimated = estimated
    return m
