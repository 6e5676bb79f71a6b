"""``--agent-workload``: the requests a ``chimera run`` sends, from a folder of artifacts.

The artifacts are ingested as ``chimera run`` ingests them, the numbered fact sheet is built
to the same budget, and the agent's own prompt builders make its two calls: the analysis
(the sheet, lines format with the sheet's own example) and the report, written from a
plausible analysis (the narrator's findings on the sheet, what a run falls back to). The
load cycles through them, each with its nonce line first, as any prompts file is served.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chimera.agent.calls import ANSWER_RESERVE_TOKENS
from chimera.agent.compose import findings_text
from chimera.agent.factsheet import build_factsheet, sheet_budget
from chimera.agent.personas import get_persona
from chimera.agent.prompts import analysis_messages, report_messages
from chimera.agent.structured import StructuredAnalysis, example_lines, with_fallback
from chimera.agent.workflow import analysis_budget, trim_to_tokens
from chimera.errors import ConfigError, InputFileError
from chimera.ingest.digest import estimate_tokens
from chimera.ingest.pipeline import ingest_paths
from chimera.load.prompts import PromptEntry
from chimera.options import InferenceOptions

DEFAULT_PERSONA = "insight"
CALLS = ("analysis", "report")


def agent_entries(
    paths: Sequence[Path], options: InferenceOptions, persona_name: str = DEFAULT_PERSONA
) -> tuple[list[PromptEntry], dict[str, Any]]:
    """The agent's calls over ``paths`` as prompt entries (analysis, report), and what the
    document says of them. A path that does not exist is a ConfigError naming it."""
    for path in paths:
        if not path.exists():
            raise ConfigError(f"--agent-workload: {path} does not exist")
    try:
        facts = ingest_paths(paths)
    except InputFileError as exc:
        raise ConfigError(f"--agent-workload: {exc}") from None
    persona = get_persona(persona_name)
    overhead = estimate_tokens(persona.prompt) + 250
    sheet = build_factsheet(facts, sheet_budget(options.num_ctx, overhead, ANSWER_RESERVE_TOKENS))
    if not facts.artifacts:
        raise ConfigError(
            f"--agent-workload: no artifact to analyse in {', '.join(map(str, paths))}"
        )
    analysis = analysis_messages(persona, sheet.text(), "lines", example=example_lines(sheet))
    plausible = with_fallback(StructuredAnalysis(shape="narrator"), sheet, "load workload")
    findings = trim_to_tokens(
        findings_text(plausible, sheet), analysis_budget(persona, options, sheet.text())
    )
    report = report_messages(persona, sheet.text(), findings)
    entries = [PromptEntry(None, analysis, None), PromptEntry(None, report, None)]
    described = {
        "paths": [str(p) for p in paths],
        "persona": persona.name,
        "facts": len(sheet.facts),
        "calls": [
            {
                "call": call,
                "estimated_prompt_tokens": sum(
                    estimate_tokens(m.content) for m in e.messages or ()
                ),
            }
            for call, e in zip(CALLS, entries, strict=True)
        ],
    }
    return entries, described
