"""The composed report's summary: a small model's prose, cut to what a reader can use."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.compose import clean_prose, names_data_in
from chimera.ingest.pipeline import IngestResult, ingest_paths

SHEET = "F1. gemma3:270m: best mean throughput 303.9 tok/s (n=1).\nF2. Files: 104 read."
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "banterhearts"
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
        "A quantum computer's memory grows by 104 times with one instruction. "
        "gemma3:270m is the fastest model on the sheet."
    )
    summary, dropped = clean_prose(text, INSTRUCTIONS, SHEET, names_data)
    assert summary == "gemma3:270m is the fastest model on the sheet."
    assert dropped == [
        "a figure not on the sheet: gemma3:270m reaches 1200 tok/s.",
        "names nothing of the data: The best way to optimize the performance of a Chimera "
        "is to add cores to your GPU.",
        # a figure of the sheet (104 files) is not enough: the sentence is about nothing here
        "names nothing of the data: A quantum computer's memory grows by 104 times with one "
        "instruction.",
    ]


def test_names_data_in_the_corpus(corpus_facts: IngestResult) -> None:
    names = names_data_in(corpus_facts)
    assert names("gemma3:270m leads the table.")
    assert names("Throughput varies widely between configurations.")
    assert names("Chimera read 104 files.") and names("There are 44 JSON files.")
    assert not names("Fernando Alfonso optimized a quantum computer's memory by 28%.")
    assert not names("The best way is to increase the number of cores in your GPU.")


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


@pytest.fixture(scope="module")
def corpus_facts() -> IngestResult:
    if not CORPUS.is_dir():
        pytest.skip("the corpus is not beside the checkout")
    return ingest_paths([CORPUS])


def test_a_percentage_is_not_the_count_with_the_same_digits() -> None:
    # SmolLM2 wrote "1.0% of the tests failed"; the sheet's 1 is a run count ("n=1")
    text = "1.0% of the gemma3:270m tests failed. gemma3:270m ran once (n=1)."
    summary, dropped = clean_prose(text, INSTRUCTIONS, SHEET, names_data)
    assert summary == "gemma3:270m ran once (n=1)."
    assert dropped == ["a figure not on the sheet: 1.0% of the gemma3:270m tests failed."]
