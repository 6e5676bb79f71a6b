"""Parsing real-world LLM analyses: headings of every style, lists, tables, fences, reasoning."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chimera.agent.parse import (
    ParsedAnalysis,
    normalize_title,
    parse_analysis,
    strip_markdown,
    title_category,
)

SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)

# gemma3 style: bold numbered headings, the titles the old tool turned into items
# ("Key Performance Findings**", "Recommendations for Optimization**").
GEMMA = """\
Okay, here's a structured analysis of the provided benchmark data, designed to give you \
actionable insights.

**Structured Analysis: Benchmark Data Review**

**1. Executive Summary**

This analysis examines a dataset of 101 files, predominantly related to benchmarking and \
compilation processes. The data is skewed heavily towards JSON and Markdown files, suggesting a \
strong emphasis on testing and documenting model outputs.

**2. Key Performance Findings**

*   **Format Bias:** The dataset is heavily dominated by JSON and Markdown files (73 of 101).
*   **Redundancy:** Multiple benchmark files are present in different formats for the same tests \
(e.g., “conv_bench” and “conv_cuda_bench”).
*   **Recency:** The most recent files were modified on November 14, 2025.

**3. Format-Dependent Insights:**

*   **JSON:** 44 files, mostly compilation and demo runs.
*   **CSV:** 28 files with per-model parameter tuning results.

**4. Recommendations for Optimization**

1.  **Consolidate Formats:** Store each benchmark once, as JSON, and render Markdown from it.
2.  **Track Throughput Over Time:** Add a tokens/s column to every CSV so that regressions show.
3.  **Automate Ingestion:** Run the collector nightly so that the inventory stays current.

Do you want me to delve deeper into any specific aspect of this analysis?
"""

# llama3 style: markdown headings, findings as numbered ### sub-sections with prose bodies.
LLAMA = """\
# Benchmark Analysis Report

## Executive Summary
The benchmark suite ran **gemma3:latest** on 101 artifacts. Mean decode throughput was \
**108.3 tok/s** with a median TTFT of **604 ms**.

## Performance Analysis
### Throughput
Decode throughput ranged from 96.1 to 121.4 tok/s across runs.
### Latency
TTFT stayed below 700 ms in every run.

## Key Findings
### 1. GPU offload dominates throughput
With num_gpu=80 every layer was offloaded, and throughput doubled relative to CPU-only runs.

### 2. Context size has little effect
Raising num_ctx from 1024 to 4096 changed TTFT by less than 5%.

### 3. Cold starts are expensive
The first call paid a 551 ms load penalty.

## Recommendations
- Keep num_gpu at 80 for this model.
  - Re-check after driver updates.
- Use num_ctx=1024 unless prompts exceed 800 tokens.
- Warm the model before timing runs.

## Conclusion
Overall the configuration is sound.
"""

# qwen style: everything in tables, including a risk/mitigation table.
QWEN = """\
### Executive Summary

The run covered **101 files** (44 JSON, 28 CSV, 29 Markdown). Throughput is healthy; latency is \
dominated by model load.

### Key Findings

| # | Finding | Evidence |
|---|---------|----------|
| 1 | **Throughput is stable** | 108.26 tok/s mean, 3.1% CV |
| 2 | Load time dominates TTFT | 551 ms of 604 ms |
| 3 | CSV data is sparse | 28 files, few numeric columns |

### Recommendations

| Priority | Recommendation | Expected impact |
|----------|----------------|-----------------|
| High | Pre-load the model with `keep_alive` | TTFT -90% |
| Medium | Consolidate JSON and CSV outputs | Less duplication |

### Risks and Mitigations

| Risk | Likelihood | Mitigation |
|------|------------|------------|
| Driver update slows GPU offload | Medium | Pin the driver version |
| Context overflow truncates prompts | Low | Keep num_ctx at 2048 or above |
"""

# The whole answer wrapped in ```markdown, with a ```json block nested inside it.
FENCED = """\
Here is the report you asked for:

