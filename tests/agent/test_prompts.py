"""The analysis prompt per persona: the task through the structured analysis, both shapes."""

from __future__ import annotations

from pathlib import Path

from chimera.agent.personas import DATA_COLLECTOR, INSIGHT_AGENT, load_personas
from chimera.agent.prompts import FACTS_OPEN, GENERAL_TASK, analysis_messages

SHEET = "F1. Files: 3 read (CSV 3); 0 skipped.\n"


def test_each_persona_gets_its_task_and_the_sheet_quoted(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text(
        '[personas.auditor]\nlabel = "Auditor"\nprompt = "You are a sceptical auditor.\\n'
        'List every number that cannot be trusted."\n',
        encoding="utf-8",
    )
    auditor = load_personas(toml)["auditor"]
    for persona, task in (
        (INSIGHT_AGENT, "balance throughput, TTFT and quality"),
        (DATA_COLLECTOR, "the files, their counts and the gaps"),
        (auditor, GENERAL_TASK),
    ):
        system, user = analysis_messages(persona, SHEET, "lines")
        assert system.content == persona.prompt and task in user.content
        assert f"{FACTS_OPEN}\n{SHEET}" in user.content and "[F2]" in user.content
        _, json_user = analysis_messages(persona, SHEET, "json")
        assert '"findings"' in json_user.content and "[F2]" not in json_user.content
    brief, _ = analysis_messages(auditor, SHEET, brief=True)
    assert brief.content == "You are a sceptical auditor."  # its first line for a small model


def test_the_example_shows_the_format_on_the_sheets_own_fact() -> None:
    example = "[F2] m:1b is the fastest model, at 51 tok/s.\nR1: Run m:1b with num_gpu=80."
    _, user = analysis_messages(INSIGHT_AGENT, SHEET, example=example)
    assert user.content.rstrip().endswith(example)
