"""Statistics over repeated runs: mean, std, CV, Student-t 95% intervals, paired comparisons.

Pure functions of lists of numbers. The t quantiles come from scipy (``scipy.special.stdtrit``
is Student's t inverse CDF; scipy.stats would cost half a second more to import).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

CONFIDENCE = 0.95


class Spread(BaseModel):
    """A metric over n runs. std is the sample standard deviation (n - 1); None below n = 2."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int
    mean: float | None
    std: float | None
    cv_percent: float | None = Field(description="std / |mean| x 100; None when mean is 0")
    ci95_low: float | None = Field(description="mean - t(0.975, n-1) x std / sqrt(n)")
    ci95_high: float | None
    min: float | None
    max: float | None


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


def t_quantile(p: float, df: int) -> float:
    """Student's t inverse CDF."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def t_sf_two_sided(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    from scipy.special import stdtr

    return float(2.0 * stdtr(df, -abs(t)))


def _spread(
    n: int, mean: float | None, std: float | None, half: float | None, xs: list[float] | None
) -> Spread:
    return Spread(
        n=n,
        mean=mean,
        std=std,
        cv_percent=std / abs(mean) * 100.0 if std is not None and mean else None,
        ci95_low=None if half is None or mean is None else mean - half,
        ci95_high=None if half is None or mean is None else mean + half,
        min=min(xs) if xs else None,
        max=max(xs) if xs else None,
    )


def describe(values: Sequence[float]) -> Spread:
    """Mean, std, CV and the 95% confidence interval of the mean of ``values``."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return _spread(0, None, None, None, None)
    mean = math.fsum(xs) / n
    if n == 1:
        return _spread(1, mean, None, None, xs)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * std / math.sqrt(n)
    return _spread(n, mean, std, half, xs)


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
