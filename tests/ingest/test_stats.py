"""Statistics: the maths against numpy, and grouping with failed observations counted."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from chimera.ingest.facts import Fact
from chimera.ingest.stats import compute_stats, summarize
from chimera.stats import percentile


@pytest.mark.parametrize(
    "values",
    [
        [76.91, 78.12, 77.73, 77.39, 77.94],
        [29.98707, 0.121263, 0.138286, 0.128, 0.1234],
        [1.0, 2.0],
        [random.Random(3).lognormvariate(0, 1) for _ in range(101)],
    ],
)
def test_summary_matches_numpy(values: list[float]) -> None:
    s = summarize(values)
    a = np.asarray(values)
    assert s["mean"] == pytest.approx(float(a.mean()), rel=1e-12)
    assert s["median"] == pytest.approx(float(np.median(a)), rel=1e-12)
    assert s["std"] == pytest.approx(float(a.std(ddof=1)), rel=1e-12)
    assert s["cv"] == pytest.approx(float(a.std(ddof=1) / a.mean()), rel=1e-12)
    assert (s["min"], s["max"]) == (float(a.min()), float(a.max()))
    assert s["p05"] == pytest.approx(float(np.percentile(a, 5)), rel=1e-12)
    assert s["p95"] == pytest.approx(float(np.percentile(a, 95)), rel=1e-12)


def test_known_small_sample() -> None:
    s = summarize([74.11, 76.96, 76.72, 78.26, 76.88])
    assert s["p05"] == pytest.approx(74.632) and s["p95"] == pytest.approx(78.0)
    assert s["median"] == 76.88 and s["mean"] == pytest.approx(76.586)


def test_edge_cases() -> None:
    one = summarize([5.0])
    assert (one["mean"], one["median"], one["std"], one["cv"], one["p95"]) == (
        5.0,
        5.0,
        None,
        None,
        5.0,
    )
    assert summarize([]) == dict.fromkeys(
        ("mean", "median", "std", "cv", "min", "max", "p05", "p95")
    )
    assert summarize([math.nan, 1.0, math.inf])["mean"] == 1.0
    zero = summarize([-0.0])  # the sums' arithmetic: a mean of 0.0, the minimum as it was
    mean, low = zero["mean"], zero["min"]
    assert mean is not None and low is not None
    assert (math.copysign(1, mean), math.copysign(1, low)) == (1, -1)
    assert summarize([0.0, 0.0])["cv"] is None
    with pytest.raises(ValueError):
        percentile([], 50)


def _fact(
    value: float,
    *,
    failed: bool = False,
    cfg: str = "1",
    family: str = "runs.csv",
    aggregate: str | None = None,
    origin: str = "data",
) -> Fact:
    return Fact(
        "a.csv",
        "row 1",
        origin,
        family,
        "m",
        "field",
        (("num_gpu", cfg),),
        "tokens_per_s",
        aggregate,
        value,
        "tok/s",
        "tokens_s",
        True,
        failed,
        "error: x" if failed else None,
        "error" if failed else None,
        2,
        0,
    )


def test_grouping_excludes_and_counts_failures() -> None:
    facts = [
        _fact(10.0),
        _fact(12.0),
        _fact(0.0, failed=True),
        _fact(math.nan, failed=True),
        _fact(50.0, cfg="2"),
        _fact(99.0, family="summary.csv", aggregate="mean"),
        _fact(7.0, origin="prose"),
    ]
    stats = {s.config_label: s for s in compute_stats(facts)}
    assert set(stats) == {"num_gpu=1", "num_gpu=2"}  # summary figures and prose are not data
    s = stats["num_gpu=1"]
    assert (s.n, s.n_failed, s.mean, s.min, s.source, s.files) == (
        2,
        2,
        11.0,
        10.0,
        "runs.csv",
        ["a.csv"],
    )
    only_failed = compute_stats([_fact(0.0, failed=True)])
    assert (only_failed[0].n, only_failed[0].n_failed, only_failed[0].mean) == (0, 1, None)
