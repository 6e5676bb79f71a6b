"""Comparing two samples: Welch's t-test and interval, Mann-Whitney U, effect size; and paired
comparisons run by run.

Pure functions over lists of floats. Welch's t-test and its confidence interval are computed
here from the two summaries (the interval is of ``mean(b) - mean(a)``); scipy supplies the t
distribution and the Mann-Whitney U test. Where a test cannot be done (one observation on a
side, or no spread at all) the result says so in ``reason`` instead of inventing a p-value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chimera.stats.summary import CONFIDENCE, Summary, describe, summarize, t_sf_two_sided


def _scipy_stats() -> Any:
    # Imported on first use: scipy.stats takes about half a second to import, and every
    # chimera command would pay it at start-up (command modules are imported up front).
    from scipy import stats

    return stats


@dataclass(frozen=True, slots=True)
class Difference:
    """B against A: ``diff = mean(b) - mean(a)`` with its CI, tests and effect size."""

    a: Summary
    b: Summary
    diff: float
    pct_change: float | None  # diff / |mean(a)| * 100; None when mean(a) is 0
    ci_low: float | None  # Welch CI of the difference
    ci_high: float | None
    welch_t: float | None
    welch_df: float | None
    welch_p: float | None  # two-sided
    mannwhitney_u: float | None  # U of sample b
    mannwhitney_p: float | None  # two-sided
    cohen_d: float | None  # diff / pooled standard deviation
    reason: str | None  # why the tests could not be done, else None

    @property
    def testable(self) -> bool:
        return self.reason is None


def welch(a: Summary, b: Summary) -> tuple[float, float, float]:
    """Welch's (t, degrees of freedom, two-sided p) for ``mean(b) - mean(a)``.

    Both summaries need a standard deviation and at least one of them a non-zero one.
    """
    if a.std is None or b.std is None:
        raise ValueError("Welch's test needs two or more values per sample")
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    se = math.sqrt(va + vb)
    if se == 0:
        raise ValueError("Welch's test needs some spread in at least one sample")
    t = (b.mean - a.mean) / se
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    p = float(2 * _scipy_stats().t.sf(abs(t), df))
    return t, df, p


def welch_interval(a: Summary, b: Summary, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Welch confidence interval of ``mean(b) - mean(a)``."""
    _, df, _ = welch(a, b)
    assert a.std is not None and b.std is not None  # checked by welch()
    se = math.sqrt(a.std**2 / a.n + b.std**2 / b.n)
    half = float(_scipy_stats().t.ppf(0.5 + confidence / 2, df)) * se
    diff = b.mean - a.mean
    return diff - half, diff + half


def cohen_d(a: Summary, b: Summary) -> float | None:
    """``(mean(b) - mean(a)) / pooled SD``; None without spread or with one value a side."""
    if a.std is None or b.std is None:
        return None
    pooled = math.sqrt(((a.n - 1) * a.std**2 + (b.n - 1) * b.std**2) / (a.n + b.n - 2))
    return None if pooled == 0 else (b.mean - a.mean) / pooled


def effect_label(d: float | None) -> str:
    """Cohen's conventional words for |d|: negligible, small, medium, large."""
    if d is None:
        return "n/a"
    size = abs(d)
    if size < 0.2:
        return "negligible"
    if size < 0.5:
        return "small"
    return "medium" if size < 0.8 else "large"


def compare_samples(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
) -> Difference | None:
    """Everything about B against A; None when a side has no values at all."""
    sa, sb = summarize(a, confidence), summarize(b, confidence)
    if sa is None or sb is None:
        return None
    diff = sb.mean - sa.mean
    pct = None if sa.mean == 0 else diff / abs(sa.mean) * 100.0
    reason: str | None = None
    if sa.n < 2 or sb.n < 2:
        sides = [name for name, s in (("A", sa), ("B", sb)) if s.n < 2]
        reason = (
            f"n=1 on {' and '.join(sides)}: a significance test needs two or more "
            "measurements per side; repeat the runs (--runs)"
        )
    elif sa.std == 0 and sb.std == 0:
        reason = (
            "every measurement is identical within each side (no spread): the tests cannot be done"
        )
    if reason is not None:
        return Difference(
            sa, sb, diff, pct, None, None, None, None, None, None, None, cohen_d(sa, sb), reason
        )
    t, df, p = welch(sa, sb)
    low, high = welch_interval(sa, sb, confidence)
    xs = [float(v) for v in a if not math.isnan(v)]
    ys = [float(v) for v in b if not math.isnan(v)]
    mw = _scipy_stats().mannwhitneyu(ys, xs, alternative="two-sided")
    return Difference(
        sa,
        sb,
        diff,
        pct,
        low,
        high,
        t,
        df,
        p,
        float(mw.statistic),
        float(mw.pvalue),
        cohen_d(sa, sb),
        None,
    )


class PairedComparison(BaseModel):
    """Agent ``b`` minus agent ``a`` on one metric, paired run by run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: str
    b: str
    metric: str
    n: int
    mean_a: float | None
    mean_b: float | None
    mean_diff: float | None = Field(description="mean of (b - a) over the runs")
    ci95_low: float | None
    ci95_high: float | None
    p_value: float | None = Field(
        description="two-sided paired t-test; None below 2 pairs or when every difference is equal"
    )


def compare_paired(
    a: str, b: str, metric: str, values_a: Sequence[float | None], values_b: Sequence[float | None]
) -> PairedComparison:
    """b - a over the runs where both have a value: mean difference, its 95% CI, t-test p."""
    pairs = [
        (float(x), float(y))
        for x, y in zip(values_a, values_b, strict=True)
        if x is not None and y is not None
    ]
    n = len(pairs)
    diffs = describe([y - x for x, y in pairs])
    p = None
    if n >= 2 and diffs.std and diffs.mean is not None:
        p = t_sf_two_sided(diffs.mean / (diffs.std / math.sqrt(n)), n - 1)
    return PairedComparison(
        a=a,
        b=b,
        metric=metric,
        n=n,
        mean_a=math.fsum(x for x, _ in pairs) / n if n else None,
        mean_b=math.fsum(y for _, y in pairs) / n if n else None,
        mean_diff=diffs.mean,
        ci95_low=diffs.ci95_low,
        ci95_high=diffs.ci95_high,
        p_value=p,
    )
