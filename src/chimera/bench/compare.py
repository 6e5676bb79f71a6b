"""``chimera compare``: two samples of runs, metric by metric, with a verdict said plainly.

For each metric both sides measured: the means, the % change from A to B, the 95% CI of the
difference (Welch), Welch's t-test and Mann-Whitney U p-values, Cohen's d, and a verdict. The
verdict follows the chosen test (Welch by default): "no significant difference" when its
p-value is at least alpha, "cannot test" when a side has a single measurement. Two stored runs
of unlike kinds (a load run's requests against a sweep's calls) are refused, not compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.bench.measure import METRICS, UNITS
from chimera.errors import ConfigError
from chimera.metrics_table import LOWER_IS_BETTER
from chimera.stats import CONFIDENCE, Difference, compare_samples, effect_label

TestName = Literal["welch", "mannwhitney"]
TEST_TEXT = {"welch": "Welch's t-test", "mannwhitney": "Mann-Whitney U"}
# Metrics with a better direction; token counts only differ.
HIGHER_IS_BETTER = frozenset({"decode_tokens_per_s"})
# Figures a load run's requests have beyond a call's: the answer's first token (after any
# reasoning) and the time per output token. Units; lower is better for both.
REQUEST_METRIC_UNITS = {"ttfot_ms": "ms", "tpot_ms": "ms"}
_UNITS = {**UNITS, **REQUEST_METRIC_UNITS}
_ORDER = (*METRICS, *REQUEST_METRIC_UNITS)
# Kinds of run whose samples are alike, with what one sample is. A load run's requests share
# the server at a set concurrency or rate, a sweep's calls do not: a load run compares only
# with load runs. Agent runs (Chimera's and the imported demos') compare with each other, which
# is what importing the old demos is for.
ALIKE_KINDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"load"}), "requests sent at a set concurrency or rate"),
    (frozenset({"sweep", "optimize"}), "calls at option settings"),
    (
        frozenset({"run", "multiagent", "legacy-run", "legacy-multiagent"}),
        "agent runs",
    ),
)


class Side(BaseModel):
    """One side of a comparison: a label, where it came from, and its samples per metric."""

    model_config = ConfigDict(extra="forbid")

    label: str
    source: str = Field(description="what was read: a file and selector, or a store run")
    values: dict[str, list[float]] = Field(description="metric -> one value per measured run")
    notes: list[str] = Field(default_factory=list)
    kind: str | None = Field(
        default=None, description="the run's kind (load, sweep, run, ...); None if not known"
    )

    @property
    def n(self) -> int:
        return max((len(v) for v in self.values.values()), default=0)


class MetricComparison(BaseModel):
    """One metric, B against A."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    unit: str
    better: Literal["higher", "lower", "none"]
    difference: Difference | None = Field(description="None when a side has no values")
    significant: bool | None = Field(description="None when the test could not be done")
    p_value: float | None = Field(description="the deciding test's two-sided p-value")
    effect: str = Field(description="Cohen's words for |d|")
    verdict: str
    notes: list[str] = Field(default_factory=list)


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: Side
    b: Side
    alpha: float
    confidence: float
    test: TestName
    metrics: list[MetricComparison]


def _alike(kind: str) -> tuple[frozenset[str], str]:
    """The kinds alike to ``kind`` (itself alone if unknown) and what their samples are."""
    return next((g for g in ALIKE_KINDS if kind in g[0]), (frozenset({kind}), f"{kind} samples"))


def check_alike(a: Side, b: Side) -> None:
    """Refuse two sides from runs of unlike kinds: their samples were measured differently."""
    if a.kind is None or b.kind is None or b.kind in _alike(a.kind)[0]:
        return
    said = []
    for s in (a, b):
        assert s.kind is not None
        said.append(f"{s.label} ({s.source}) is a {s.kind} run: {_alike(s.kind)[1]}")
    can = "; ".join(
        f"a {k} run with {' or '.join([k, *sorted(_alike(k)[0] - {k})])} runs"
        for k in (a.kind, b.kind)
    )
    raise ConfigError(
        f"cannot compare runs of different kinds: {said[0]}; {said[1]}. They were measured "
        f"differently, so their figures are not alike. Compare {can} (chimera runs list "
        "--kind KIND lists them)"
    )