```markdown
## Summary
Throughput averaged 108 tok/s across 3 runs.

## Observations
1. TTFT is 604 ms on average.
2. Load time is 551 ms.

## Next Steps
- Keep the model loaded between calls.
- Re-run with num_ctx=2048.

```json
{"throughput": 108.26}
```
```
"""

# A reasoning model: the <think> block holds headings and items that must not count.
THINKING = """\
<think>
The user wants findings. Draft:
## Key Findings
- A finding I later dropped
## Recommendations
- A recommendation I later dropped
</think>

**Executive Summary**
Throughput was 108 tok/s and TTFT 604 ms over 101 files, which is healthy for this GPU.

**Key Findings**
- Throughput is stable across the three runs.
- TTFT is dominated by the 551 ms model load.

**Recommendations**
- Keep the model resident with keep_alive.
"""

# No headings at all: findings and recommendations introduced by sentences ending in ":".
NO_HEADINGS = """\
The benchmark covered 101 files and three models. Throughput was highest for gemma3:1b at \
182 tok/s, while gemma3:latest averaged 108 tok/s.

Looking across the runs, a few things stand out that the data clearly shows:
- Larger models trade throughput for quality.
- TTFT grows with prompt length.

Given those numbers, these are the changes I would recommend, in order of impact:
1. Use gemma3:1b for latency-sensitive tasks.
2. Reserve gemma3:latest for long summaries.
"""

# Plain numbered headings ("2. Key Findings") and Windows line ends.
CRLF = (
    "1. Executive Summary\n"
    "The agent analysed 101 files: 44 JSON, 28 CSV and 29 Markdown.\n"
    "\n"
    "2. Key Findings\n"
    "- JSON files make up 44 of the 101 files.\n"
    "- CSV files hold the parameter sweeps.\n"
    "\n"
    "3. Recommendations\n"
    "1. Deduplicate the CSV and JSON outputs.\n"
    "2. Pin model versions in every run.\n"
).replace("\n", "\r\n")

# Numbered items whose sub-bullets are not indented, and indented ones, under a bold title.
NESTED = """\
**Recommendations:**

1. **Increase batch size**:
- Improves throughput by amortising per-call overhead.
- Watch GPU memory use.
2. **Pin the model in memory**
   * Avoids the 551 ms load penalty.
      * Set keep_alive to -1.
3. Document every configuration change.
"""

# Paragraph findings, a plain "Key Findings:" line, a TL;DR line and setext headings.
PLAIN = """\
TL;DR: the GPU is underused and the model reloads between calls.

Key Findings:

Throughput is stable across runs at about 108 tok/s.

Latency is dominated by load time rather than prompt evaluation.

Next Steps
==========

* Keep the model loaded.
* Raise num_gpu until every layer is offloaded.
"""

ANALYSIS_ONLY = """\
## Overview
A short run on one model with three repetitions and a warm cache throughout.

