"""Statistics per (model, configuration, metric, source family), failed observations excluded.

Definitions (docs/ingest.md): n counts the observations used; std is the sample standard
deviation (n-1), None below two; cv = std / mean; p05/p95/median interpolate linearly between
order statistics (numpy's default, 'linear'). Failed observations are counted in ``n_failed``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter

from pydantic import BaseModel, ConfigDict, Field

from chimera.ingest.facts import Config, Fact, config_label
from chimera.stats import percentile


class Stat(BaseModel):
    """Summary of one group of observations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None
    config: dict[str, str]
    metric: str
    unit: str
    source: str = Field(description="source family, e.g. param_tuning.csv")
    origin: str = Field(description="data (CSV/JSON) or table (Markdown tables)")
    n: int
    n_failed: int
    mean: float | None
    median: float | None
    std: float | None
    cv: float | None
    min: float | None
    max: float | None
    p05: float | None
    p95: float | None
    files: list[str] = Field(description="the first 20 files of the group, sorted")
    n_files: int = Field(0, description="files in the group")

    @property
    def config_label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items()) if self.config else "-"

    @property
    def key(self) -> tuple[str | None, str, str, str]:
        return (self.model, self.config_label, self.metric, self.source)


def summarize(values: Iterable[float]) -> dict[str, float | None]:
    """n, mean, median, std, cv, min, max, p05, p95 of finite values (pure)."""
    xs = sorted(v for v in values if math.isfinite(v))
    n = len(xs)
    if n == 0:
        return dict.fromkeys(("mean", "median", "std", "cv", "min", "max", "p05", "p95"))
    if n == 1:
        return _summary_of_one(xs[0])
    mean = math.fsum(xs) / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    return {
        "mean": mean,
        "median": percentile(xs, 50),
        "std": std,
        "cv": std / mean if mean != 0 else None,
        "min": xs[0],
        "max": xs[-1],
        "p05": percentile(xs, 5),
        "p95": percentile(xs, 95),
    }


def _summary_of_one(x: float) -> dict[str, float | None]:
    """summarize([x]) for a finite x (most groups of a small tree), without the sums and
    percentile calls: x + 0.0 is their arithmetic (fsum([-0.0]) and x + (x - x) * 0 are 0.0)."""
    one = x + 0.0
    return {
        "mean": one,
        "median": one,
        "std": None,
        "cv": None,
        "min": x,
        "max": x,
        "p05": one,
        "p95": one,
    }


GroupKey = tuple[str | None, Config, str, str, str]


def group_observations(facts: Iterable[Fact]) -> dict[GroupKey, list[Fact]]:
    """Observations (not summary figures, not prose) of recognized metrics, grouped."""
    groups: dict[GroupKey, list[Fact]] = {}
    for f in facts:
        if f.aggregate is not None or not f.recognized or f.origin == "prose":
            continue
        key = (f.model, f.config, f.metric, f.family, f.origin)
        bucket = groups.get(key)
        if bucket is None:
            groups[key] = [f]
        else:
            bucket.append(f)
    return groups


def compute_stats(facts: Iterable[Fact]) -> list[Stat]:
    """One Stat per (model, configuration, metric, source family); deterministic order."""
    keyed: list[tuple[tuple[str, str, str, str], Stat]] = []
    # groups share configurations: a dict and a label each (validation copies the dict)
    configs: dict[Config, tuple[dict[str, str], str]] = {}
    for (model, config, metric, family, origin), group in group_observations(facts).items():
        if len(group) == 1:  # most groups of a small tree
            ok = [] if group[0].failed else [group[0].value]
            files = [group[0].source]
            summary = _summary_of_one(ok[0]) if ok and math.isfinite(ok[0]) else summarize(ok)
        else:
            ok = [f.value for f in group if not f.failed]
            files = sorted({f.source for f in group})
            summary = summarize(ok)
        shared = configs.get(config)
        if shared is None:
            settings = dict(config)
            shared = configs[config] = (settings, config_label(tuple(settings.items())))
        # model_validate of a dict: a third faster than keyword arguments, the same checks
        fields: dict[str, object] = {
            "model": model,
            "config": shared[0],
            "metric": metric,
            "unit": group[0].unit,
            "source": family,
            "origin": origin,
            "n": len(ok),
            "n_failed": len(group) - len(ok),
            "files": files[:20],
            "n_files": len(files),
            **summary,
        }
        keyed.append(((model or "~", metric, shared[1], family), Stat.model_validate(fields)))
    keyed.sort(key=itemgetter(0))  # stable: equal keys keep their order
    return [stat for _, stat in keyed]
