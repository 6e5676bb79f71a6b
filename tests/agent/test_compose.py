"""The composed report's summary: a small model's prose, cut to what a reader can use."""

from __future__ import annotations

from chimera.agent.compose import clean_prose

SHEET = "F1. gemma3:270m: best mean throughput 303.9 tok/s (n=1).\nF2. Files: 104 read."
INSTRUCTIONS = ["Write two or three sentences for the executive summary."]


def names_data(sentence: str) -> bool:
    return "gemma3" in sentence or "throughput" in sentence or "files" in sentence


def test_keeps_sentences_grounded_in_the_sheet_or_naming_the_data() -> None:
    text = (
        "gemma3:270m leads at 303.9 tok/s. The throughput of the smaller models is higher. "
        "Chimera read 104 files."
    )
    summary, dropped = clean_prose(text, INSTRUCTIONS, SHEET, names_data)
    assert summary == text
    assert dropped == []


def test_drops_figures_not_on_the_sheet_and_sentences_naming_nothing() -> None:
    text = (
        "gemma3:270m reaches 1200 tok/s. "
        "The best way to optimize the performance of a Chimera is to add cores to your GPU. "
        "gemma3:270m is the fastest model on the sheet."
    )
    summary, dropped = clean_prose(text, INSTRUCTIONS, SHEET, names_data)
    assert summary == "gemma3:270m is the fastest model on the sheet."
    assert dropped == [
        "a figure not on the sheet: gemma3:270m reaches 1200 tok/s.",
        "names nothing of the data: The best way to optimize the performance of a Chimera "
        "is to add cores to your GPU.",
    ]


def test_without_names_data_prose_without_figures_stays() -> None:
    text = "The best way to optimize the performance is to add cores."
    assert clean_prose(text, INSTRUCTIONS, SHEET) == (text, [])


def test_cuts_headings_echoes_repeats_control_tokens_and_an_unfinished_end() -> None:
    text = (
        "## Executive Summary\n"
        "**Summary:**\n"
        "Write two or three sentences for the executive summary.\n"
        "<|im_end|>gemma3:270m leads throughput on the sheet. "
        "gemma3:270m leads throughput on the sheet! "
        "Chimera read 104 files. The throughput of gemma3"
    )
    summary, dropped = clean_prose(text, INSTRUCTIONS, SHEET, names_data)
    assert summary == "gemma3:270m leads throughput on the sheet. Chimera read 104 files."
    assert dropped == []