def direction(metric: str) -> Literal["higher", "lower", "none"]:
    if metric in HIGHER_IS_BETTER:
        return "higher"
    lower = metric in LOWER_IS_BETTER or metric in REQUEST_METRIC_UNITS
    return "lower" if lower else "none"


def _p(value: float) -> str:
    return f"p = {value:.3g}" if value >= 0.001 else "p < 0.001"


def verdict(
    metric: str, diff: Difference, alpha: float, test: TestName
) -> tuple[bool | None, float | None, str]:
    """(significant, deciding p-value, the sentence) for one metric's difference."""
    if diff.a.std == 0 and diff.b.std == 0:
        if diff.diff == 0:
            return False, None, "no difference: the same value in every run"
        change = f"{diff.pct_change:+.1f}%" if diff.pct_change is not None else f"{diff.diff:+.4g}"
        return None, None, f"cannot test (no spread on either side); B is {change} in every run"
    if diff.reason is not None:
        return None, None, f"cannot test: {diff.reason}"
    p = diff.welch_p if test == "welch" else diff.mannwhitney_p
    assert p is not None  # a testable difference has both p-values
    if p >= alpha:
        return False, p, f"no significant difference ({_p(p)} ≥ {alpha:g})"
    change = f"{diff.pct_change:+.1f}%" if diff.pct_change is not None else f"{diff.diff:+.4g}"
    up = diff.diff > 0
    better = direction(metric)
    if better == "none":
        word = "higher" if up else "lower"
    else:
        word = "better" if (up == (better == "higher")) else "worse"
    return True, p, f"B is {word}: {change} ({_p(p)} < {alpha:g})"


def mannwhitney_floor(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value the exact Mann-Whitney test can give for these sizes."""
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def test_notes(diff: Difference, alpha: float, test: TestName) -> list[str]:
    """Warnings a reader needs: a test that cannot reach alpha, or tests that disagree."""
    if diff.welch_p is None or diff.mannwhitney_p is None:
        return []
    floor = mannwhitney_floor(diff.a.n, diff.b.n)
    if floor >= alpha and (test == "mannwhitney" or diff.welch_p < alpha):
        return [
            f"with n={diff.a.n} and n={diff.b.n}, Mann-Whitney's smallest possible p is "
            f"{floor:.3g}: it cannot reach {alpha:g}; more runs make it usable"
        ]
    if (diff.welch_p < alpha) != (diff.mannwhitney_p < alpha):
        return [
            f"the tests disagree (Welch p {diff.welch_p:.3g}, Mann-Whitney p "
            f"{diff.mannwhitney_p:.3g}): few runs or outliers; treat the verdict with care"
        ]
    return []


def compare_sides(
    a: Side,
    b: Side,
    *,
    alpha: float = 0.05,
    test: TestName = "welch",
    confidence: float = CONFIDENCE,
    metrics: Sequence[str] | None = None,
) -> Comparison:
    """Every metric both sides have (``metrics`` to choose), in METRICS order first.

    Raises ConfigError when the sides are runs of unlike kinds (``check_alike``).
    """
    check_alike(a, b)
    names = list(metrics) if metrics else [m for m in _ORDER if m in a.values or m in b.values]
    if not metrics:
        names += sorted((set(a.values) | set(b.values)) - set(names))
    out: list[MetricComparison] = []
    for name in names:
        xs, ys = a.values.get(name, []), b.values.get(name, [])
        diff = compare_samples(xs, ys, confidence)
        if diff is None:
            missing = " and ".join(s for s, v in (("A", xs), ("B", ys)) if not v)
            out.append(
                MetricComparison(
                    metric=name,
                    unit=_UNITS.get(name, ""),
                    better=direction(name),
                    difference=None,
                    significant=None,
                    p_value=None,
                    effect="n/a",
                    verdict=f"cannot compare: no {name} values on {missing}",
                )
            )
            continue
        significant, p, text = verdict(name, diff, alpha, test)
        out.append(
            MetricComparison(
                metric=name,
                unit=_UNITS.get(name, ""),
                better=direction(name),
                difference=diff,
                significant=significant,
                p_value=p,
                effect=effect_label(diff.cohen_d),
                verdict=text,
                notes=test_notes(diff, alpha, test),
            )
        )
    return Comparison(a=a, b=b, alpha=alpha, confidence=confidence, test=test, metrics=out)
