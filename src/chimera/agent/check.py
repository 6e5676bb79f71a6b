"""Check a report body against the facts: echoes stripped, numbers fact-checked (with the
nearest facts of each unsupported one), junk and repetition found, data entities and
important facts looked for, and the quality score. ``chimera check`` and the agent's own
``check_run`` share it, so a report scores the same whoever wrote it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from chimera.agent.echo import find_echoes, instruction_texts, strip_echoes
from chimera.agent.factcheck import CheckedClaim, FactCheck, KnownNumber, check_numbers
from chimera.agent.junk import JunkFinding, find_junk
from chimera.agent.known import known_numbers
from chimera.agent.mentions import Mentions, find_mentions
from chimera.agent.parse import parse_analysis
from chimera.agent.personas import BUILTIN, INSIGHT_AGENT, Persona
from chimera.agent.prompts import REPORT_SECTIONS
from chimera.agent.quality import QualityScore, ReportMeasures, score_report
from chimera.agent.repetition import repeated_share
from chimera.errors import ConfigError
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, render_digest
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import IngestSettings
from chimera.quantities import in_base

NEAREST = 3  # facts shown beside each unsupported number
_CHIMERA_REPORT = re.compile(r"\A# [^\n]+\n\n# Technical Report: ")
_FAILED_LINE = re.compile(r"\A\s*> \*\*This run failed:\*\*[^\n]*\n")


class ReportCheck(BaseModel):
    """Everything the check found in one report body."""

    model_config = ConfigDict(extra="forbid")

    body: str  # the body as checked: echoes removed
    words_written: int  # words of the body as written, echoes included
    factcheck: FactCheck
    nearest: dict[int, list[str]]  # index of an unsupported claim -> the nearest facts
    echoes: list[JunkFinding]  # text removed as echoed from the instructions
    junk: list[JunkFinding]  # echoes, control tokens, stray script, repetition; by line
    mentions: Mentions
    quality: QualityScore
    files: int = 0  # artifacts the facts came from
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not self.body.strip()

    def empty_reason(self) -> str:
        if self.echoes:
            return (
                f"the report body is empty once {len(self.echoes)} piece(s) of text echoed "
                "from the instructions are removed"
            )
        return "the report body is empty"


def assess(
    body: str,
    facts: IngestResult,
    known: Sequence[KnownNumber],
    *,
    instructions: Sequence[str],
    required_sections: Sequence[str] = REPORT_SECTIONS,
    target_words: tuple[int, int] = INSIGHT_AGENT.target_words,
    findings: int | None = None,
    recommendations: int | None = None,
) -> ReportCheck:
    """Check ``body`` against ``facts`` and ``known``; ``findings`` and ``recommendations``
    default to the counts parsed from the body itself (the agent passes its analysis's)."""
    echoes = [JunkFinding("echo", e.text, e.line) for e in find_echoes(body, instructions)]
    clean, _ = strip_echoes(body, instructions)
    clean = clean if clean.strip() else ""
    factcheck = check_numbers(clean, known)
    junk = find_junk(clean)
    parsed = parse_analysis(clean)
    mentions = find_mentions(clean, facts)
    written = len(body.split())
    measures = ReportMeasures(
        required_sections=required_sections,
        present_sections=list(parsed.sections),
        claims=len(factcheck.claims),
        grounded=len(factcheck.grounded),
        important=mentions.important,
        covered=mentions.covered,
        entities=mentions.entities,
        findings=len(parsed.findings) if findings is None else findings,
        recommendations=len(parsed.recommendations) if recommendations is None else recommendations,
        words=len(clean.split()),
        target_words=target_words,
        repeated_share=repeated_share(clean),
        repetitions=sum(1 for j in junk if j.kind == "repetition"),
        echoes=len(echoes),
        echoed_share=min(1.0, sum(len(e.evidence.split()) for e in echoes) / written)
        if written
        else 0.0,
        junk=sum(1 for j in junk if j.kind in ("control-token", "foreign-script")),
    )
    return ReportCheck(
        body=clean,
        words_written=written,
        factcheck=factcheck,
        nearest={
            i: nearest_facts(c, known)
            for i, c in enumerate(factcheck.claims)
            if c.status == "unsupported"
        },
        echoes=echoes,
        junk=sorted([*echoes, *junk], key=lambda j: (j.line, j.kind)),
        mentions=mentions,
        quality=score_report(measures),
        files=facts.inventory.ingested,
    )


def report_body(text: str) -> str:
    """The LLM's body of a Chimera report.md (between the header's rule and the Workflow
    Summary, without Chimera's failure line); any other Markdown as it is."""
    text = text.replace("\r\n", "\n")
    if not _CHIMERA_REPORT.match(text) or "\n## Workflow Summary" not in text:
        return text
    start = text.find("\n---\n")
    end = text.index("\n## Workflow Summary")
    if not 0 <= start < end:
        return text
    body = _FAILED_LINE.sub("", text[start + 5 : end], count=1)
    return re.sub(r"\n---\s*$", "\n", body.rstrip()) + "\n"


def check_report(
    report: Path,
    data: Sequence[Path],
    *,
    persona: Persona = INSIGHT_AGENT,
    required_sections: Sequence[str] = REPORT_SECTIONS,
    settings: IngestSettings | None = None,
) -> ReportCheck:
    """Read ``report``, ingest ``data`` and check the one against the other. The known
    numbers are those an agent run checks against (the inventory, each model's best and worst
    configurations, the findings' titles and the digest); echoes are looked for in every
    built-in persona's instructions and ``persona``'s."""
    if not report.is_file():
        raise ConfigError(f"{report}: no such report file; give the Markdown report to check")
    for path in data:
        if not path.exists():
            raise ConfigError(
                f"{path}: no such file or directory; give the benchmark artifacts the report "
                "is about"
            )
    try:
        text = report.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{report}: cannot be read ({exc.strerror})") from None
    facts = ingest_paths(data, settings)
    known = known_numbers(facts, [("digest", render_digest(facts, DEFAULT_BUDGET_TOKENS))])
    result = assess(
        report_body(text),
        facts,
        known,
        instructions=instruction_texts({**BUILTIN, persona.name: persona}.values()),
        required_sections=required_sections,
        target_words=persona.target_words,
    )
    inside = [p for p in data if p.is_dir() and report.resolve().is_relative_to(p.resolve())]
    if inside:
        result.note = (
            f"the report lies inside {inside[0]}, so it was ingested as an artifact too; "
            "move it out to keep its own tables from grounding its numbers"
        )
    return result


# --- nearest facts -----------------------------------------------------------------------------


def nearest_facts(checked: CheckedClaim, known: Sequence[KnownNumber]) -> list[str]:
    """The ``NEAREST`` known numbers closest to a claim's value (relative difference), in the
    claim's unit class when both have one: what the text may have meant to cite."""
    claim = checked.claim
    unit_class, base = in_base(claim.value, "%" if claim.is_percent else claim.unit)
    candidates = [*known, *_shares(known)] if claim.is_percent else known
    if claim.subject and any(k.subject == claim.subject for k in known):
        # "Markdown: 13": the Markdown facts are what it should have cited.
        subject = claim.subject
        candidates = [
            k for k in candidates if k.subject == subject or k.label.lower().startswith(subject)
        ]
    ranked: list[tuple[float, str, str]] = []
    for fact in candidates:
        pair = _comparable(unit_class, base, claim.value, fact)
        if pair is None:
            continue
        a, b = pair
        unit = f" {fact.unit}" if fact.unit else ""
        label = " ".join(fact.label.split())
        value = f"{fact.value:g}{unit}"
        ranked.append((abs(a - b) / max(abs(a), abs(b), 1e-12), value, f"{label}: {value}"))
    shown: dict[str, str] = {}  # one label per value: a group's mean, median and max agree
    for _, value, text in sorted(ranked):
        shown.setdefault(value, text)
        if len(shown) == NEAREST:
            break
    return list(shown.values())


def _shares(known: Sequence[KnownNumber]) -> list[KnownNumber]:
    """Each file count as a share of the total files: what a percentage about files may
    have meant."""
    files = [k for k in known if k.unit == "files" and k.derivable]
    totals = [k for k in files if "total" in k.label]
    if not totals:
        return []
    total = totals[0]  # the inventory lists the files analyzed first
    return [
        KnownNumber(round(k.value / total.value * 100, 1), f"{k.label} / {total.label}", "%")
        for k in files
        if k is not total and 0 < k.value <= total.value
    ]


def _comparable(
    unit_class: str | None, base: float, raw: float, fact: KnownNumber
) -> tuple[float, float] | None:
    """The claim's and the fact's values to compare, or None when their units cannot be."""
    fact_class, fact_base = in_base(fact.value, fact.unit)
    if unit_class == "%":
        if fact.unit in ("ratio", "fraction") or (fact.unit is None and 0 < fact.value < 1):
            return base, fact.value * 100
        return (base, fact.value) if fact_class == "%" else None
    if fact_class == "%":
        return None
    if unit_class and fact_class:
        return (base, fact_base) if unit_class == fact_class else None
    return raw, fact.value


# --- the JSON document ---------------------------------------------------------------------


def check_document(result: ReportCheck) -> dict[str, Any]:
    """``chimera check --json``: the quality score, every claim with its verdict, the junk
    and the mentions."""
    fc = result.factcheck
    return {
        "files": result.files,
        "note": result.note,
        "words": {"written": result.words_written, "checked": len(result.body.split())},
        "quality": result.quality.model_dump(),
        "factcheck": {
            "checked": len(fc.claims),
            "grounded": len(fc.grounded),
            "unsupported": len(fc.unsupported),
            "grounded_ratio": fc.grounded_ratio,
            "ignored": fc.ignored,
            "ignored_kinds": fc.ignored_kinds,
            "claims": [
                {
                    "raw": c.claim.raw,
                    "value": c.claim.value,
                    "unit": c.claim.unit,
                    "verdict": c.status,
                    "matched": c.matched,
                    "how": c.how,
                    "line": c.claim.line,
                    "sentence": c.claim.sentence,
                    "nearest": result.nearest.get(i, []),
                }
                for i, c in enumerate(fc.claims)
            ],
        },
        "junk": [{"kind": j.kind, "evidence": j.evidence, "line": j.line} for j in result.junk],
        "mentions": {
            "entities": result.mentions.entities,
            "important": result.mentions.important,
            "covered": result.mentions.covered,
            "missing": result.mentions.missing,
        },
    }