## Performance Analysis
- Throughput: 108 tok/s mean.
- TTFT: 604 ms mean.
"""


def items_have_no_markup(parsed: ParsedAnalysis) -> bool:
    return all("**" not in i and "__" not in i for i in parsed.findings + parsed.recommendations)


def test_gemma_bold_numbered_headings() -> None:
    parsed = parse_analysis(GEMMA)
    assert parsed.executive_summary.startswith("This analysis examines a dataset of 101 files")
    assert parsed.findings == [
        "Format Bias: The dataset is heavily dominated by JSON and Markdown files (73 of 101).",
        "Redundancy: Multiple benchmark files are present in different formats for the same "
        "tests (e.g., “conv_bench” and “conv_cuda_bench”).",
        "Recency: The most recent files were modified on November 14, 2025.",
        "JSON: 44 files, mostly compilation and demo runs.",
        "CSV: 28 files with per-model parameter tuning results.",
    ]
    assert [r.split(":")[0] for r in parsed.recommendations] == [
        "Consolidate Formats",
        "Track Throughput Over Time",
        "Automate Ingestion",
    ]
    assert list(parsed.sections) == [
        "Structured Analysis: Benchmark Data Review",
        "Executive Summary",
        "Key Performance Findings",
        "Format-Dependent Insights",
        "Recommendations for Optimization",
    ]


def test_headings_never_become_items() -> None:
    """The old tool returned "Key Performance Findings**" and "Recommendations for
    Optimization**" as items; no heading, bare label or stray ** may be an item."""
    for text in (GEMMA, LLAMA, QWEN, FENCED, THINKING, NO_HEADINGS, CRLF, NESTED, PLAIN):
        parsed = parse_analysis(text)
        titles = {normalize_title(t) for t in parsed.sections}
        for item in parsed.findings + parsed.recommendations:
            assert normalize_title(item) not in titles, item
            assert not item.endswith((":", "*")), item
        assert items_have_no_markup(parsed)
    gemma = parse_analysis(GEMMA)
    assert "Key Performance Findings" not in " ".join(gemma.findings)
    assert "Recommendations for Optimization" not in " ".join(gemma.recommendations)


def test_llama_markdown_headings_and_subsections() -> None:
    parsed = parse_analysis(LLAMA)
    assert parsed.executive_summary == (
        "The benchmark suite ran gemma3:latest on 101 artifacts. Mean decode throughput was "
        "108.3 tok/s with a median TTFT of 604 ms."
    )
    assert parsed.findings == [
        "GPU offload dominates throughput: With num_gpu=80 every layer was offloaded, and "
        "throughput doubled relative to CPU-only runs.",
        "Context size has little effect: Raising num_ctx from 1024 to 4096 changed TTFT by "
        "less than 5%.",
        "Cold starts are expensive: The first call paid a 551 ms load penalty.",
    ]
    assert parsed.recommendations == [
        "Keep num_gpu at 80 for this model. Re-check after driver updates.",
        "Use num_ctx=1024 unless prompts exceed 800 tokens.",
        "Warm the model before timing runs.",
    ]
    assert parsed.sections["Throughput"] == (
        "Decode throughput ranged from 96.1 to 121.4 tok/s across runs."
    )
    assert parsed.sections["Conclusion"] == "Overall the configuration is sound."


def test_qwen_tables_and_risks() -> None:
    parsed = parse_analysis(QWEN)
    assert parsed.findings == [
        "Throughput is stable: 108.26 tok/s mean, 3.1% CV",
        "Load time dominates TTFT: 551 ms of 604 ms",
        "CSV data is sparse: 28 files, few numeric columns",
    ]
    assert parsed.recommendations == [
        "High: Pre-load the model with keep_alive; TTFT -90%",
        "Medium: Consolidate JSON and CSV outputs; Less duplication",
    ]
    assert parsed.risks == [
        {
            "Risk": "Driver update slows GPU offload",
            "Likelihood": "Medium",
            "Mitigation": "Pin the driver version",
        },
        {
            "Risk": "Context overflow truncates prompts",
            "Likelihood": "Low",
            "Mitigation": "Keep num_ctx at 2048 or above",
        },
    ]
    assert parsed.executive_summary.startswith("The run covered 101 files (44 JSON")


def test_response_wrapped_in_markdown_fence() -> None:
    parsed = parse_analysis(FENCED)
    assert parsed.executive_summary == "Throughput averaged 108 tok/s across 3 runs."
    assert parsed.findings == ["TTFT is 604 ms on average.", "Load time is 551 ms."]
    assert parsed.recommendations == [
        "Keep the model loaded between calls.",
        "Re-run with num_ctx=2048.",
    ]
    assert '{"throughput": 108.26}' in parsed.sections["Next Steps"]  # nested code kept


