"""Describing a sample: percentiles, mean, standard deviation, CV and Student-t confidence
intervals of the mean (``Summary`` for comparisons, ``Spread`` for run documents).

Pure functions of lists of numbers. The t quantiles come from scipy (``scipy.special.stdtrit``
is Student's t inverse CDF; scipy.stats would cost half a second more to import).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

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


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of an already sorted list, by linear interpolation
    between order statistics (numpy's default method)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


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


@dataclass(frozen=True, slots=True)
class Summary:
    """A sample's size, centre and spread; ``std`` and the CI need two or more values."""

    n: int
    mean: float
    std: float | None  # sample standard deviation (n - 1)
    sem: float | None  # standard error of the mean
    ci_low: float | None  # 95% (``confidence``) CI of the mean, Student t
    ci_high: float | None
    median: float
    min: float
    max: float


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary | None:
    """The summary of ``values`` (NaNs dropped); None when nothing is left."""
    xs = [float(v) for v in values if not math.isnan(v)]
    if not xs:
        return None
    n = len(xs)
    mean = math.fsum(xs) / n
    std = sem = low = high = None
    if n >= 2:
        std = statistics.stdev(xs)
        sem = std / math.sqrt(n)
        half = t_quantile(0.5 + confidence / 2, n - 1) * sem
        low, high = mean - half, mean + half
    return Summary(n, mean, std, sem, low, high, statistics.median(xs), min(xs), max(xs))
