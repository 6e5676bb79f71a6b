"""Repetition: near-duplicate sentences and items, repeated passages, loops, and the share of
the words that repeat earlier text."""

from __future__ import annotations

import pytest

from chimera.agent.repetition import find_repetition, repeated_share

LOOP = "Optimise the performance in one CPU."


def evidence(text: str) -> list[tuple[str, int]]:
    return [(r.evidence, r.line) for r in find_repetition(text)]


def test_clean_text_repeats_nothing() -> None:
    text = (
        "gemma3:270m reached 303.9 tok/s at num_gpu=999.\n"
        "- Keep num_gpu at 60 for gemma3:1b-it-qat to hold 187.2 tok/s.\n"
        "- Keep num_gpu at 999 for gemma3:270m to hold 303.9 tok/s.\n"
    )
    assert find_repetition(text) == []
    assert repeated_share(text) == 0.0
    assert repeated_share("") == 0.0


def test_a_sentence_nearly_copied_three_times_in_different_lines() -> None:
    text = (
        "## Summary\nChimera is designed to optimise the performance in one CPU.\n"
        "## Analysis\nChimera was designed to optimise the performance on one CPU.\n"
        "## Findings\nChimera is designed to optimise performance in one CPU core.\n"
    )
    assert evidence(text) == [
        ("3 near-copies: chimera is designed to optimise the performance in one cpu.", 2)
    ]
    assert repeated_share(text) == pytest.approx(20 / 36)  # the headings are words too


def test_near_duplicate_items_next_to_each_other() -> None:
    text = (
        "- Reduce num_ctx to speed up the first token of gemma3.\n"
        "- Reduce num_ctx to speed up the first token for gemma3.\n"
        "- Pin the model in memory.\n"
    )
    assert evidence(text) == [
        ("near-duplicate items: reduce num ctx to speed up the first token of gemma3.", 1)
    ]


def test_an_exact_copy_twice_and_apart_is_allowed() -> None:
    line = "Further investigation is recommended to validate these findings."
    text = f"{line}\nThe data has 104 files.\n{line}\n"
    assert find_repetition(text) == []
    assert 0 < repeated_share(text) < 0.5  # counted in the share all the same


def test_a_passage_written_twice() -> None:
    passage = (
        "Throughput peaks at 303.9 tok/s for gemma3:270m.\n"
        "TTFT is lowest at 0.05358 s for the same model.\n"
        "The llama3.1 quantizations slow down as precision rises.\n"
    )
    text = f"{passage}\nSomething in between.\n\n{passage}"
    [(found, line)] = evidence(text)
    assert found.startswith("repeated passage of 3 sentences: throughput peaks")
    assert line == 7
    assert repeated_share(text) == pytest.approx(0.5, abs=0.05)


def test_copies_found_line_by_line_are_not_reported_again() -> None:
    text = "\n".join([LOOP + " It matters a lot for us."] * 3)
    assert evidence(text) == [
        ("3 consecutive copies: Optimise the performance in one CPU. It matters a lot for us.", 1)
    ]


def test_tables_and_code_are_not_sentences() -> None:
    row = "| gemma3:270m | num_gpu=999 | 303.9 tok/s | ok |"
    code = "```json\n" + '{"model": "gemma3:270m", "tokens_per_s": 303.9, "ok": true}\n' * 3 + "```"
    assert repeated_share(f"{row}\n{row}\n{row}\n{code}") == 0.0


def test_a_looping_phrase_counts_its_extra_turns() -> None:
    text = "The results show that the model the model the model the model the model is fast."
    [(found, line)] = evidence(text)
    assert found == "loop of 'the model' x5+" and line == 1
    assert repeated_share(text) == pytest.approx(8 / 16)
