"""The fact check: which numbers are claims, and which claims the facts support."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.factcheck import (
    CheckedClaim,
    FactCheck,
    KnownNumber,
    check_numbers,
    extract_numbers,
)

SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)
INVENTORY = [
    KnownNumber(44, "JSON files"),
    KnownNumber(28, "CSV files"),
    KnownNumber(29, "Markdown files"),
    KnownNumber(101, "total files"),
]
METRICS = [
    KnownNumber(108.26, "throughput", "tok/s"),
    KnownNumber(0.60402, "TTFT", "s"),
    KnownNumber(23189.45, "total duration", "ms"),
    KnownNumber(2219, "tokens generated"),
    KnownNumber(4.2, "model size", "GiB"),
]


def only(check: FactCheck) -> CheckedClaim:
    assert len(check.claims) == 1, check.claims
    return check.claims[0]


def verdicts(text: str, known: list[KnownNumber]) -> list[tuple[str, str, str | None]]:
    return [(c.claim.raw, c.status, c.how) for c in check_numbers(text, known).claims]


# --- the seed's invented inventory ----------------------------------------------------------


def test_seed_json_line_is_two_unsupported_claims() -> None:
    check = check_numbers("*   JSON: 88 (88%)", INVENTORY)
    assert [(c.claim.raw, c.claim.is_percent, c.status) for c in check.claims] == [
        ("88", False, "unsupported"),
        ("88%", True, "unsupported"),
    ]
    assert check.grounded_ratio == 0.0
    assert [c.claim.raw for c in check.unsupported] == ["88", "88%"]


def test_seed_csv_line_count_and_share_are_grounded() -> None:
    # 28/101 = 27.7%, which a percentage written without decimals rounds to 28%.
    check = check_numbers("*   CSV: 28 (28%) - *Note: CSV file data appears limited.*", INVENTORY)
    count, share = check.claims
    assert (count.status, count.matched, count.how) == ("grounded", "CSV files", "exact")
    assert (share.status, share.matched, share.how) == (
        "grounded",
        "CSV files / total files",
        "derived",
    )
    assert share.claim.sentence == "CSV: 28 (28%) - Note: CSV file data appears limited."


def test_a_labelled_count_is_checked_against_its_subject_only() -> None:
    # 13 is a known number (13 duplicate pairs), but "Markdown: 13" says there are 13
    # Markdown files, and there are 29; the share in parentheses has the same subject.
    known = [
        KnownNumber(29, "Markdown files", "files", subject="markdown"),
        KnownNumber(44, "JSON files", "files", subject="json"),
        KnownNumber(101, "total files", "files"),
        KnownNumber(13, "finding same_data: 13"),
    ]
    assert verdicts("*   Markdown: 13 (13%)", known) == [
        ("13", "unsupported", None),
        ("13%", "unsupported", None),
    ]
    assert verdicts("*   **Markdown**: 29 (29%)", known) == [
        ("29", "grounded", "exact"),
        ("29%", "grounded", "derived"),
    ]
    assert verdicts("We found 29 Markdown files and 13 duplicate pairs.", known) == [
        ("29", "grounded", "exact"),
        ("13", "grounded", "exact"),
    ]
    assert verdicts("44 markdown files", known) == [("44", "unsupported", None)]
    # A label no fact has as its subject changes nothing.
    assert verdicts("pairs: 13", known) == [("13", "grounded", "exact")]


def test_total_files_grounded() -> None:
    claim = only(check_numbers("*   **Total Files:** 101", INVENTORY))
    assert (claim.status, claim.matched, claim.how) == ("grounded", "total files", "exact")


def test_shares_need_the_right_precision() -> None:
    assert verdicts("JSON is 43.6% of the files", INVENTORY) == [("43.6%", "grounded", "derived")]
    assert verdicts("JSON is 44% of the files", INVENTORY) == [("44%", "grounded", "derived")]
    assert verdicts("JSON is 43.4% of the files", INVENTORY) == [("43.4%", "unsupported", None)]
    # A percentage never matches a bare count of the same digits.
    assert verdicts("JSON is 44 % of them", [KnownNumber(44, "JSON files")]) == [
        ("44 %", "unsupported", None)
    ]


def test_largest_count_is_the_total_when_none_is_labelled() -> None:
    known = [KnownNumber(44, "JSON"), KnownNumber(28, "CSV"), KnownNumber(101, "files")]
    claim = only(check_numbers("CSV makes up 27.7% of it", known))
    assert (claim.status, claim.matched) == ("grounded", "CSV / files")


# --- rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "how"),
    [
        ("throughput was 108.26 tok/s", "grounded", "exact"),
        ("throughput was 108.3 tok/s", "grounded", "rounded"),
        ("throughput was 108 tok/s", "grounded", "rounded"),
        ("throughput was 108.2 tok/s", "unsupported", None),  # truncated, not rounded
        ("throughput was 109 tok/s", "unsupported", None),
        ("the run generated 2,219 tokens", "grounded", "exact"),
        ("the run generated 2219.0 tokens", "grounded", "exact"),
        ("the run generated 2.2k tokens", "grounded", "rounded"),
        ("the run generated about 2,200 tokens", "grounded", "rounded"),
        ("the run generated about 2,000 tokens", "unsupported", None),
        ("the run generated 2.3k tokens", "unsupported", None),
        ("it took 23 s in all", "grounded", "unit-converted"),  # 23189.45 ms
        ("it took 23.2 s in all", "grounded", "unit-converted"),
        ("it took 23.1 s in all", "unsupported", None),
        ("the whole call took 23189.45 ms", "grounded", "exact"),
    ],
)
def test_rounding(text: str, status: str, how: str | None) -> None:
    claim = only(check_numbers(text, METRICS))
    assert (claim.status, claim.how) == (status, how)


def test_precision_and_values_as_written() -> None:
    claims = extract_numbers("1,234 rows, 1.2k tok/s, 1.5e3 tokens, 12.50 ms and 1,200 calls")
    assert [(c.value, c.precision, c.unit) for c in claims] == [
        (1234.0, 1.0, None),
        (1200.0, 100.0, "tok/s"),
        (1500.0, 100.0, None),
        (12.5, 0.01, "ms"),
        (1200.0, 100.0, None),
    ]


# --- units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "known", "status", "how"),
    [
        ("TTFT was 604 ms", KnownNumber(0.604, "TTFT", "s"), "grounded", "unit-converted"),
        ("TTFT was 604ms", KnownNumber(0.60402, "TTFT", "s"), "grounded", "unit-converted"),
        ("TTFT was 0.6 s", KnownNumber(604.02, "TTFT", "ms"), "grounded", "unit-converted"),
        ("TTFT was 0.7 s", KnownNumber(604.02, "TTFT", "ms"), "unsupported", None),
        ("TTFT was 604 ms", KnownNumber(604.02, "TTFT", "ms"), "grounded", "rounded"),
        ("TTFT was 604 ms", KnownNumber(604.02, "TTFT"), "grounded", "rounded"),  # no unit known
        ("TTFT was 604", KnownNumber(604.02, "TTFT", "ms"), "grounded", "rounded"),
        ("TTFT was 604 ms", KnownNumber(604, "files", "files"), "unsupported", None),
        ("it ran at 108 ms", KnownNumber(108.26, "throughput", "tok/s"), "unsupported", None),
        (
            "it ran at 108 tokens per second",
            KnownNumber(108.26, "throughput", "tok/s"),
            "grounded",
            "rounded",
        ),
        ("the model takes 4.5 GB", KnownNumber(4.2, "size", "GiB"), "grounded", "unit-converted"),
        ("the model takes 4.2 GB", KnownNumber(4.2, "size", "GiB"), "grounded", "unit-converted"),
        ("the model takes 4300 MiB", KnownNumber(4.2, "size", "GiB"), "grounded", "unit-converted"),
        ("the model takes 3.9 GB", KnownNumber(4.2, "size", "GiB"), "unsupported", None),
        ("load took 551 ms", KnownNumber(551_400_000, "load", "ns"), "grounded", "unit-converted"),
    ],
)
def test_units(text: str, known: KnownNumber, status: str, how: str | None) -> None:
    claim = only(check_numbers(text, [known]))
    assert (claim.status, claim.how) == (status, how)


def test_unit_names_are_canonical() -> None:
    claims = extract_numbers("5 seconds, 20 msec, 30 tokens/sec, 40 t/s, 2 GiB, 3 kB, 250 µs")
    assert [c.unit for c in claims] == ["s", "ms", "tok/s", "tok/s", "GiB", "KB", "us"]


# --- percentages ----------------------------------------------------------------------------


def test_percent_from_known_percentage_and_ratio() -> None:
    known = [KnownNumber(85, "GPU utilisation", "%"), KnownNumber(0.436, "JSON share", "ratio")]
    assert verdicts("GPU utilisation was 85%", known) == [("85%", "grounded", "exact")]
    assert verdicts("GPU utilisation was 85 percent", known) == [
        ("85 percent", "grounded", "exact")
    ]
    assert verdicts("JSON share was 43.6%", known) == [("43.6%", "grounded", "percent")]
    assert verdicts("JSON share was 0.436", known) == [("0.436", "grounded", "exact")]


def test_percent_change_between_two_facts_of_one_unit() -> None:
    known = [KnownNumber(800, "baseline TTFT", "ms"), KnownNumber(0.604, "tuned TTFT", "s")]
    claim = only(check_numbers("TTFT fell by 24.5% after tuning", known))
    assert (claim.status, claim.how) == ("grounded", "derived")
    assert claim.matched == "change from baseline TTFT to tuned TTFT"
    assert verdicts("TTFT fell by -24% after tuning", known) == [("-24%", "grounded", "derived")]
    assert verdicts("TTFT fell by 30% after tuning", known) == [("30%", "unsupported", None)]
    # Bare numbers share no unit, so no percent change is derived between them.
    bare = [KnownNumber(800, "baseline TTFT"), KnownNumber(604, "tuned TTFT")]
    assert verdicts("a change of 24.5%", bare) == [("24.5%", "unsupported", None)]
    # Nor between facts whose labels share only a statistic's name.
    unrelated = [KnownNumber(800, "TTFT p50", "ms"), KnownNumber(604, "load p50", "ms")]
    assert verdicts("a change of 24.5%", unrelated) == [("24.5%", "unsupported", None)]


def test_multiplier_is_a_ratio_of_two_facts() -> None:
    known = [
        KnownNumber(216.5, "GPU throughput", "tok/s"),
        KnownNumber(108.26, "CPU throughput", "tok/s"),
    ]
    assert verdicts("the GPU is 2x faster", known) == [("2x", "grounded", "derived")]
    assert verdicts("the GPU is 2.0× faster", known) == [("2.0×", "grounded", "derived")]
    assert verdicts("the GPU is 3x faster", known) == [("3x", "unsupported", None)]
    # Facts that measure different things are not divided into each other.
    unrelated = [KnownNumber(216.5, "decode rate", "tok/s"), KnownNumber(108.26, "CPU", "tok/s")]
    assert verdicts("the GPU is 2x faster", unrelated) == [("2x", "unsupported", None)]


# --- ranges ---------------------------------------------------------------------------------


def test_ranges_are_two_claims_sharing_the_unit() -> None:
    claims = extract_numbers("TTFT ranged 60-120 ms, shares 10–15%, sizes 5KB - 20KB, 3 to 4 s")
    assert [(c.raw, c.value, c.unit) for c in claims] == [
        ("60 ms", 60.0, "ms"),
        ("120 ms", 120.0, "ms"),
        ("10 %", 10.0, "%"),
        ("15%", 15.0, "%"),
        ("5KB", 5.0, "KB"),
        ("20KB", 20.0, "KB"),
        ("3 s", 3.0, "s"),
        ("4 s", 4.0, "s"),
    ]
    check = check_numbers("TTFT ranged 600-610 ms", METRICS)
    assert [c.status for c in check.claims] == ["unsupported", "unsupported"]
    assert verdicts("TTFT ranged 604-700 ms", METRICS)[0][1] == "grounded"
    # A small count range stays a count.
    assert extract_numbers("we ran 3-4 times") == []


def test_small_integers_in_data_form_are_claims() -> None:
    assert [c.raw for c in extract_numbers("made 3 recommendations over 7 files")] == []
    text = "- JSON: 8\n- **Runs:** 5\n- temp=1, top_k = 4\n- Model: `gemma3:1b`"
    assert [c.raw for c in extract_numbers(text)] == ["8", "5", "1", "4"]
    assert verdicts("JSON: 8 files", INVENTORY) == [("8", "unsupported", None)]


# --- what is not a claim --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Report date: 2025-11-15", "date"),
        ("Generated 2025-11-15T10:00:00Z", "date"),
        ("**Date:** November 16, 2025", "date"),
        ("Files from October 8, 2025 - November 14, 2025", "date"),
        ("as of 3 March 2025", "date"),
        ("data from 11/14/2025", "date"),
        ("the work started in 2025", "date"),
        ("results for Q3 2025", "date"),
        ("run at 14:30 UTC", "time"),
        ("run at 9am", "time"),
        ("1. Executive Summary", "ordinal"),
        ("**4. Key Findings**", "ordinal"),
        ("### 4.1 Latency", "ordinal"),
        ("2) Raise num_gpu", "ordinal"),
        ("see Step 2 and Section 3", "ordinal"),
        ("the 3rd run, see [2]", "ordinal"),
        ("built with v1.2.3", "version"),
        ("on Python 3.11", "version"),
        ("with CUDA 12.1", "version"),
        ("gemma3:1b and qwen2.5:7b", "model"),
        ("llama3.1 and Llama 3.1 8B", "model"),
        ("gemma3_270m", "model"),
        ("Gemma 3 270M", "model"),
        ("the 7B model and the 270m one", "model"),
        ("an RTX 4090", "model"),
        ("conv_bench_20251002-170837.json", "file"),
        ("reports/gemma3/gemma3_1b-it-qat_baseline.csv", "path"),
        ("https://example.com/run/42", "url"),
        ("tokens_p99 and p50 and Q4_K_M", "identifier"),
        ("16-bit weights and 25-shot prompts", "identifier"),
        ("3 recommendations for 7 files", "small-count"),
        ("leaked <unused1933> token", "control-token"),
    ],
)
def test_ignored(text: str, kind: str) -> None:
    check = check_numbers(text, INVENTORY)
    assert check.claims == []
    assert check.grounded_ratio is None
    assert check.ignored >= 1
    assert kind in check.ignored_kinds, check.ignored_kinds


def test_values_a_recommendation_proposes_are_not_claims() -> None:
    text = (
        "1. **Increase Context:** Raise num_ctx from 1024 to 4096 for longer prompts.\n"
        "2. Keep temperature at 0.7 and set `num_gpu=99`.\n"
        "3. Consider reducing TTFT by 20%.\n"
        "4. Throughput rose to 250 tok/s after the change.\n"  # a statement, not advice
        "5. Use 2 GPUs."
    )
    check = check_numbers(text, [KnownNumber(1024, "num_ctx")])
    assert [(c.claim.raw, c.status) for c in check.claims] == [
        ("1024", "grounded"),
        ("250 tok/s", "unsupported"),
    ]
    assert check.ignored_kinds["proposal"] == 4


def test_claims_next_to_ignored_numbers() -> None:
    text = "In 2025, gemma3:1b generated 2048 tokens with num_ctx=2048 and 12 files on 2025-11-15."
    assert [c.raw for c in extract_numbers(text)] == ["2048", "2048", "12"]
    assert [c.raw for c in extract_numbers("a context window of 2048 and year 2024")] == ["2048"]
    assert [c.raw for c in extract_numbers("Configuration: num_gpu=80, temp=0.7, top_k=40")] == [
        "80",
        "0.7",
        "40",
    ]


def test_code_blocks_data_blocks_and_code_spans() -> None:
    text = (
        "```python\nfor i in range(5000):\n    sleep(0.25)\n```\n"
        '```json\n{"test_name": "conv_bench_v3", "tokens_s": 14.59, "tokens": 225.0}\n```\n'
        "```\nTotal files analyzed: 101\n```\n"
        "The run used `num_ctx=4096` throughout."
    )
    check = check_numbers(text, INVENTORY)
    assert [(c.claim.raw, c.claim.line) for c in check.claims] == [
        ("14.59", 6),
        ("225.0", 6),
        ("101", 9),
        ("4096", 11),
    ]
    assert check.ignored_kinds["code"] == 2
    assert check.ignored_kinds["quoted"] == 1


def test_claim_carries_sentence_and_line() -> None:
    text = (
        "# Report\n\nThe run was short. Throughput reached 108.3 tok/s on the GPU! Then it ended."
    )
    (claim,) = extract_numbers(text)
    assert claim.line == 3
    assert claim.sentence == "Throughput reached 108.3 tok/s on the GPU!"
    assert (claim.value, claim.unit, claim.is_percent) == (108.3, "tok/s", False)


def test_crlf_and_negative_numbers() -> None:
    claims = extract_numbers("first line\r\nTTFT changed by -12.5 ms\r\n")
    assert [(c.raw, c.value, c.line) for c in claims] == [("-12.5 ms", -12.5, 2)]


def test_nothing_checkable_gives_no_ratio() -> None:
    check = check_numbers("No numbers here, only 3 words and 2025.", INVENTORY)
    assert (check.claims, check.grounded_ratio, check.ignored) == ([], None, 2)


def test_many_facts_the_closest_one_matches() -> None:
    facts = [KnownNumber(float(i) + 0.5, f"stat {i}", "ms") for i in range(300)]
    check = check_numbers("p50 was 150.5 ms and p99 was 299.5 ms but max was 400.25 ms", facts)
    assert [(c.status, c.matched) for c in check.claims] == [
        ("grounded", "stat 150"),
        ("grounded", "stat 299"),
        ("unsupported", None),
    ]


def test_fact_check_serialises() -> None:
    check = check_numbers("JSON: 88 (88%), CSV: 28", INVENTORY)
    dumped = check.model_dump()
    assert dumped["grounded_ratio"] == pytest.approx(1 / 3)
    assert dumped["claims"][2]["matched"] == "CSV files"
    assert FactCheck.model_validate(dumped) == check


# --- the seed report as a whole ---------------------------------------------------------------


def seed_body() -> str:
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    text = SEED_REPORT.read_text(encoding="utf-8")
    return text[text.index("\n---\n") + 5 : text.index("## Workflow Summary")]


def test_seed_body_against_the_inventory() -> None:
    check = check_numbers(seed_body(), INVENTORY)
    grounded = [(c.claim.raw, c.matched) for c in check.grounded]
    assert grounded == [
        ("101", "total files"),
        ("101", "total files"),
        ("28", "CSV files"),
        ("28%", "CSV files / total files"),
    ]
    unsupported = {c.claim.raw for c in check.unsupported}
    assert {"88", "88%", "13", "13%"} <= unsupported  # the invented JSON and Markdown counts
    assert {"181.96533720183703", "14.590837494496077", "15.502165000179955"} <= unsupported
    assert {"225.0", "124.0", "5KB", "20KB", "1KB"} <= unsupported
    assert check.grounded_ratio == pytest.approx(4 / 24)
    # Dates, ordinals, the leaked token and the JSON strings were not taken for claims.
    assert check.ignored_kinds["date"] == 3
    assert check.ignored_kinds["control-token"] == 1
    assert check.ignored_kinds["ordinal"] >= 10
    lines = {c.claim.raw: c.claim.line for c in check.claims}
    assert lines["88"] == 18 and lines["13"] == 19


def test_seed_tokens_s_grounded_once_known() -> None:
    known = [*INVENTORY, KnownNumber(14.590837494496077, "conv_cuda_bench tokens_s", "tok/s")]
    check = check_numbers(seed_body(), known)
    matched = [c for c in check.claims if c.claim.raw == "14.590837494496077"]
    assert len(matched) == 3
    assert all(c.status == "grounded" and c.how == "exact" for c in matched)
