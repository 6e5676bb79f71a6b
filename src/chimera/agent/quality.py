"""Score a report 0-100 from what it measurably is: its sections, grounded numbers, coverage of
the important facts, data entities named, findings, recommendations, length, repetition,
echoed instructions and junk, with caps that keep noise from scoring well (pure). The formula
is written out in docs/factcheck.md."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from chimera.agent.parse import normalize_title

# Points per component; they add up to 100.
WEIGHTS: dict[str, float] = {
    "sections": 15.0,
    "grounding": 25.0,
    "coverage": 10.0,
    "specificity": 10.0,
    "findings": 5.0,
    "recommendations": 5.0,
    "length": 5.0,
    "repetition": 10.0,
    "echoes": 5.0,
    "junk": 10.0,
}
TARGET_GROUNDED = 5  # grounded numbers for full grounding points
TARGET_ENTITIES = 5  # distinct data entities named for full specificity points
TARGET_FINDINGS = 3
TARGET_RECOMMENDATIONS = 3  # InsightAgent asks for three
ECHO_PENALTY = 2.5  # points per echoed sentence or line
JUNK_PENALTY = 5.0  # points per control token or stray-script run
# A report failing one gate cannot score above the first ceiling, two gates the second, three
# or more the third: a fluent text with no grounded number, no name from the data and its
# sentences going round in circles is noise, however well it is laid out.
CEILINGS = (40.0, 25.0, 10.0)
# Share of the words repeating earlier text that fails the repetition gate and leaves no
# repetition points.
REPEATS_ITSELF = 0.25
MOSTLY_ECHO = 0.25  # share of words echoed from the instructions that fails the echo gate
# A body with none of the required sections and under this share of the target's low end is
# not a report: SmolLM2 writing the sections itself over the Ollama protocol gave 90 words of
# a garbled fact and rambling, and scored 60.7 without this gate.
TOO_SHORT = 1 / 3


@dataclass(frozen=True)
class ReportMeasures:
    """What was measured of one report body (after echoes were removed, except ``words``
    which counts the body as written)."""

    required_sections: Sequence[str]
    present_sections: Sequence[str]
    claims: int  # numbers checked
    grounded: int  # numbers grounded in the facts
    important: Sequence[str]  # the important facts (top models, error-level finding kinds)
    covered: Sequence[str]  # those the report mentions
    entities: Sequence[str]  # data entities it names: models, metrics, configurations, files
    findings: int
    recommendations: int
    words: int  # words of the body once echoes are removed
    target_words: tuple[int, int]
    repeated_share: float = 0.0  # share of words repeating earlier text, 0..1
    repetitions: int = 0  # repetition findings
    echoes: int = 0  # sentences or lines echoed from the instructions
    echoed_share: float = 0.0  # share of the words as written that were echoes, 0..1
    junk: int = 0  # control tokens and stray-script runs


class QualityComponent(BaseModel):
    """One part of the score: its weight, the points it earned and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float
    score: float
    detail: str


