"""Comparison statistics on samples with known answers (by hand and from scipy)."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from chimera.stats import (
    cohen_d,
    compare_samples,
    effect_label,
    summarize,
    welch,
    welch_interval,
)


def test_summary_by_hand() -> None:
    s = summarize([2, 4, 4, 4, 5, 5, 7, 9])
    assert s is not None
    assert (s.n, s.mean, s.median, s.min, s.max) == (8, 5.0, 4.5, 2, 9)
    assert s.std == pytest.approx(math.sqrt(32 / 7))  # sum of squares 32, n - 1 = 7
    assert s.sem == pytest.approx(math.sqrt(32 / 7) / math.sqrt(8))
    # t(0.975, 7) = 2.364624...; half-width 2.364624 * 0.755929 = 1.787479
    assert s.ci_low == pytest.approx(5 - 1.787479, abs=1e-5)
    assert s.ci_high == pytest.approx(5 + 1.787479, abs=1e-5)


def test_summary_of_one_value_has_no_spread_and_empty_is_none() -> None:
    s = summarize([3.5])
    assert s is not None and s.n == 1 and s.mean == 3.5
    assert s.std is None and s.ci_low is None and s.ci_high is None
    assert summarize([]) is None
    assert summarize([float("nan")]) is None


def test_welch_by_hand() -> None:
    # A: mean 2.5, var 5/3; B: mean 4.25, var 59/12; se^2 = 5/12 + 59/48 = 79/48
    a, b = summarize([1, 2, 3, 4]), summarize([2, 3, 5, 7])
    assert a is not None and b is not None
    t, df, p = welch(a, b)
    se2 = 79 / 48
    assert t == pytest.approx(1.75 / math.sqrt(se2))
    assert df == pytest.approx(se2**2 / ((5 / 12) ** 2 / 3 + (59 / 48) ** 2 / 3))
    assert t == pytest.approx(1.364096585, abs=1e-8)
    assert df == pytest.approx(4.824272095, abs=1e-8)
    assert p == pytest.approx(0.232726690, abs=1e-8)
    low, high = welch_interval(a, b)
    assert (low, high) == (pytest.approx(-1.584260857), pytest.approx(5.084260857))


def test_welch_matches_scipy_on_random_samples() -> None:
    rng = random.Random(7)
    for n_a, n_b in ((3, 3), (5, 9), (12, 4), (30, 30)):
        xs = [rng.gauss(100, 10) for _ in range(n_a)]
        ys = [rng.gauss(108, 25) for _ in range(n_b)]
        d = compare_samples(xs, ys)
        assert d is not None and d.testable
        ref = stats.ttest_ind(ys, xs, equal_var=False)
        ci = ref.confidence_interval(0.95)
        assert d.welch_t == pytest.approx(ref.statistic)
        assert d.welch_df == pytest.approx(ref.df)
        assert d.welch_p == pytest.approx(ref.pvalue)
        assert (d.ci_low, d.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
        mw = stats.mannwhitneyu(ys, xs, alternative="two-sided")
        assert (d.mannwhitney_u, d.mannwhitney_p) == (mw.statistic, pytest.approx(mw.pvalue))


def test_mann_whitney_exact_small_samples() -> None:
    d = compare_samples([1, 2, 3], [4, 5, 6])
    assert d is not None
    assert d.mannwhitney_u == 9  # every B above every A: U = 3 x 3
    assert d.mannwhitney_p == pytest.approx(0.1)  # 2 / C(6, 3)
    d = compare_samples([4, 5, 6], [1, 2, 3])
    assert d is not None and d.mannwhitney_u == 0 and d.mannwhitney_p == pytest.approx(0.1)


def test_change_and_effect_size() -> None:
    d = compare_samples([1, 2, 3], [3, 4, 5])
    assert d is not None
    assert d.diff == 2 and d.pct_change == pytest.approx(100.0)
    assert d.cohen_d == pytest.approx(2.0)  # both SDs 1: pooled SD 1
    a, b = summarize([10, 12]), summarize([10, 12, 14])
    assert a is not None and b is not None
    # pooled SD sqrt((1 * 2 + 2 * 4) / 3)
    assert cohen_d(a, b) == pytest.approx(1.0 / math.sqrt(10 / 3))
    assert [effect_label(x) for x in (0.1, -0.3, 0.6, -2.0, None)] == [
        "negligible",
        "small",
        "medium",
        "large",
        "n/a",
    ]


def test_percent_change_of_a_zero_mean_is_none() -> None:
    d = compare_samples([-1, 1], [1, 3])
    assert d is not None and d.pct_change is None and d.diff == 2


def test_one_measurement_a_side_cannot_be_tested() -> None:
    d = compare_samples([10.0], [12.0, 13.0])
    assert d is not None and not d.testable
    assert d.reason is not None and "n=1 on A" in d.reason and "--runs" in d.reason
    assert d.welch_p is None and d.mannwhitney_p is None and d.ci_low is None
    assert d.diff == pytest.approx(2.5)
    both = compare_samples([1.0], [2.0])
    assert both is not None and both.reason is not None and "n=1 on A and B" in both.reason


def test_no_spread_cannot_be_tested_and_one_sided_spread_can() -> None:
    d = compare_samples([5, 5, 5], [5, 5, 5])
    assert d is not None and d.reason is not None and "no spread" in d.reason
    d = compare_samples([5, 5, 5], [6, 7, 8])
    assert d is not None and d.testable
    # se = sqrt(1/3), t = 2 / se = sqrt(12), df = 2; with 2 df, P(T > t) = (1 - t/sqrt(t^2+2)) / 2
    t = math.sqrt(12)
    assert d.welch_t == pytest.approx(t) and d.welch_df == pytest.approx(2.0)
    assert d.welch_p == pytest.approx(1 - t / math.sqrt(14))


def test_no_values_on_a_side_is_none() -> None:
    assert compare_samples([], [1.0, 2.0]) is None
