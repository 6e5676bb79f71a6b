"""Metrics maths on recorded streams."""

from __future__ import annotations

import numpy as np
import pytest

from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.stats import percentile

MS = 1_000_000


def clock(start: int, chunks: list[int], end: int) -> StreamClock:
    c = StreamClock(start * MS)
    c.chunk_ns.extend(t * MS for t in chunks)
    c.end_ns = end * MS
    return c


def test_client_side_figures_from_timestamps() -> None:
    c = clock(1000, [1200, 1210, 1220, 1250], 1260)
    m = compute_metrics(c, ServerTimings(), "stop")
    assert m.ttft_ms == 200
    assert m.e2e_ms == 260
    assert m.itl_ms_mean == pytest.approx(50 / 3)
    assert m.itl_ms_p50 == 10
    assert m.itl_ms_p99 == pytest.approx(float(np.percentile([10, 10, 30], 99)))
    assert m.chunks == 4
    assert m.done_reason == "stop"


def test_server_timings_win_and_rates_follow_ollama_definitions() -> None:
    server = ServerTimings(
        load_ns=5 * MS,
        prompt_eval_ns=100 * MS,
        eval_ns=2000 * MS,
        total_ns=2200 * MS,
        prompt_tokens=50,
        output_tokens=100,
    )
    m = compute_metrics(clock(0, [120, 140], 2300), server, "length")
    assert (m.load_ms, m.prompt_eval_ms, m.eval_ms, m.server_total_ms) == (5, 100, 2000, 2200)
    assert m.decode_tokens_per_s == 50.0  # eval_count / eval_duration
    assert m.prefill_tokens_per_s == 500.0
    assert m.output_tokens == 100
    assert m.estimated == []


def test_missing_server_figures_are_estimated_or_left_unknown() -> None:
    m = compute_metrics(clock(0, [100, 110, 120, 130, 140], 150), ServerTimings(), "stop")
    assert m.output_tokens == 5
    assert m.decode_tokens_per_s == pytest.approx(4 / 0.040)
    assert m.eval_ms == pytest.approx(40)
    assert set(m.estimated) == {"output_tokens", "decode_tokens_per_s", "eval_ms"}
    # Nothing can be said about these from the client: unknown, not zero.
    assert m.load_ms is None and m.prompt_eval_ms is None and m.prompt_tokens is None
    assert m.prefill_tokens_per_s is None


def test_empty_stream_has_no_made_up_figures() -> None:
    m = compute_metrics(clock(0, [], 50), ServerTimings(), "stop")
    assert m.ttft_ms is None and m.itl_ms_p50 is None and m.decode_tokens_per_s is None
    assert m.output_tokens is None
    assert m.e2e_ms == 50


@pytest.mark.parametrize("q", [0, 5, 50, 95, 99, 100])
def test_percentile_matches_numpy_linear(q: float) -> None:
    values = sorted([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_call_totals_weigh_calls_by_their_tokens() -> None:
    from chimera.backends.base import CallMetrics
    from chimera.backends.metrics import call_totals

    a = CallMetrics(
        output_tokens=100,
        eval_ms=1000,
        ttft_ms=100,
        e2e_ms=1200,
        load_ms=50,
        prompt_eval_ms=20,
        prompt_tokens=10,
    )
    b = CallMetrics(
        output_tokens=300,
        eval_ms=1000,
        ttft_ms=300,
        e2e_ms=1400,
        load_ms=0,
        prompt_eval_ms=40,
        prompt_tokens=30,
        estimated=["eval_ms"],
    )
    t = call_totals([a, b])
    assert t.decode_tokens_per_s == 200  # 400 tokens in 2 s, not the mean of 100 and 300
    assert (t.ttft_ms, t.e2e_ms, t.output_tokens, t.load_ms) == (200, 2600, 400, 50)
    assert t.estimated == ["eval_ms"]
    unknown = call_totals([a, CallMetrics(output_tokens=5)])
    assert unknown.eval_ms is None and unknown.load_ms is None  # one unknown: the sum is unknown
    assert call_totals([]).decode_tokens_per_s is None


def test_chunks_in_one_packet_give_no_made_up_decode_time() -> None:
    m = compute_metrics(clock(0, [100, 100, 100], 101), ServerTimings(), "stop")
    assert m.itl_ms_p50 == 0 and m.output_tokens == 3
    assert m.eval_ms is None and m.decode_tokens_per_s is None
    assert m.estimated == ["output_tokens"]
