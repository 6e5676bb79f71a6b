"""Echoed instructions: found by shared runs of words with the prompts, and stripped."""

from __future__ import annotations

from chimera.agent.echo import Echo, find_echoes, instruction_texts, strip_echoes
from chimera.agent.personas import BUILTIN, INSIGHT_AGENT
from chimera.agent.prompts import FACTS_OPEN, GROUNDING

INSIGHT = instruction_texts([INSIGHT_AGENT])


def test_instructions_are_the_prompts_without_the_quoted_data() -> None:
    texts = instruction_texts(BUILTIN.values())
    assert INSIGHT_AGENT.prompt in texts
    assert any(GROUNDING in t and "Aim for 300-400 words" in t for t in texts)
    assert any("Aim for 120-250 words" in t for t in texts)  # the collector's target
    assert not any(FACTS_OPEN in t for t in texts)


def test_the_report_instruction_echoed_back_is_found_and_stripped() -> None:
    body = (
        "## 1. Executive Summary\n"
        "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the "
        "header.\n\n"
        "gemma3:270m reached 303.9 tok/s at num_gpu=999.\n"
    )
    assert find_echoes(body, INSIGHT) == [
        Echo(
            2,
            "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds "
            "the header.",
            17,
        )
    ]
    clean, removed = strip_echoes(body, INSIGHT)
    assert clean == "## 1. Executive Summary\n\ngemma3:270m reached 303.9 tok/s at num_gpu=999.\n"
    assert removed == [
        "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the header."
    ]


def test_an_echoed_sentence_is_cut_from_a_line_that_says_more() -> None:
    body = (
        "- gemma3:270m is fastest. Use only numbers that appear in them, copied exactly with "
        "their units. TTFT is 0.05358 s."
    )
    clean, removed = strip_echoes(body, INSIGHT)
    assert clean == "- gemma3:270m is fastest. TTFT is 0.05358 s."
    assert removed == ["Use only numbers that appear in them, copied exactly with their units."]


def test_persona_items_echoed_as_list_items() -> None:
    body = (
        "1. Three optimisation recommendations that balance throughput, TTFT, and quality.\n"
        "2. A risk/mitigation table with at least two rows.\n"
        "3. Serve gemma3:270m with num_gpu=999.\n"
    )
    clean, removed = strip_echoes(body, INSIGHT)
    assert clean == "3. Serve gemma3:270m with num_gpu=999.\n"
    assert len(removed) == 2


def test_ordinary_prose_sharing_a_few_words_is_no_echo() -> None:
    body = (
        "The report uses only numbers that appear in the facts.\n"
        "The facts are silent on GPU memory.\n"
        "The three recommendations balance throughput, TTFT and quality for gemma3:270m, "
        "whose 303.9 tok/s leads the folder by a wide margin.\n"
    )
    assert find_echoes(body, INSIGHT) == []
    assert strip_echoes(body, INSIGHT) == (body, [])


def test_short_headings_are_the_layout_not_echoes() -> None:
    body = "## 2. Data Ingestion Summary\n**1. Executive summary of model performance.**\n"
    assert find_echoes(body, INSIGHT) == []


def test_no_instructions_no_echoes() -> None:
    body = "Aim for 300-400 words."
    assert strip_echoes(body, []) == (body, [])
