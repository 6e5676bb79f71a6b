"""Arrival schedules: the right mean rate and dispersion for each kind (seeded)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from chimera.load.arrivals import gaps, paced, ramp_schedule, schedule


def _gaps(arrival: str, rate: float, burstiness: float = 1.0, n: int = 20_000) -> np.ndarray:
    times = list(itertools.islice(schedule(arrival, rate, burstiness, seed=7), n + 1))  # type: ignore[arg-type]
    assert times[0] == 0.0
    return np.diff(times)


def test_constant_gaps_are_exact() -> None:
    assert np.allclose(_gaps("constant", 4.0, n=100), 0.25)


def test_poisson_has_the_mean_rate_and_exponential_spread() -> None:
    g = _gaps("poisson", 20.0)
    assert 1 / g.mean() == pytest.approx(20.0, rel=0.03)
    assert g.std() / g.mean() == pytest.approx(1.0, rel=0.05)  # exponential: CV 1


@pytest.mark.parametrize("burstiness", [0.25, 4.0])
def test_gamma_keeps_the_rate_and_sets_the_spread(burstiness: float) -> None:
    g = _gaps("gamma", 10.0, burstiness)
    assert 1 / g.mean() == pytest.approx(10.0, rel=0.05)
    assert g.std() / g.mean() == pytest.approx(1 / np.sqrt(burstiness), rel=0.05)


def test_a_seed_repeats_its_schedule() -> None:
    a = list(itertools.islice(schedule("poisson", 5.0, seed=3), 50))
    b = list(itertools.islice(schedule("poisson", 5.0, seed=3), 50))
    c = list(itertools.islice(schedule("poisson", 5.0, seed=4), 50))
    assert a == b != c


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate"):
        gaps("poisson", 0.0, 1.0, np.random.default_rng(0), 3)


def test_a_constant_ramp_stretches_unit_steps() -> None:
    times = list(itertools.islice(ramp_schedule("constant", 10.0, 20.0), 5))
    assert times == pytest.approx([np.sqrt(2 * 20.0 * k / 10.0) for k in range(5)])


def test_a_poisson_ramp_rises_linearly() -> None:
    # rate 0 -> 100 req/s over 100 s: 5,000 arrivals, a quarter of them in the first half
    ramp = ramp_schedule("poisson", 100.0, 100.0, seed=5)
    times = np.array(list(itertools.takewhile(lambda t: t < 100.0, ramp)))
    assert len(times) == pytest.approx(5000, rel=0.05)
    assert (times < 50.0).mean() == pytest.approx(0.25, abs=0.02)
    last = times[times > 90.0]
    assert len(last) / 10.0 == pytest.approx(95.0, rel=0.1)  # the rate near the end


@pytest.mark.parametrize(("arrival", "burstiness"), [("poisson", 1.0), ("gamma", 0.5)])
@pytest.mark.parametrize("seed", range(5))
def test_paced_segments_hold_the_rate_exactly(arrival: str, burstiness: float, seed: int) -> None:
    # 20 req/s for 1,200 requests: unscaled, the draw alone is 60 s +- 2.9%
    times = np.array(list(paced(arrival, 20.0, [30, 1200], burstiness, seed)))  # type: ignore[arg-type]
    assert len(times) == 1230 and times[0] == 0.0
    warm, measured = times[:30], times[30:]
    assert warm[-1] < 1.5 and measured[0] == pytest.approx(1.5)  # the warm-up's 30 at 20/s
    assert (len(measured) - 1) / (measured[-1] - measured[0]) == pytest.approx(20.0, rel=1e-9)
    g = np.diff(measured)
    assert (g > 0).all()
    assert g.std() / g.mean() == pytest.approx(1 / np.sqrt(burstiness), rel=0.1)  # its shape


def test_paced_constant_is_the_plain_constant_schedule() -> None:
    assert list(paced("constant", 4.0, [3, 5])) == pytest.approx([k / 4.0 for k in range(8)])


def test_paced_draws_repeat_with_the_seed_and_skip_empty_segments() -> None:
    a = list(paced("poisson", 5.0, [0, 40], seed=3))
    b, c = list(paced("poisson", 5.0, [40], seed=3)), list(paced("poisson", 5.0, [40], seed=4))
    assert a == b != c
    assert list(paced("poisson", 5.0, [1])) == [0.0]


def test_paced_holds_a_long_segment_in_blocks() -> None:
    n = 3 * 1024 + 5  # across blocks: the sum and the sent gaps are the same draws
    times = np.fromiter(paced("poisson", 100.0, [n], seed=1), float)
    assert len(times) == n
    assert times[-1] == pytest.approx((n - 1) / 100.0, rel=1e-12)
    assert (np.diff(times) > 0).all()
