"""Open-loop send schedules: when each request goes out, in seconds from the level's start.

Gaps between arrivals are drawn from numpy's seeded ``Generator``: constant (``1/R``),
Poisson (exponential gaps, mean ``1/R``) or gamma (shape ``B``, scale ``1/(R*B)``: the same
mean rate; ``B`` = 1 is Poisson, below 1 burstier, above 1 steadier).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

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
