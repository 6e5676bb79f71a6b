"""Open-loop send schedules: when each request goes out, in seconds from the level's start.

Gaps between arrivals are drawn from numpy's seeded ``Generator``: constant (``1/R``),
Poisson (exponential gaps, mean ``1/R``) or gamma (shape ``B``, scale ``1/(R*B)``: the same
mean rate; ``B`` = 1 is Poisson, below 1 burstier, above 1 steadier).

A level whose request counts are known before it starts (``paced``) has its drawn gaps
scaled so that its measured requests span exactly their count at the rate: a Poisson run of
1,200 requests at 20 req/s is otherwise 60 s +- 2.9% long by the draw alone (vLLM's
``vllm bench serve`` scales its gaps the same way, to keep a run's throughput from depending
on its seed). The gaps keep their drawn shape; only the count in a window is no longer
Poisson-spread.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from chimera.load.spec import Arrival

_BLOCK = 1024  # gaps drawn at a time: a level of any length, memory of one block


def gaps(
    arrival: Arrival, rate_rps: float, burstiness: float, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` gaps between consecutive arrivals, seconds."""
    if rate_rps <= 0:
        raise ValueError("rate_rps must be positive")
    if arrival == "constant":
        return np.full(n, 1.0 / rate_rps)
    if arrival == "poisson":
        return rng.exponential(1.0 / rate_rps, n)
    return rng.gamma(burstiness, 1.0 / (rate_rps * burstiness), n)


def schedule(
    arrival: Arrival,
    rate_rps: float,
    burstiness: float = 1.0,
    seed: int | tuple[int, ...] = 0,
) -> Iterator[float]:
    """Send times from 0 on, without end: the first request goes at 0, each later one a gap
    after the one before."""
    rng = np.random.default_rng(seed)
    t = 0.0
    yield t
    while True:
        for gap in gaps(arrival, rate_rps, burstiness, rng, _BLOCK).tolist():
            t += gap
            yield t


def paced(
    arrival: Arrival,
    rate_rps: float,
    counts: Sequence[int],
    burstiness: float = 1.0,
    seed: int | tuple[int, ...] = 0,
) -> Iterator[float]:
    """Send times for segments of known counts (a level's warm-up, then its measured
    requests): a segment of ``n`` starts ``n / R`` after the one before, and its ``n - 1``
    gaps, drawn as by ``schedule``, are scaled to add up to ``(n - 1) / R``, so its own rate
    (``(n - 1) / span``) is ``R`` exactly. Nothing follows the last segment.

    Memory of one block whatever the count: a segment's gaps are drawn twice from the same
    generator state, once to sum them and once to send them."""
    rng = np.random.default_rng(seed)
    start = 0.0
    for n in counts:
        if n <= 0:
            continue
        blocks = [_BLOCK] * ((n - 1) // _BLOCK) + [(n - 1) % _BLOCK]
        state = rng.bit_generator.state
        drawn = sum(float(gaps(arrival, rate_rps, burstiness, rng, k).sum()) for k in blocks)
        rng.bit_generator.state = state
        scale = (n - 1) / rate_rps / drawn if drawn > 0 else 1.0
        t = start
        yield t
        for k in blocks:
            for gap in (gaps(arrival, rate_rps, burstiness, rng, k) * scale).tolist():
                t += gap
                yield t
        start += n / rate_rps


def ramp_schedule(
    arrival: Arrival,
    rate_rps: float,
    span_s: float,
    burstiness: float = 1.0,
    seed: int | tuple[int, ...] = 0,
) -> Iterator[float]:
    """Send times whose rate rises linearly from 0 to ``rate_rps`` over ``span_s``.

    The unit-rate schedule is stretched by the inverse of the cumulative rate
    ``rate_rps * t**2 / (2 * span_s)``, so each arrival kind keeps its shape (a Poisson ramp
    is a non-homogeneous Poisson process) while the rate climbs.
    """
    if span_s <= 0:
        raise ValueError("a ramp needs a positive span")
    for s in schedule(arrival, 1.0, burstiness, seed):
        yield math.sqrt(2.0 * span_s * s / rate_rps)