class QualityScore(BaseModel):
    """The total (0-100), its components, the caps that applied, and one line per component
    that lost points and per cap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    total: float
    components: list[QualityComponent]
    caps: list[str] = []
    deductions: list[str]


def score_report(m: ReportMeasures) -> QualityScore:
    """Score one report; raises ValueError on counts below zero, shares outside 0..1, more
    grounded numbers than claims, or a target range that is empty."""
    _validate(m)
    parts = [
        _sections(m.required_sections, m.present_sections),
        _grounding(m.claims, m.grounded),
        _coverage(m.important, m.covered),
        _specificity(m.entities),
        _count("findings", m.findings, TARGET_FINDINGS),
        _count("recommendations", m.recommendations, TARGET_RECOMMENDATIONS),
        _length(m.words, *m.target_words),
        _repetition(m.repeated_share, m.repetitions),
        _penalty("echoes", m.echoes, ECHO_PENALTY, "sentence(s) echoed from the instructions"),
        _penalty("junk", m.junk, JUNK_PENALTY, "control token(s) or stray-script run(s)"),
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
    total = round(sum(c.score for c in components), 1)
    caps = _gates(m)
    if m.words == 0:
        ceiling, caps = 0.0, ["the report body is empty"]
    elif caps:
        ceiling = CEILINGS[min(len(caps), len(CEILINGS)) - 1]
    else:
        ceiling = 100.0
    if total > ceiling:
        deductions.append(f"cap: total {total:.1f} capped at {ceiling:.0f} ({'; '.join(caps)})")
        total = ceiling
    return QualityScore(total=total, components=components, caps=caps, deductions=deductions)


def section_present(required: str, present: Sequence[str]) -> bool:
    """Whether a required title is among the present ones: equal after normalising, or
    contained as whole words ("Recommendations" in "Recommendations for Optimization")."""
    want = normalize_title(required)
    if not want:
        return True
    pattern = re.compile(rf"(?:^| ){re.escape(want)}(?: |$)")
    return any(pattern.search(normalize_title(title)) for title in present)


def _validate(m: ReportMeasures) -> None:
    low, high = m.target_words
    if not 0 < low <= high:
        raise ValueError(f"target_words must satisfy 0 < low <= high, got {m.target_words}")
    counts = (m.claims, m.grounded, m.findings, m.recommendations, m.words, m.repetitions)
    if min(*counts, m.echoes, m.junk) < 0:
        raise ValueError("counts (claims, findings, words, junk, ...) must not be negative")
    if m.grounded > m.claims:
        raise ValueError(f"grounded ({m.grounded}) cannot exceed claims ({m.claims})")
    for name in ("repeated_share", "echoed_share"):
        if not 0.0 <= getattr(m, name) <= 1.0:
            raise ValueError(f"{name} must be within 0..1, got {getattr(m, name)}")


def _gates(m: ReportMeasures) -> list[str]:
    """The gates a report fails; each lowers its ceiling (CEILINGS)."""
    failed = []
    if m.grounded == 0:
        failed.append("no grounded number")
    elif m.grounded < m.claims / 2:
        failed.append(
            f"most of its numbers are unsupported ({m.claims - m.grounded} of {m.claims})"
        )
    if not m.entities:
        failed.append("names no model, metric, configuration or file of the data")
    if m.repeated_share >= REPEATS_ITSELF:
        failed.append(f"repeats itself ({m.repeated_share:.0%} of its words)")
    if m.echoed_share >= MOSTLY_ECHO:
        failed.append(f"echoes the instructions ({m.echoed_share:.0%} of its words)")
    no_sections = m.required_sections and not any(
        section_present(title, m.present_sections) for title in m.required_sections
    )
    if no_sections and m.words < m.target_words[0] * TOO_SHORT:
        failed.append(f"not a report: none of the required sections, {m.words} words")
    return failed


def _sections(required: Sequence[str], present: Sequence[str]) -> tuple[str, float, str]:
    if not required:
        return "sections", 1.0, "no sections required"
    missing = [title for title in required if not section_present(title, present)]
    found = len(required) - len(missing)
    detail = f"{found} of {len(required)} required sections present"
    if missing:
        detail += "; missing " + ", ".join(missing)
    return "sections", found / len(required), detail


def _grounding(claims: int, grounded: int) -> tuple[str, float, str]:
    if claims == 0:
        return "grounding", 0.0, "no checkable number: an analysis should cite its figures"
    share = grounded / claims * min(grounded, TARGET_GROUNDED) / TARGET_GROUNDED
    return (
        "grounding",
        share,
        f"{grounded} of {claims} numbers grounded in the facts "
        f"(target: all, and {TARGET_GROUNDED} or more)",
    )


def _coverage(important: Sequence[str], covered: Sequence[str]) -> tuple[str, float, str]:
    if not important:
        return "coverage", 1.0, "nothing important to cover"
    missing = [name for name in important if name not in covered]
    detail = f"{len(important) - len(missing)} of {len(important)} important facts mentioned"
    if missing:
        detail += "; missing " + ", ".join(missing)
    return "coverage", (len(important) - len(missing)) / len(important), detail


def _specificity(entities: Sequence[str]) -> tuple[str, float, str]:
    shown = ", ".join(list(entities)[:4]) + (", ..." if len(entities) > 4 else "")
    detail = f"{len(entities)} data entities named (target {TARGET_ENTITIES})"
    return (
        "specificity",
        min(len(entities), TARGET_ENTITIES) / TARGET_ENTITIES,
        detail + (f": {shown}" if entities else ": no model, metric, configuration or file"),
    )


def _count(name: str, count: int, target: int) -> tuple[str, float, str]:
    return name, min(count, target) / target, f"{count} {name} (target {target} or more)"


def _length(words: int, low: int, high: int) -> tuple[str, float, str]:
    if words < low:
        return "length", words / low, f"{words} words, below the target {low}-{high}"
    if words > high:
        return "length", high / words, f"{words} words, above the target {low}-{high}"
    return "length", 1.0, f"{words} words, within the target {low}-{high}"


def _repetition(share: float, findings: int) -> tuple[str, float, str]:
    return (
        "repetition",
        max(0.0, 1.0 - share / REPEATS_ITSELF),
        f"{share:.0%} of the words repeat earlier text ({findings} repetition finding"
        f"{'s' if findings != 1 else ''})",
    )


def _penalty(name: str, count: int, each: float, what: str) -> tuple[str, float, str]:
    weight = WEIGHTS[name]
    return name, max(0.0, weight - each * count) / weight, f"{count} {what}"
