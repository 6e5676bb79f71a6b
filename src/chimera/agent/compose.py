"""The report body in the seed layout, laid out by Chimera around a small model's prose (pure).

A 135M model cannot write six sections without drifting into loops and invented figures, but
it can pick and phrase findings and write two or three sentences. So Chimera renders what is
deterministic (the inventory, the performance table, the findings with the figures of the
facts they cite, the recommendations) and the model's summary is the Executive Summary, cut
of repeated sentences and echoed instructions and then fact-checked like any text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from chimera.agent.echo import strip_echoes
from chimera.agent.factsheet import FactSheet
from chimera.agent.junk import CONTROL_TOKEN
from chimera.agent.mentions import names_data
from chimera.agent.narrate import performance_table
from chimera.agent.prompts import FACTS_CLOSE, FACTS_OPEN, REPORT_SECTIONS
from chimera.agent.structured import (
    StructuredAnalysis,
    finding_lines,
    finding_text,
    numbers_in,
)
from chimera.ingest.pipeline import IngestResult

MAX_SUMMARY_SENTENCES = 4
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")
# "104 files", "44 JSON files": the inventory, named by its count.
_FILE_COUNT = re.compile(r"\b\d[\d,]*\s+(?:[A-Za-z]+\s+)?files?\b", re.I)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s.*|\*\*[^*]+\*\*:?|[A-Z][\w ]{0,40}:)\s*$")


def names_data_in(facts: IngestResult) -> Callable[[str], bool]:
    """Whether a sentence names something of ``facts``: a model, metric, configuration or
    file, or the inventory by its count ("104 files")."""
    names = names_data(facts)
    return lambda sentence: bool(_FILE_COUNT.search(sentence)) or names(sentence)


def findings_text(analysis: StructuredAnalysis, sheet: FactSheet) -> str:
    """The validated findings and recommendations, numbered, as the summary call reads them."""
    lines = [f"{i}. {finding_text(f, sheet)}" for i, f in enumerate(analysis.findings, 1)]
    lines += [f"Recommendation: {r.action}" for r in analysis.recommendations]
    return "\n".join(lines)


def clean_prose(
    text: str,
    instructions: Sequence[str],
    facts: str | None = None,
    names_data: Callable[[str], bool] | None = None,
) -> tuple[str, list[str]]:
    """A small model's summary as a paragraph: no control tokens, headings, echoed
    instructions or sentence repeating an earlier one, at most a few sentences, and no
    unfinished last sentence; with ``facts``, no sentence with a figure that is not in them
    (as for a finding's statement); with ``names_data``, no sentence that names nothing of
    the data (no model, metric, configuration or file: "The best way to optimize a Chimera is
    more GPUs"), figures or not: SmolLM2 wrote "memory ... by 28% with a single instruction",
    28 being the CSV files. Returns the paragraph and the dropped sentences, each with why."""
    allowed = numbers_in(facts) if facts is not None else None
    dropped: list[str] = []
    text = CONTROL_TOKEN.sub(" ", text).replace(FACTS_OPEN, " ").replace(FACTS_CLOSE, " ")
    text, _ = strip_echoes(text, instructions)
    lines = [ln.strip() for ln in text.splitlines()]
    # headings are told before list marks are stripped: "**Summary:**" is one
    prose = " ".join(ln.lstrip("-*> ").strip() for ln in lines if ln and not _HEADING.match(ln))
    kept: list[str] = []
    seen: list[set[str]] = []
    for sentence in _SENTENCE.split(" ".join(prose.split())):
        words = set(_WORD.findall(sentence.lower()))
        if len(words) < 3 or any(len(words & s) / len(words | s) >= 0.6 for s in seen):
            continue
        figures = numbers_in(sentence)
        if allowed is not None and figures - allowed:
            dropped.append(f"a figure not on the sheet: {sentence}")
            continue
        if names_data is not None and not names_data(sentence):
            dropped.append(f"names nothing of the data: {sentence}")
            continue
        seen.append(words)
        kept.append(sentence)
        if len(kept) == MAX_SUMMARY_SENTENCES:
            break
    if kept and not kept[-1].rstrip().endswith((".", "!", "?")) and len(kept) > 1:
        kept.pop()  # cut off by the token cap mid-sentence
    return " ".join(kept), dropped


def compose_body(
    result: IngestResult, sheet: FactSheet, analysis: StructuredAnalysis, summary: str
) -> str:
    """The six sections of the seed layout; ``summary`` is the model's (already cleaned)."""
    inventory = next((f for f in sheet.facts if f.kind == "inventory"), None)
    errors = [f for f in result.findings if f.severity == "error"]
    ingestion = [f"- {inventory.text}" if inventory else "- No files were read."]
    if errors:
        kinds = sorted({f.kind.replace("_", " ") for f in errors})
        ingestion.append(f"- Data-quality errors to fix first: {', '.join(kinds)}.")
    shown: set[str] = set()  # a fact cited again by a later finding is written once
    findings = [
        line
        for i, f in enumerate(analysis.findings, 1)
        for line in finding_lines(i, f, sheet, shown) or [f"{i}. As above ({', '.join(f.facts)})."]
    ]
    recs = [
        f"{i}. {r.action} (acts on finding {r.finding})"
        for i, r in enumerate(analysis.recommendations, 1)
    ]
    appendix = [
        "Figures beside each finding are quoted from Chimera's fact sheet (the fact ids in "
        "parentheses), not from the model's text."
    ]
    if analysis.fallback:
        appendix.append(
            "Written by Chimera's narrator, not the model: " + "; ".join(analysis.fallback) + "."
        )
    body: dict[str, list[str]] = {
        "Executive Summary": [summary or "The model wrote no usable summary; see the findings."],
        "Data Ingestion Summary": ingestion,
        "Performance Analysis": performance_table(result),
        "Key Findings": findings or ["- No finding could be tied to a fact."],
        "Recommendations": recs or ["- No recommendation could be tied to a finding."],
        "Appendix": appendix,
    }
    out: list[str] = []
    for i, name in enumerate(REPORT_SECTIONS, 1):
        out += [f"## {i}. {name}", "", *body[name], ""]
    return "\n".join(out)
