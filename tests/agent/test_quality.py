"""The report quality score: components, weights, caps, deductions; and its invariants on real
text against the real corpus: noise, an empty body, a report naming nothing from the data and
a self-repeating one score 40 or less, a grounded hand-written report 65 or more."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chimera.agent.check import assess
from chimera.agent.echo import instruction_texts
from chimera.agent.factcheck import KnownNumber
from chimera.agent.known import known_numbers
from chimera.agent.personas import BUILTIN
from chimera.agent.quality import (
    CEILINGS,
    WEIGHTS,
    QualityScore,
    ReportMeasures,
    score_report,
    section_present,
)
from chimera.ingest.digest import render_digest
from chimera.ingest.pipeline import IngestResult, ingest_paths

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "banterhearts"
REQUIRED = [
    "Executive Summary",
    "Data Ingestion Summary",
    "Performance Analysis",
    "Key Findings",
    "Recommendations",
]
GOOD = ReportMeasures(
    required_sections=REQUIRED,
    present_sections=[f"{i}. {title}" for i, title in enumerate(REQUIRED, 1)],
    claims=8,
    grounded=8,
    important=["model a", "model b", "finding summary_mismatch"],
    covered=["model a", "model b", "finding summary_mismatch"],
    entities=["model a", "model b", "metric ttft_s", "config num_gpu", "file r.csv"],
    findings=4,
    recommendations=3,
    words=350,
    target_words=(300, 400),
)


def score(**changes: Any) -> QualityScore:
    return score_report(replace(GOOD, **changes))


def points(result: QualityScore) -> dict[str, float]:
    return {c.name: c.score for c in result.components}


# --- the formula -------------------------------------------------------------------------------


def test_weights_add_up_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100
    result = score()
    assert [(c.name, c.weight) for c in result.components] == list(WEIGHTS.items())


def test_a_report_meeting_every_target_scores_100() -> None:
    result = score()
    assert result.total == 100
    assert result.deductions == [] and result.caps == []


def test_missing_sections() -> None:
    result = score(present_sections=["Executive Summary", "Key Findings", "Recommendations"])
    assert points(result)["sections"] == 9.0  # 3 of 5
    assert result.total == 94.0
    assert result.deductions == [
        "sections: -6.0 (3 of 5 required sections present; missing Data Ingestion Summary, "
        "Performance Analysis)"
    ]


def test_grounding_wants_all_numbers_grounded_and_at_least_five() -> None:
    assert points(score(claims=8, grounded=4))["grounding"] == 10.0  # 25 x 4/8 x 4/5
    assert points(score(claims=2, grounded=2))["grounding"] == 10.0  # 2 of the 5 wanted
    assert points(score(claims=5, grounded=5))["grounding"] == 25.0
    no_numbers = score(claims=0, grounded=0)
    assert points(no_numbers)["grounding"] == 0.0
    assert no_numbers.deductions[0] == (
        "grounding: -25.0 (no checkable number: an analysis should cite its figures)"
    )


def test_coverage_names_what_is_missing() -> None:
    result = score(covered=["model a"])
    assert points(result)["coverage"] == 3.3
    assert result.deductions == [
        "coverage: -6.7 (1 of 3 important facts mentioned; missing model b, "
        "finding summary_mismatch)"
    ]
    assert points(score(important=[], covered=[]))["coverage"] == 10.0  # nothing to cover


def test_specificity_counts_data_entities() -> None:
    assert points(score(entities=["model a", "metric ttft_s"]))["specificity"] == 4.0
    assert points(score(entities=[f"file {i}.csv" for i in range(9)]))["specificity"] == 10.0


def test_counts_of_findings_and_recommendations() -> None:
    result = score(findings=1, recommendations=0)
    assert points(result)["findings"] == 1.7
    assert points(result)["recommendations"] == 0.0
    assert points(score(findings=9, recommendations=9)) == points(score())  # no bonus past 3


def test_length_against_target() -> None:
    assert points(score(words=150))["length"] == 2.5
    assert points(score(words=800))["length"] == 2.5
    assert points(score(words=300))["length"] == 5.0
    assert points(score(words=400))["length"] == 5.0
    assert "800 words, above the target 300-400" in score(words=800).deductions[0]


def test_repetition_points_fall_with_the_share_repeated() -> None:
    assert points(score(repeated_share=0.05, repetitions=1))["repetition"] == 8.0
    assert points(score(repeated_share=0.2, repetitions=3))["repetition"] == 2.0
    assert score(repeated_share=0.05, repetitions=1).deductions == [
        "repetition: -2.0 (5% of the words repeat earlier text (1 repetition finding))"
    ]


def test_echoes_and_junk_cost_points_per_piece() -> None:
    assert points(score(echoes=1, echoed_share=0.02))["echoes"] == 2.5
    assert points(score(echoes=3, echoed_share=0.05))["echoes"] == 0.0
    assert points(score(junk=1))["junk"] == 5.0
    assert points(score(junk=7))["junk"] == 0.0
    assert score(junk=1).deductions == ["junk: -5.0 (1 control token(s) or stray-script run(s))"]


# --- the caps ----------------------------------------------------------------------------------


def test_no_grounded_number_caps_at_40() -> None:
    result = score(grounded=0)
    assert result.total == 40.0
    assert result.caps == ["no grounded number"]
    assert result.deductions[-1].startswith("cap: total 75.0 capped at 40 (no grounded number)")


def test_mostly_unsupported_numbers_cap_at_40() -> None:
    result = score(claims=12, grounded=5)
    assert result.total == 40.0
    assert result.caps == ["most of its numbers are unsupported (7 of 12)"]
    assert score(claims=10, grounded=5).caps == []  # half grounded is not most unsupported


def test_no_sections_and_a_few_words_is_not_a_report() -> None:
    result = score(present_sections=[], words=90)
    assert result.total == 40.0
    assert result.caps == ["not a report: none of the required sections, 90 words"]
    # either alone is a matter of points, not a cap: a team's own layout, a terse report
    assert score(present_sections=[], words=350).caps == []
    assert score(words=90).caps == []
    assert score(required_sections=[], present_sections=[], words=90).caps == []


def test_no_data_entity_caps_at_40() -> None:
    result = score(entities=[])
    assert result.total == 40.0
    assert result.caps == ["names no model, metric, configuration or file of the data"]


def test_repeating_itself_caps_at_40() -> None:
    result = score(repeated_share=0.3, repetitions=2)
    assert result.total == 40.0
    assert result.caps == ["repeats itself (30% of its words)"]
    assert score(repeated_share=0.24).caps == []


def test_echoing_the_instructions_caps_at_40() -> None:
    result = score(echoes=2, echoed_share=0.5)
    assert result.total == 40.0 and result.caps == ["echoes the instructions (50% of its words)"]


def test_every_further_gate_failed_lowers_the_ceiling() -> None:
    assert CEILINGS == (40.0, 25.0, 10.0)
    assert score(grounded=0, entities=[]).total == 25.0
    three = score(grounded=0, entities=[], repeated_share=0.5)
    assert three.total == 10.0 and len(three.caps) == 3
    assert score(grounded=0, entities=[], repeated_share=0.5, echoed_share=0.5).total == 10.0


def test_a_low_total_is_not_raised_by_a_cap() -> None:
    result = score(
        grounded=0, present_sections=[], findings=0, recommendations=0, covered=[], words=100
    )
    assert result.total == 36.7 and not any(d.startswith("cap") for d in result.deductions)


def test_an_empty_body_scores_0() -> None:
    result = score(words=0, claims=0, grounded=0, entities=[], present_sections=[])
    assert result.total == 0.0
    assert result.caps == ["the report body is empty"]
    assert result.deductions[-1].endswith("capped at 0 (the report body is empty)")


def test_every_deduction_is_one_line() -> None:
    result = score(
        present_sections=[],
        claims=4,
        grounded=1,
        covered=[],
        entities=[],
        findings=0,
        recommendations=1,
        words=2000,
        repeated_share=0.4,
        echoes=1,
        echoed_share=0.01,
        junk=3,
    )
    assert len(result.deductions) == len(WEIGHTS)  # no cap line: 6.4 is below every ceiling
    assert all("\n" not in line for line in result.deductions)
    assert result.total == 6.4


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
        {"claims": 2, "grounded": 3},
        {"repeated_share": 1.5},
        {"echoed_share": -0.1},
    ],
)
def test_invalid_input(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        score(**changes)


# --- invariants on real text against the real corpus --------------------------------------------

NOISE_SECTION = (
    "Chimera, a multi-core engine, is designed to optimise the performance in one CPU. "
    "Optimise the performance in one CPU."
)
# What SmolLM2-135M wrote (issue 11): nine sections of the same two sentences, no number.
NOISE = "\n\n".join(
    f"## {i}. {title}\n\n{NOISE_SECTION}"
    for i, title in enumerate(
        [
            "Executive Summary",
            "Data Ingestion Summary",
            "Performance Analysis",
            "Key Findings",
            "Recommendations",
            "Appendix",
            "Chimera",
            "Performance",
            "Conclusion",
        ],
        1,
    )
)
GROUNDED = """\
## 1. Executive Summary

