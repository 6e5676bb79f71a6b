"""Score a report 0-100 from its sections, grounding, findings, recommendations, length and
junk (pure). The formula is written out in docs/factcheck.md."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from chimera.agent.parse import normalize_title

# Points per component; they add up to 100.
WEIGHTS: dict[str, float] = {
    "sections": 25.0,
    "grounding": 30.0,
    "findings": 10.0,
    "recommendations": 10.0,
    "length": 10.0,
    "junk": 15.0,
}
TARGET_FINDINGS = 3
TARGET_RECOMMENDATIONS = 3  # InsightAgent asks for three
JUNK_PENALTY = 5.0  # points per junk finding, up to the component's weight
NO_CLAIMS_CREDIT = 0.5  # share of the grounding points for text that states no number at all


class QualityComponent(BaseModel):
    """One part of the score: its weight, the points it earned and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float
    score: float
    detail: str


class QualityScore(BaseModel):
    """The total (0-100), its components, and one line per component that lost points."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    total: float
    components: list[QualityComponent]
    deductions: list[str]


def score_report(
    *,
    required_sections: Sequence[str],
    present_sections: Sequence[str],
    grounded_ratio: float | None,
    findings: int,
    recommendations: int,
    words: int,
    target_words: tuple[int, int],
    junk: int,
) -> QualityScore:
    """Score one report; raises ValueError on counts below zero, a ratio outside 0..1 or a
    target range that is empty."""
    low, high = target_words
    if not 0 < low <= high:
        raise ValueError(f"target_words must satisfy 0 < low <= high, got {target_words}")
    if min(findings, recommendations, words, junk) < 0:
        raise ValueError("findings, recommendations, words and junk must not be negative")
    if grounded_ratio is not None and not 0.0 <= grounded_ratio <= 1.0:
        raise ValueError(f"grounded_ratio must be within 0..1, got {grounded_ratio}")
    parts = [
        _sections(required_sections, present_sections),
        _grounding(grounded_ratio),
        _count("findings", findings, TARGET_FINDINGS),
        _count("recommendations", recommendations, TARGET_RECOMMENDATIONS),
        _length(words, low, high),
        _junk(junk),
    ]
    components = [
        QualityComponent(
            name=name, weight=WEIGHTS[name], score=round(WEIGHTS[name] * share, 1), detail=detail
        )
        for name, share, detail in parts
    ]
    deductions = [
        f"{c.name}: -{c.weight - c.score:.1f} ({c.detail})"
        for c in components
        if c.score < c.weight
    ]
    return QualityScore(
        total=round(sum(c.score for c in components), 1),
        components=components,
        deductions=deductions,
    )


def section_present(required: str, present: Sequence[str]) -> bool:
    """Whether a required title is among the present ones: equal after normalising, or
    contained as whole words ("Recommendations" in "Recommendations for Optimization")."""
    want = normalize_title(required)
    if not want:
        return True
    pattern = re.compile(rf"(?:^| ){re.escape(want)}(?: |$)")
    return any(pattern.search(normalize_title(title)) for title in present)


def _sections(required: Sequence[str], present: Sequence[str]) -> tuple[str, float, str]:
    if not required:
        return "sections", 1.0, "no sections required"
    missing = [title for title in required if not section_present(title, present)]
    found = len(required) - len(missing)
    detail = f"{found} of {len(required)} required sections present"
    if missing:
        detail += "; missing " + ", ".join(missing)
    return "sections", found / len(required), detail


def _grounding(ratio: float | None) -> tuple[str, float, str]:
    if ratio is None:
        return "grounding", NO_CLAIMS_CREDIT, "no checkable number: an analysis should cite figures"
    return "grounding", ratio, f"{ratio:.0%} of checked numbers grounded in the facts"


def _count(name: str, count: int, target: int) -> tuple[str, float, str]:
    return name, min(count, target) / target, f"{count} {name} (target {target} or more)"


def _length(words: int, low: int, high: int) -> tuple[str, float, str]:
    if words < low:
        return "length", words / low, f"{words} words, below the target {low}-{high}"
    if words > high:
        return "length", high / words, f"{words} words, above the target {low}-{high}"
    return "length", 1.0, f"{words} words, within the target {low}-{high}"


def _junk(junk: int) -> tuple[str, float, str]:
    weight = WEIGHTS["junk"]
    share = max(0.0, weight - JUNK_PENALTY * junk) / weight
    return (
        "junk",
        share,
        f"{junk} junk finding{'s' if junk != 1 else ''} (control tokens, stray script, repetition)",
    )
