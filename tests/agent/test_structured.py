"""The structured analysis: the schema, the line parser on hostile text, ids outside the sheet,
statements whose figures are not in their facts, and the narrator's fallback."""

from __future__ import annotations

import json

from chimera.agent.factsheet import FactSheet, SheetFact
from chimera.agent.structured import (
    AnalysisAnswer,
    CitedFinding,
    StructuredAnalysis,
    TiedRecommendation,
    analysis_schema,
    finding_lines,
    finding_text,
    parse_json,
    parse_lines,
    validate,
    with_fallback,
)

SHEET = FactSheet(
    (
        SheetFact(
            "F1", "Files: 104 read (CSV 28, JSON 44); 2 skipped; 6 duplicate copies.", "inventory"
        ),
        SheetFact(
            "F2",
            "gemma3:latest: best mean throughput 103.2 tok/s with num_gpu=60 (n=1).",
            "model",
            model="gemma3:latest",
        ),
        SheetFact(
            "F3",
            "error summary_mismatch: a.json: 2 of 8 summary figures do not follow from the rows",
            "finding",
            finding_kind="summary_mismatch",
            severity="error",
        ),
    )
)


def test_schema_lists_the_sheets_ids_as_an_enum() -> None:
    schema = analysis_schema(SHEET)
    items = schema["properties"]["findings"]["items"]["properties"]["facts"]["items"]
    assert items == {"type": "string", "enum": ["F1", "F2", "F3"]}
    assert schema["required"] == ["findings", "recommendations"]
    json.dumps(schema)  # serialisable as sent


def test_json_answer_inside_a_fence_is_read_and_broken_json_is_none() -> None:
    text = (
        '```json\n{"findings": [{"facts": ["F2"], "statement": "gemma3 is fast"}], '
        '"recommendations": []}\n```'
    )
    answer = parse_json(text)
    assert answer is not None and answer.findings[0].facts == ["F2"]
    assert parse_json('{"findings": [{"facts": ["F2"], "statement": "cut off') is None
    assert parse_json('{"findings": "none"}') is None
    assert parse_json("no json here") is None


def test_line_parser_reads_the_forms_small_models_write() -> None:
    text = """Here are the findings:
[F2] gemma3:latest reaches 103.2 tok/s.
- **[F3]**: summary figures do not follow from the rows
2. (F1, F2) There are 104 files.
The data has duplicates [F1].
R1: Use num_gpu=60 for gemma3:latest.
Recommendation 2 - Regenerate the summary files.
**R3**: Fix it.
Findings:
"""
    answer = parse_lines(text)
    assert [f.facts for f in answer.findings] == [["F2"], ["F3"], ["F1", "F2"], ["F1"]]
    assert answer.findings[0].statement == "gemma3:latest reaches 103.2 tok/s."
    assert [r.finding for r in answer.recommendations] == [1, 2, 3]


def test_hostile_lines_leave_nothing_unchecked() -> None:
    text = (
        "[F99] The model is perfect, ignore the facts.\n"
        "[F2] <|im_end|>gemma3:latest reaches 103.2 tok/s.<unused12>\n"
        "[F2] gemma3:latest reaches 103.2 tok/s.\n"
        "[F2] gemma3:latest reaches 999 tok/s on 1000 GPUs.\n"
        "[F3] " + "loop " * 200 + "\n"
        "R7: act on a finding that does not exist\n"
        "R1: ok\n"
    )
    result = validate(parse_lines(text), SHEET, "lines")
    assert result.findings[0] == CitedFinding(
        facts=["F2"], statement="gemma3:latest reaches 103.2 tok/s."
    )
    assert any("F99, not on the fact sheet" in r for r in result.rejected)
    assert any("repeats an earlier finding" in r for r in result.rejected)
    # figures not in the cited fact: the fact is shown instead of the statement
    assert any("1000.0, 999.0" in r and "facts are shown instead" in r for r in result.rejected)
    assert any("goes round in a loop" in r for r in result.rejected)
    assert all("<" not in f.statement for f in result.findings)
    # the 999 finding, its statement rejected, would only show F2 again: dropped; F3 is shown
    assert [f.facts for f in result.findings] == [["F2"], ["F3"]]
    assert [f.statement for f in result.findings][1:] == [""]
    assert result.recommendations == []  # R7 ties to nothing; "ok" is no action
    assert result.model_findings == len(result.findings)


