"""Junk in LLM text: leaked control tokens, stray script, repetition loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.junk import JunkFinding, dominant_script, find_junk, script_of

SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)
CLEAN = """\
## Key Findings
- Throughput averaged 108.26 tok/s over three runs (σ 2.1, p99 latency 700 μs).
- TTFT is dominated by the 551 ms model load; see the café benchmark notes.

| Metric | Value |
|--------|-------|
| N/A | N/A |
| N/A | N/A |
| N/A | N/A |
"""


def kinds(text: str) -> list[tuple[str, str, int]]:
    return [(f.kind, f.evidence, f.line) for f in find_junk(text)]


def test_clean_text_has_no_junk() -> None:
    assert find_junk(CLEAN) == []
    assert find_junk("") == []


@pytest.mark.parametrize(
    "token",
    [
        "<unused1933>",
        "<start_of_turn>",
        "<end_of_turn>",
        "<|im_end|>",
        "<|eot_id|>",
        "<|start_header_id|>",
        "[INST]",
        "[/INST]",
        "<s>",
        "</s>",
        "<pad>",
        "<<SYS>>",
        "<｜end▁of▁sentence｜>",
    ],
)
def test_control_tokens(token: str) -> None:
    text = f"The first line is fine.\nImplement automated checks{token}\n"
    assert find_junk(text) == [JunkFinding("control-token", token, 2)]


def test_stray_script_in_english() -> None:
    text = "Intro line in English.\n\nатото\n\nThe model is fast 的 and cheap."
    assert kinds(text) == [
        ("foreign-script", "CYRILLIC: атото", 3),
        ("foreign-script", "CJK: 的", 5),
    ]


def test_mixed_script_word_is_flagged() -> None:
    # A Cyrillic "а" inside a Latin word: a homoglyph no reader can see.
    assert kinds("The dаta is clean and the throughput is high.") == [
        ("foreign-script", "CYRILLIC: а", 1)
    ]


def test_other_dominant_script_tolerates_latin() -> None:
    text = "Пропускная способность модели gemma3 составила 108 tok/s в JSON отчёте. 速度"
    assert dominant_script(text) == "CYRILLIC"
    assert kinds(text) == [("foreign-script", "CJK: 速度", 1)]


def test_greek_symbols_are_not_stray_but_greek_words_are() -> None:
    assert find_junk("Latency was 12 μs with σ of 3 and Δ of 4.") == []
    assert kinds("The result was λόγος clearly.") == [("foreign-script", "GREEK: λόγος", 1)]


def test_script_of() -> None:
    assert [script_of(c) for c in "aé1 жλ的カ한µ"] == [
        "LATIN",
        "LATIN",
        None,
        None,
        "CYRILLIC",
        "GREEK",
        "CJK",
        "CJK",
        "HANGUL",
        None,  # MICRO SIGN belongs to no script
    ]


def test_consecutive_duplicate_lines() -> None:
    text = (
        "Intro.\n- Keep the model loaded between calls.\n\n- Keep the model loaded between calls."
    )
    assert kinds(text) == [
        ("repetition", "2 consecutive copies: - Keep the model loaded between calls.", 2)
    ]


def test_line_repeated_three_times_anywhere() -> None:
    line = "Further investigation is recommended to validate these findings."
    text = f"{line}\nA.\n{line}\nB.\n{line}\n"
    assert kinds(text) == [("repetition", f"3 copies: {line}", 1)]
    assert find_junk(f"{line}\nA.\n{line}\n") == []  # twice, apart, is allowed


def test_short_and_structural_lines_may_repeat() -> None:
    text = "---\nOK\n---\nOK\n---\nOK\n```\n}\n```\n}\n```\n}\n"
    assert find_junk(text) == []


def test_degenerate_loop_in_one_line() -> None:
    text = "The results show that the model the model the model the model the model is fast."
    (finding,) = find_junk(text)
    assert finding.kind == "repetition" and finding.line == 1
    assert "the model" in finding.evidence


def test_repeated_paragraph() -> None:
    para = "Throughput is stable across runs.\nLatency is dominated by load time."
    findings = find_junk(f"{para}\n\n{para}\n")
    assert [(f.kind, f.line) for f in findings] == [("repetition", 1)]
    assert findings[0].evidence.startswith("repeated paragraph")


def test_seed_report_body() -> None:
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    text = SEED_REPORT.read_text(encoding="utf-8")
    body = text[text.index("\n---\n") + 5 : text.index("## Workflow Summary")]
    assert kinds(body) == [
        ("foreign-script", "CYRILLIC: атото", 2),
        ("control-token", "<unused1933>", 54),
    ]
    assert body.splitlines()[53].endswith("consistency<unused1933>")


def test_near_copies_and_repeated_passages_are_repetition_junk() -> None:
    noise = "\n\n".join(
        f"## {title}\nChimera, a multi-core engine, is designed to optimise the performance "
        f"in one {cpu}."
        for title, cpu in (("Summary", "CPU"), ("Findings", "CPU core"), ("Appendix", "CPU"))
    )
    assert kinds(noise) == [
        (
            "repetition",
            "3 near-copies: chimera, a multi-core engine, is designed to optimise the "
            "performance in one ...",
            2,
        )
    ]
