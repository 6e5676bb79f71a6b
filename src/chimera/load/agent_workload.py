"""``--agent-workload``: the requests a ``chimera run`` sends, from a folder of artifacts.

The artifacts are ingested as ``chimera run`` ingests them, and the agent's own choices are
made the same way for the model being loaded (``agent.calls``): by its size, a small model
(under 1B parameters) gets the json analysis with its schema, the brief instructions, the
composed report (the summary call alone) and the loop guards (temperature, repeat penalty,
a token cap per call); a large one the lines analysis and the whole report, with the
options as given. The fact sheet is built to the same budget, and the report call is written
from a plausible analysis (the narrator's findings on the sheet, what a run falls back to).
The load cycles through the two calls, each with its nonce line first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chimera.agent.calls import (
    ANSWER_RESERVE_TOKENS,
    call_options,
    choose_mode,
    choose_shape,
    small_model,
)
from chimera.agent.compose import findings_text
from chimera.agent.factsheet import build_factsheet, sheet_budget
from chimera.agent.model_size import model_parameters
from chimera.agent.personas import get_persona
from chimera.agent.prompts import analysis_messages, report_messages, summary_messages
from chimera.agent.spec import AgentSpec
from chimera.agent.structured import (
    StructuredAnalysis,
    analysis_schema,
    example_lines,
    with_fallback,
)
from chimera.agent.workflow import analysis_budget, trim_to_tokens
from chimera.backends.base import Backend
from chimera.errors import ConfigError, InputFileError
from chimera.ingest.digest import estimate_tokens
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.load.prompts import PromptEntry
from chimera.options import InferenceOptions

DEFAULT_PERSONA = "insight"
CALLS = ("analysis", "report")


@dataclass(frozen=True)
class AgentWorkload:
    """The artifacts read, before the model is known; ``entries`` makes the calls."""

    paths: tuple[Path, ...]
    facts: IngestResult
    spec: AgentSpec  # the options as the user gave them: the guards fill only what is unset

    def entries(
        self, backend_kind: str, parameters: float | None
    ) -> tuple[list[PromptEntry], dict[str, Any]]:
        """The agent's two calls for a model of ``parameters`` (None: unknown) served by
        ``backend_kind``, and what the document says of them."""
        spec, persona = self.spec, self.spec.persona
        small = small_model(backend_kind, parameters)
        shape = choose_shape(spec, backend_kind, parameters)
        mode = choose_mode(spec, backend_kind, parameters)
        analysis_options = call_options(spec, small, "analysis")
        overhead = estimate_tokens(persona.prompt) + 250
        answer = max(analysis_options.num_predict or 0, ANSWER_RESERVE_TOKENS)
        sheet = build_factsheet(self.facts, sheet_budget(spec.options.num_ctx, overhead, answer))
        analysis = analysis_messages(
            persona, sheet.text(), shape, example=example_lines(sheet), brief=mode == "compose"
        )
        plausible = with_fallback(StructuredAnalysis(shape="narrator"), sheet, "load workload")
        findings = findings_text(plausible, sheet)
        if mode == "compose":
            report, purpose = summary_messages(persona, findings), "summary"
        else:
            budget = analysis_budget(persona, spec.options, sheet.text())
            report = report_messages(persona, sheet.text(), trim_to_tokens(findings, budget))
            purpose = "report"
        report_options = call_options(spec, small, purpose)
        schema = analysis_schema(sheet) if shape == "json" else None
        # a large model's calls carry the run's options, as before: no options of their own
        entries = [
            PromptEntry(None, analysis, None, options=analysis_options if small else None,
                        json_schema=schema),
            PromptEntry(None, report, None, options=report_options if small else None),
        ]  # fmt: skip
        described = {
            "paths": [str(p) for p in self.paths],
            "persona": persona.name,
            "facts": len(sheet.facts),
            "model_parameters": parameters,
            "small_model": small,
            "analysis_shape": shape,
            "report_mode": mode,
            "calls": [
                {
                    "call": call,
                    "estimated_prompt_tokens": sum(
                        estimate_tokens(m.content) for m in e.messages or ()
                    ),
                    "options": e.options.set_options() if e.options else None,
                    "json_schema": e.json_schema is not None,
                }
                for call, e in zip(CALLS, entries, strict=True)
            ],
        }
        return entries, described


def read_workload(
    paths: Sequence[Path], options: InferenceOptions, persona_name: str = DEFAULT_PERSONA
) -> AgentWorkload:
    """Ingest ``paths`` as ``chimera run`` does. A path that does not exist, or a folder with
    nothing to analyse, is a ConfigError naming it."""
    for path in paths:
        if not path.exists():
            raise ConfigError(f"--agent-workload: {path} does not exist")
    try:
        facts = ingest_paths(paths)
    except InputFileError as exc:
        raise ConfigError(f"--agent-workload: {exc}") from None
    if not facts.artifacts:
        raise ConfigError(
            f"--agent-workload: no artifact to analyse in {', '.join(map(str, paths))}"
        )
    persona = get_persona(persona_name)
    spec = AgentSpec(agent_id="load", label="load", persona=persona, model="load", options=options)
    return AgentWorkload(tuple(paths), facts, spec)


async def agent_entries(
    workload: AgentWorkload, backend: Backend, model: str
) -> tuple[list[PromptEntry], dict[str, Any]]:
    """The calls for ``model`` on ``backend``, its size asked as ``chimera run`` asks it."""
    parameters = await model_parameters(backend, model)
    return workload.entries(backend.kind, parameters)