def test_think_block_is_dropped() -> None:
    parsed = parse_analysis(THINKING)
    assert parsed.findings == [
        "Throughput is stable across the three runs.",
        "TTFT is dominated by the 551 ms model load.",
    ]
    assert parsed.recommendations == ["Keep the model resident with keep_alive."]
    assert "dropped" not in " ".join(parsed.sections.values())


def test_think_without_opening_tag_and_unfinished_think() -> None:
    # Templates that open <think> in the prompt leave only the closing tag in the answer.
    parsed = parse_analysis("draft thoughts\n</think>\n## Key Findings\n- Real finding here.")
    assert parsed.findings == ["Real finding here."]
    # Cut off while still reasoning: there is no answer to parse.
    assert parse_analysis("<think>\n## Key Findings\n- not an answer").findings == []


def test_no_headings_uses_first_paragraph_and_lead_in_sentences() -> None:
    parsed = parse_analysis(NO_HEADINGS)
    assert parsed.sections == {}
    assert parsed.executive_summary.startswith("The benchmark covered 101 files and three models.")
    assert parsed.findings == [
        "Larger models trade throughput for quality.",
        "TTFT grows with prompt length.",
    ]
    assert parsed.recommendations == [
        "Use gemma3:1b for latency-sensitive tasks.",
        "Reserve gemma3:latest for long summaries.",
    ]


def test_crlf_and_plain_numbered_headings() -> None:
    parsed = parse_analysis(CRLF)
    assert list(parsed.sections) == ["Executive Summary", "Key Findings", "Recommendations"]
    assert parsed.executive_summary == (
        "The agent analysed 101 files: 44 JSON, 28 CSV and 29 Markdown."
    )
    assert parsed.findings == [
        "JSON files make up 44 of the 101 files.",
        "CSV files hold the parameter sweeps.",
    ]
    assert parsed.recommendations == [
        "Deduplicate the CSV and JSON outputs.",
        "Pin model versions in every run.",
    ]
    assert all("\r" not in body for body in parsed.sections.values())


def test_nested_bullets_merge_into_their_parent() -> None:
    parsed = parse_analysis(NESTED)
    assert parsed.recommendations == [
        "Increase batch size: Improves throughput by amortising per-call overhead.; "
        "Watch GPU memory use.",
        "Pin the model in memory: Avoids the 551 ms load penalty. (Set keep_alive to -1.)",
        "Document every configuration change.",
    ]


def test_paragraph_items_plain_title_lines_and_setext() -> None:
    parsed = parse_analysis(PLAIN)
    assert parsed.executive_summary == ("the GPU is underused and the model reloads between calls.")
    assert parsed.findings == [
        "Throughput is stable across runs at about 108 tok/s.",
        "Latency is dominated by load time rather than prompt evaluation.",
    ]
    assert parsed.recommendations == [
        "Keep the model loaded.",
        "Raise num_gpu until every layer is offloaded.",
    ]


def test_performance_analysis_is_the_fallback_for_findings() -> None:
    parsed = parse_analysis(ANALYSIS_ONLY)
    assert parsed.findings == ["Throughput: 108 tok/s mean.", "TTFT: 604 ms mean."]
    assert parsed.executive_summary.startswith("A short run on one model")
    with_findings = ANALYSIS_ONLY + "\n## Findings\n- The only finding.\n"
    assert parse_analysis(with_findings).findings == ["The only finding."]


def test_numbered_list_of_short_items_stays_a_list() -> None:
    text = "## Recommendations\n1. Quantize to Q4\n2. Raise num_gpu\n3. Warm the cache\n"
    parsed = parse_analysis(text)
    assert parsed.recommendations == ["Quantize to Q4", "Raise num_gpu", "Warm the cache"]
    assert list(parsed.sections) == ["Recommendations"]
    # Items that mention section words are still items while their numbering runs on.
    text = (
        "## Recommendations\n"
        "1. Improve Data Quality\n2. Recommend Q4 Quantization\n3. Report Weekly\n"
    )
    assert parse_analysis(text).recommendations == [
        "Improve Data Quality",
        "Recommend Q4 Quantization",
        "Report Weekly",
    ]


