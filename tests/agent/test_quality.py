"""The report quality score: components, weights, deductions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chimera.agent.factcheck import KnownNumber, check_numbers
from chimera.agent.junk import find_junk
from chimera.agent.parse import parse_analysis
from chimera.agent.quality import WEIGHTS, QualityScore, score_report, section_present

SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)
REQUIRED = [
    "Executive Summary",
    "Data Ingestion Summary",
    "Performance Analysis",
    "Key Findings",
    "Recommendations",
]
GOOD: dict[str, Any] = {
    "required_sections": REQUIRED,
    "present_sections": [f"{i}. {title}" for i, title in enumerate(REQUIRED, 1)],
    "grounded_ratio": 1.0,
    "findings": 4,
    "recommendations": 3,
    "words": 350,
    "target_words": (300, 400),
    "junk": 0,
}


def score(**changes: Any) -> QualityScore:
    return score_report(**{**GOOD, **changes})


def points(result: QualityScore) -> dict[str, float]:
    return {c.name: c.score for c in result.components}


def test_weights_add_up_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100
    result = score()
    assert [(c.name, c.weight) for c in result.components] == list(WEIGHTS.items())


def test_a_report_meeting_every_target_scores_100() -> None:
    result = score()
    assert result.total == 100
    assert result.deductions == []


def test_missing_sections() -> None:
    result = score(present_sections=["Executive Summary", "Key Findings", "Recommendations"])
    assert points(result)["sections"] == 15.0  # 3 of 5
    assert result.total == 90.0
    assert result.deductions == [
        "sections: -10.0 (3 of 5 required sections present; missing Data Ingestion Summary, "
        "Performance Analysis)"
    ]


def test_grounding() -> None:
    assert points(score(grounded_ratio=0.5))["grounding"] == 15.0
    assert points(score(grounded_ratio=0.0))["grounding"] == 0.0
    no_numbers = score(grounded_ratio=None)
    assert points(no_numbers)["grounding"] == 15.0
    assert no_numbers.deductions == [
        "grounding: -15.0 (no checkable number: an analysis should cite figures)"
    ]


def test_counts_of_findings_and_recommendations() -> None:
    result = score(findings=1, recommendations=0)
    assert points(result)["findings"] == 3.3
    assert points(result)["recommendations"] == 0.0
    assert points(score(findings=9, recommendations=9)) == points(score())  # no bonus past 3


def test_length_against_target() -> None:
    assert points(score(words=150))["length"] == 5.0
    assert points(score(words=800))["length"] == 5.0
    assert points(score(words=300))["length"] == 10.0
    assert points(score(words=400))["length"] == 10.0
    assert points(score(words=0))["length"] == 0.0
    assert "800 words, above the target 300-400" in score(words=800).deductions[0]


def test_junk() -> None:
    assert points(score(junk=1))["junk"] == 10.0
    assert points(score(junk=2))["junk"] == 5.0
    assert points(score(junk=7))["junk"] == 0.0
    assert score(junk=1).deductions == [
        "junk: -5.0 (1 junk finding (control tokens, stray script, repetition))"
    ]


def test_every_deduction_is_one_line() -> None:
    result = score(
        present_sections=[],
        grounded_ratio=0.25,
        findings=0,
        recommendations=1,
        words=2000,
        junk=3,
    )
    assert len(result.deductions) == 6
    assert all("\n" not in line for line in result.deductions)
    assert result.total == pytest.approx(sum(c.score for c in result.components), abs=0.05)
    assert 0 <= result.total < 20


def test_section_matching() -> None:
    assert section_present("Key Findings", ["**4. Key Findings:**"])
    assert section_present("Recommendations", ["Recommendations for Optimization"])
    assert section_present("Appendix", ["Appendix: Sample Benchmark Data (JSON)"])
    assert not section_present("Key Findings", ["Findings"])
    assert not section_present("Summary", ["Summaryish"])
    assert points(score(required_sections=[]))["sections"] == WEIGHTS["sections"]


@pytest.mark.parametrize(
    "changes",
    [
        {"target_words": (0, 100)},
        {"target_words": (400, 300)},
        {"findings": -1},
        {"junk": -2},
        {"grounded_ratio": 1.5},
    ],
)
def test_invalid_input(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        score(**changes)


def test_seed_report_scores_low() -> None:
    """The worked example in docs/factcheck.md: the seed body against its four counts."""
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    text = SEED_REPORT.read_text(encoding="utf-8")
    body = text[text.index("\n---\n") + 5 : text.index("## Workflow Summary")]
    parsed = parse_analysis(body)
    facts = [
        KnownNumber(44, "JSON files"),
        KnownNumber(28, "CSV files"),
        KnownNumber(29, "Markdown files"),
        KnownNumber(101, "total files"),
    ]
    result = score_report(
        required_sections=[*REQUIRED, "Appendix"],
        present_sections=list(parsed.sections),
        grounded_ratio=check_numbers(body, facts).grounded_ratio,
        findings=len(parsed.findings),
        recommendations=len(parsed.recommendations),
        words=len(body.split()),
        target_words=(300, 400),
        junk=len(find_junk(body)),
    )
    assert points(result) == {
        "sections": 25.0,
        "grounding": 5.0,
        "findings": 10.0,
        "recommendations": 10.0,
        "length": 6.2,
        "junk": 5.0,
    }
    assert result.total == 61.2