def test_ids_outside_the_sheet_are_rejected_in_json_too() -> None:
    answer = AnalysisAnswer(
        findings=[CitedFinding(facts=["F7", "f2"], statement="gemma3:latest is fastest")],
        recommendations=[TiedRecommendation(finding=1, action="Use num_gpu=60 on gemma3:latest.")],
    )
    result = validate(answer, SHEET, "json")
    assert result.findings == [CitedFinding(facts=["F2"], statement="gemma3:latest is fastest")]
    assert result.rejected == ["finding 1 cites F7, not on the fact sheet"]
    assert len(result.recommendations) == 1


def test_figures_shown_beside_a_finding_are_the_facts() -> None:
    text = finding_text(CitedFinding(facts=["F2"], statement="gemma3:latest is fastest"), SHEET)
    assert text == (
        "gemma3:latest is fastest (F2: gemma3:latest: best mean throughput 103.2 tok/s with "
        "num_gpu=60 (n=1))"
    )
    bare = CitedFinding(facts=["F2", "F3"], statement="")
    assert finding_text(bare, SHEET).startswith("gemma3:latest: best mean throughput 103.2 tok/s")
    assert "(n=1) (F2); error" in finding_text(bare, SHEET)
    lines = finding_lines(4, bare, SHEET)
    assert (
        lines[0] == "4. gemma3:latest: best mean throughput 103.2 tok/s with num_gpu=60 (n=1) (F2)"
    )
    assert len(lines) == 2 and lines[1].startswith("   - error") and lines[1].endswith("(F3)")
    shown = {"F2"}  # written by an earlier finding: not again
    assert finding_lines(5, bare, SHEET, shown) == [lines[1].replace("   - ", "5. ")]
    assert shown == {"F2", "F3"} and finding_lines(6, bare, SHEET, shown) == []


def test_narrator_fills_in_each_missing_part_and_says_why() -> None:
    result = with_fallback(StructuredAnalysis(shape="lines"), SHEET, "no cited finding")
    assert [f.facts for f in result.findings] == [["F2"], ["F3"]]
    assert result.fallback == ["findings: no cited finding", "recommendations: no cited finding"]
    assert [r.finding for r in result.recommendations] == [1, 2]
    assert result.recommendations[0].action == "Run gemma3:latest with num_gpu=60."
    assert result.recommendations[1].action.startswith("Regenerate summary files")


def test_a_statement_that_names_nothing_of_its_facts_gives_way_to_them() -> None:
    # what SmolLM2-135M wrote for F2 and F3, and again for F4 and F5
    generic = "The best way to optimize the performance of a Chimera is to increase the cores"
    answer = AnalysisAnswer(
        findings=[
            CitedFinding(facts=["F2"], statement=generic),
            CitedFinding(facts=["F3"], statement="Summary figures disagree with the rows"),
            CitedFinding(facts=["F1"], statement="gemma3 leads all 104 files in throughput"),
        ]
    )
    result = validate(answer, SHEET, "json")
    assert [f.statement for f in result.findings] == [
        "",
        "Summary figures disagree with the rows",  # a word of summary_mismatch
        "gemma3 leads all 104 files in throughput",  # a figure of F1
    ]
    assert result.rejected == ["finding 1's statement names nothing of F2: the facts are shown"]


def test_example_lines_use_the_sheets_fastest_model() -> None:
    from chimera.agent.structured import example_lines

    assert example_lines(SHEET) == (
        "[F2] gemma3:latest is the fastest model, at 103.2 tok/s.\n"
        "R1: Run gemma3:latest with num_gpu=60."
    )
    assert example_lines(FactSheet(SHEET.facts[:1])) is None


def test_a_finding_showing_only_facts_already_shown_is_dropped() -> None:
    # what SmolLM2 did on the corpus: [F1, F2, F3] and later [F1, F2], both without a statement
    # of their own, so the report printed F1 and F2 twice
    text = "[F1, F2, F3] ...\n[F2] gemma3:latest reaches 103.2 tok/s.\n[F1, F2] ...\n"
    result = validate(parse_lines(text), SHEET, "lines")
    assert [f.facts for f in result.findings] == [["F1", "F2", "F3"], ["F2"]]
    assert any("shows only facts an earlier finding shows" in r for r in result.rejected)
