"""The analysis call: the fact sheet in, findings citing fact ids out, validated, with one
repair call for a json answer that is not JSON of the schema and the narrator's findings
as the recorded fallback."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chimera.agent.calls import call, choose_shape
from chimera.agent.echo import instruction_texts
from chimera.agent.factsheet import FactSheet
from chimera.agent.parse import ParsedAnalysis
from chimera.agent.prompts import analysis_messages, with_nonce
from chimera.agent.spec import AgentRun
from chimera.agent.structured import (
    AnalysisAnswer,
    StructuredAnalysis,
    analysis_schema,
    example_lines,
    finding_text,
    parse_json,
    parse_lines,
    validate,
    with_fallback,
)
from chimera.backends.base import Backend
from chimera.calls import CallResult

_THINK = re.compile(r"<think>.*?</think>\s*", re.S)
_FENCE = re.compile(r"^\s*```(?:markdown|md)?\s*\n(.*)\n\s*```\s*$", re.S)


def clean_body(text: str) -> str:
    """The LLM's report without reasoning blocks or a fence wrapped around the whole answer."""
    text = _THINK.sub("", text)
    if m := _FENCE.match(text):
        text = m.group(1)
    return text.strip() + "\n"


def interpret(
    text: str, shape: str, sheet: FactSheet, instructions: Sequence[str] = ()
) -> tuple[StructuredAnalysis, bool]:
    """The validated analysis of one answer, and whether the answer had its shape (valid
    JSON of the schema; for lines, at least one cited finding)."""
    answer: AnalysisAnswer | None = parse_json(text) if shape == "json" else None
    if answer is None:
        answer = parse_lines(clean_body(text))  # a json answer that fell back to lines
        valid = shape == "lines" and bool(answer.findings)
        return validate(answer, sheet, "lines", instructions), valid
    return validate(answer, sheet, "json", instructions), True


async def analyse(
    run: AgentRun, backend: Backend, sheet: FactSheet, nonce: str | None
) -> CallResult | None:
    """The analysis call (and, for a json answer that is not valid, one repair call); sets
    ``run.structured``, falling back to the narrator's findings with the reason recorded."""
    spec = run.spec
    shape = run.analysis_shape or choose_shape(spec, backend.kind, run.model_parameters)
    schema = analysis_schema(sheet) if shape == "json" else None
    small = run.report_mode == "compose"
    prompt = analysis_messages(
        spec.persona, sheet.text(), shape, example=example_lines(sheet), brief=small
    )
    messages = with_nonce(prompt, nonce)
    answer = await call(run, backend, "analysis", messages, json_schema=schema)
    if answer is None:
        return None
    if backend.kind == "offline":
        run.structured = with_fallback(
            StructuredAnalysis(shape="narrator"), sheet, "written offline, without an LLM"
        )
        return answer
    instructions = instruction_texts([spec.persona])
    structured, well_formed = interpret(answer.text, shape, sheet, instructions)
    if (
        shape == "json"
        and not well_formed
        and not structured.findings
        and answer.done_reason == "length"
    ):
        # the same cap would cut the same document again: no second call
        structured.rejected.append(
            "the JSON answer was cut by the token cap (num_predict); not asked again"
        )
    elif shape == "json" and not well_formed and not structured.findings:
        structured.rejected.append("the answer was not JSON of the schema; asked once more")
        repair = await call(run, backend, "analysis", messages, json_schema=schema)
        if repair is None:
            return None
        again, _ = interpret(repair.text, shape, sheet, instructions)
        again.rejected[:0] = structured.rejected
        structured, answer = again, repair
    if not structured.findings:
        reason = "the model's answer had no finding citing a fact on the sheet"
        structured = with_fallback(structured, sheet, reason)
    elif not structured.recommendations:
        structured = with_fallback(
            structured, sheet, "the model tied no recommendation to a finding"
        )
    run.structured = structured
    return answer


def as_parsed(structured: StructuredAnalysis, sheet: FactSheet) -> ParsedAnalysis:
    """The analysis by role, as the report's Key Findings and Recommendations show it."""
    return ParsedAnalysis(
        executive_summary="",
        findings=[finding_text(f, sheet) for f in structured.findings],
        recommendations=[r.action for r in structured.recommendations],
        sections={},
        risks=[],
    )