Chimera read 104 files (CSV 28, JSON 44, Markdown 29) holding 3776 measurements of 9 models.
gemma3:270m is the fastest model at 303.9 tok/s, ahead of gemma3:1b-it-qat at 187.2 tok/s and
gemma3:latest at 103.2 tok/s.

## 2. Data Ingestion Summary

- 104 files were read and 2 binary files skipped; 6 files are duplicate copies.
- The folder has 4 error-level data-quality findings: 3 summary mismatches and one file whose
  runs were marked successful while carrying error text.

## 3. Performance Analysis

| model | best tok/s | configuration | best TTFT |
| --- | --- | --- | --- |
| gemma3:270m | 303.9 | num_gpu=999, num_ctx=4096 | 0.05358 s |
| gemma3:1b-it-qat | 187.2 | num_gpu=60, num_ctx=1024 | 0.07421 s |
| gemma3:latest | 103.2 | num_gpu=60, num_ctx=2048 | 0.117 s |

The llama3.1 quantizations slow down as precision rises: q5_K_M reaches 65.18 tok/s and q8_0
46.57 tok/s, with a time to first token of 2.006 s for q8_0.

## 4. Key Findings

- gemma3:270m at num_gpu=999 and num_ctx=4096 is the throughput leader (303.9 tok/s).
- Summary figures in baseline_test_results_1759098967.json do not follow from its own rows.
- Cold first calls were counted as measurements in 14 files, so TTFT means overstate latency.