def test_empty_role_section_adopts_the_labels_after_it() -> None:
    text = (
        "**Recommendations**\n\n**Short term:**\n1. Warm the model.\n2. Pin the driver.\n\n"
        "**Long term:**\n- Buy a second GPU.\n\n**Appendix**\nRaw numbers.\n"
    )
    parsed = parse_analysis(text)
    assert parsed.recommendations == ["Warm the model.", "Pin the driver.", "Buy a second GPU."]


def test_empty_and_unstructured_input() -> None:
    empty = parse_analysis("")
    assert empty == ParsedAnalysis(
        executive_summary="", findings=[], recommendations=[], sections={}, risks=[]
    )
    junk = parse_analysis("<unused12><end_of_turn>")
    assert junk.findings == [] and junk.executive_summary == ""


def test_model_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        ParsedAnalysis.model_validate(
            {
                "executive_summary": "",
                "findings": [],
                "recommendations": [],
                "sections": {},
                "risks": [],
                "extra": 1,
            }
        )


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("**1. Executive Summary**", "summary"),
        ("TL;DR", "summary"),
        ("Data Ingestion Summary", None),
        ("Key Performance Findings:", "findings"),
        ("Observations", "findings"),
        ("Format-Dependent Insights", "findings"),
        ("5. Recommendations for Optimization", "recommendations"),
        ("Optimisation Recommendations", "recommendations"),
        ("Next Steps", "recommendations"),
        ("Action Items", "recommendations"),
        ("What to do next", "recommendations"),
        ("Optimization Strategies", "recommendations"),
        ("Suggested Changes", "recommendations"),
        ("Performance Analysis", "analysis"),
        ("Risk / Mitigation", "risks"),
        ("Appendix: Sample Benchmark Data (JSON)", None),
    ],
)
def test_title_category(title: str, category: str | None) -> None:
    assert title_category(title) == category


def test_strip_markdown_keeps_field_names() -> None:
    assert strip_markdown("**Bold** and *em* and `tokens_s` and _x_ ") == (
        "Bold and em and tokens_s and x"
    )
    assert strip_markdown("see [the docs](http://x.y) ~~old~~") == "see the docs old"
    assert strip_markdown("Key Performance Findings**") == "Key Performance Findings"


def seed_body() -> str:
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    text = SEED_REPORT.read_text(encoding="utf-8")
    # The LLM's body sits between the header's rule and the tool's own Workflow Summary.
    return text[text.index("\n---\n") + 5 : text.index("## Workflow Summary")]


def test_seed_report_body() -> None:
    parsed = parse_analysis(seed_body())
    assert parsed.executive_summary.startswith("This report analyzes a dataset of 101 benchmark")
    assert [f.split(":")[0] for f in parsed.findings] == [
        "Format Bias",
        "Data Redundancy",
        "Metric Inconsistencies",
        "Low Data Density in CSV",
    ]
    assert [r.split(":")[0] for r in parsed.recommendations] == [
        "Standardize Benchmarking Format",
        "Investigate Metric Discrepancies",
        "Refine Testing Methodology",
        "Data Quality Control",
        "Prioritize Automation",
        "Data Governance",
    ]
    # The leaked <unused1933> token is not part of the fourth recommendation.
    assert parsed.recommendations[3] == (
        "Data Quality Control: Implement automated checks for data integrity and consistency"
    )
    assert list(parsed.sections) == [
        "Technical Report: Benchmark Data Analysis",
        "Executive Summary",
        "Data Ingestion Summary",
        "Performance Analysis",
        "Key Findings",
        "Recommendations",
        "Appendix: Sample Benchmark Data (JSON)",
        "End of Report",
    ]
    assert (
        '"tokens_s": 14.590837494496077'
        in parsed.sections["Appendix: Sample Benchmark Data (JSON)"]
    )
