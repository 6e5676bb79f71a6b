"""Mean, std, CV, t intervals and paired comparisons, checked against scipy.stats."""

from __future__ import annotations

import math

import pytest
import scipy.stats

from chimera.stats import compare_paired, describe


def test_describe_matches_scipy_t_interval() -> None:
    xs = [1.9, 2.0, 1.95, 1.98, 2.01]
    s = describe(xs)
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    low, high = scipy.stats.t.interval(0.95, len(xs) - 1, loc=mean, scale=std / math.sqrt(5))
    assert s.n == 5 and s.mean == pytest.approx(mean) and s.std == pytest.approx(std)
    assert s.cv_percent == pytest.approx(std / mean * 100)
    assert s.ci95_low == pytest.approx(low) and s.ci95_high == pytest.approx(high)
    assert (s.min, s.max) == (1.9, 2.01)


def test_describe_small_samples_say_unknown_not_zero() -> None:
    empty = describe([])
    assert empty.n == 0 and empty.mean is None and empty.ci95_low is None
    one = describe([3.0])
    assert one.mean == 3.0 and one.std is None and one.cv_percent is None
    assert one.ci95_low is None and one.min == one.max == 3.0
    zero_mean = describe([-1.0, 1.0])
    assert zero_mean.mean == 0.0 and zero_mean.cv_percent is None  # CV of a zero mean


def test_paired_comparison_matches_scipy_ttest_rel() -> None:
    a = [10.0, 11.0, 9.5, 10.5]
    b = [12.0, 12.5, 11.0, 13.0]
    c = compare_paired("x", "y", "ttft_ms", a, b)
    expected = scipy.stats.ttest_rel(b, a)
    assert c.n == 4 and c.mean_diff == pytest.approx(sum(b) / 4 - sum(a) / 4)
    assert c.p_value == pytest.approx(expected.pvalue)
    assert c.ci95_low is not None and c.ci95_high is not None
    assert c.ci95_low < c.mean_diff < c.ci95_high
    assert (c.a, c.b, c.metric) == ("x", "y", "ttft_ms")


def test_paired_comparison_skips_missing_pairs_and_degenerate_tests() -> None:
    c = compare_paired("x", "y", "m", [1.0, None, 3.0], [2.0, 5.0, None])
    assert c.n == 1 and c.mean_diff == 1.0 and c.p_value is None and c.ci95_low is None
    same = compare_paired("x", "y", "m", [1.0, 2.0], [2.0, 3.0])  # every difference is 1
    assert same.mean_diff == 1.0 and same.p_value is None
    with pytest.raises(ValueError):
        compare_paired("x", "y", "m", [1.0], [1.0, 2.0])