## 5. Recommendations

1. Serve gemma3:270m with num_gpu=999 when throughput matters most.
2. Drop warm-up runs before averaging TTFT.
3. Regenerate the summaries that disagree with their rows before citing them.

## 6. Appendix

Statistics exclude failed runs; duplicates are counted once.
"""
# Fluent, numbered and grounded in the inventory, but about no model, metric, setting or file.
NO_ENTITY = """\
## 1. Executive Summary

The folder holds 104 files: 28 CSV, 44 JSON and 29 Markdown files. The analysis looks at how
the collection is organised and what a reader should do next with it.

## 4. Key Findings

- 44 JSON files make up the largest group of the collection.
- 29 Markdown files document the work around the benchmarks.

## 5. Recommendations

1. Keep one format for new results.
2. Review the collection every month.
3. Archive what is no longer used.
"""


@pytest.fixture(scope="module")
def corpus_facts() -> tuple[IngestResult, list[KnownNumber]]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/banterhearts is not beside this checkout")
    facts = ingest_paths([CORPUS])
    return facts, known_numbers(facts, [("digest", render_digest(facts, 600))])


def quality_of(text: str, corpus_facts: tuple[IngestResult, list[KnownNumber]]) -> QualityScore:
    facts, known = corpus_facts
    return assess(text, facts, known, instructions=instruction_texts(BUILTIN.values())).quality


def test_noise_scores_at_most_40(corpus_facts: tuple[IngestResult, list[KnownNumber]]) -> None:
    result = quality_of(NOISE, corpus_facts)
    # The old formula gave such a text 83: six sections present and no junk it could see.
    assert result.total == 10.0
    assert result.caps == [
        "no grounded number",
        "names no model, metric, configuration or file of the data",
        "repeats itself (75% of its words)",
    ]


def test_an_empty_text_scores_0(corpus_facts: tuple[IngestResult, list[KnownNumber]]) -> None:
    assert quality_of("", corpus_facts).total == 0.0
    assert quality_of("\n\n  \n", corpus_facts).total == 0.0


def test_a_report_naming_no_data_entity_scores_at_most_40(
    corpus_facts: tuple[IngestResult, list[KnownNumber]],
) -> None:
    result = quality_of(NO_ENTITY, corpus_facts)
    assert result.total <= 40.0
    assert "names no model, metric, configuration or file of the data" in result.caps


def test_a_self_repeating_report_scores_at_most_40(
    corpus_facts: tuple[IngestResult, list[KnownNumber]],
) -> None:
    result = quality_of(f"{GROUNDED}\n{GROUNDED}", corpus_facts)
    assert result.total == 40.0  # 88.8 before the cap: grounded, specific, but said twice
    assert result.caps == ["repeats itself (35% of its words)"]


def test_a_grounded_hand_written_report_scores_high(
    corpus_facts: tuple[IngestResult, list[KnownNumber]],
) -> None:
    result = quality_of(GROUNDED, corpus_facts)
    assert result.total >= 65.0
    assert result.total == 99.2
    assert result.deductions == ["length: -0.8 (252 words, below the target 300-400)"]
