"""Chimera's one statistics vocabulary: describing a sample (``summary``) and comparing two
(``significance``). A value module: it imports no layer (scipy on first use)."""

from chimera.stats.significance import (
    Difference,
    PairedComparison,
    cohen_d,
    compare_paired,
    compare_samples,
    effect_label,
    welch,
    welch_interval,
)
from chimera.stats.summary import (
    CONFIDENCE,
    Spread,
    Summary,
    describe,
    percentile,
    summarize,
    t_quantile,
    t_sf_two_sided,
)

__all__ = [
    "CONFIDENCE",
    "Difference",
    "PairedComparison",
    "Spread",
    "Summary",
    "cohen_d",
    "compare_paired",
    "compare_samples",
    "describe",
    "effect_label",
    "percentile",
    "summarize",
    "t_quantile",
    "t_sf_two_sided",
    "welch",
    "welch_interval",
]
