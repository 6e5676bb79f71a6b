"""Observations of one metric from the artifacts, grouped per model and configuration for
a distribution plot (pure)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from chimera.ingest.facts import Fact

MAX_ROWS = 24  # a plot with more rows is unreadable; the rest are counted in the caption
UNKNOWN_MODEL = "(model not named)"


@dataclass(frozen=True, slots=True)
class MetricGroups:
    """Rows for ``plot_distributions``: label -> values, all in ``unit``.

    A (model, configuration) with two or more observations is its own row. Configurations
    with a single observation each (one sweep point per setting) are pooled into one row per
    model, labelled with how many settings it holds. ``omitted`` counts the rows cut by
    ``MAX_ROWS`` (the ones with fewest values); ``observations`` counts what was plotted.
    """

    metric: str
    unit: str
    groups: dict[str, list[float]] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # label -> model, to colour by model
    omitted: int = 0
    observations: int = 0
    other_units: int = 0  # observations in another unit than the common one, left out


def _is_observation(f: Fact, metric: str) -> bool:
    return (
        f.metric == metric
        and f.origin == "data"
        and f.aggregate is None
        and not f.failed
        and math.isfinite(f.value)
    )


def metric_groups(facts: Iterable[Fact], metric: str, max_rows: int = MAX_ROWS) -> MetricGroups:
    """Successful observations of ``metric`` in data files (CSV/JSON), grouped (see above)."""
    chosen = [f for f in facts if _is_observation(f, metric)]
    if not chosen:
        return MetricGroups(metric=metric, unit="")
    unit = Counter(f.unit for f in chosen).most_common(1)[0][0]
    same = [f for f in chosen if f.unit == unit]
    by_key: dict[tuple[str, str], list[float]] = {}
    for f in same:
        by_key.setdefault((f.model or UNKNOWN_MODEL, f.config_label), []).append(f.value)
    # (model, sort key, label) -> values; a pooled row sorts after the model's own rows
    rows: dict[tuple[str, int, str], list[float]] = {}
    singles: dict[str, list[tuple[str, float]]] = {}
    for (model, config), values in by_key.items():
        if len(values) >= 2:
            rows[(model, 0, _label(model, config))] = values
        else:
            singles.setdefault(model, []).append((config, values[0]))
    for model, points in singles.items():
        label = (
            _label(model, f"{len(points)} settings, 1 run each")
            if len(points) > 1
            else _label(model, points[0][0])
        )
        rows[(model, 1, label)] = [v for _, v in points]
    kept = sorted(rows, key=lambda k: (-len(rows[k]), k))[:max_rows]
    ordered = sorted(kept)
    groups = {label: rows[(model, rank, label)] for model, rank, label in ordered}
    return MetricGroups(
        metric=metric,
        unit=unit,
        groups=groups,
        models={label: model for model, _, label in ordered},
        omitted=len(rows) - len(kept),
        observations=sum(len(v) for v in groups.values()),
        other_units=len(chosen) - len(same),
    )


def _label(model: str, config: str) -> str:
    return f"{model} · {config}" if config and config != "-" else model
