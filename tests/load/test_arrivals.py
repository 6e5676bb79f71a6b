"""Arrival schedules: the right mean rate and dispersion for each kind (seeded)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from chimera.load.arrivals import gaps, schedule


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
