"""The structured analysis: findings that cite fact-sheet ids, recommendations tied to a
finding; its JSON schema, the parsers of both answer shapes, and the narrator's fallback (pure).

Two shapes: ``json`` (a schema the server enforces, fact ids as an enum) and ``lines`` (plain
``[F3] statement`` and ``R1: action`` lines, parsed robustly). Whatever the shape, a fact id
outside the sheet is rejected, and a statement whose figures are not in the facts it cites is
replaced by those facts: the numbers shown beside a finding come from the facts, never from
the model's digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chimera.agent.echo import find_echoes
from chimera.agent.factsheet import FactSheet, SheetFact
from chimera.agent.junk import CONTROL_TOKEN
from chimera.agent.narrate import REMEDIES
from chimera.quantities import NUMERAL, numeral_value

Shape = Literal["json", "lines"]
MAX_FINDINGS = 6
MIN_FINDINGS = 4  # what the json shape's schema requires (the persona asks for three)
MAX_RECOMMENDATIONS = 5
MAX_STATEMENT_CHARS = 240
MAX_FACTS_CITED = 3
NEAR_COPY = 0.75  # word overlap (Jaccard) that makes two statements one, as in repetition.py


class CitedFinding(BaseModel):
    """A finding and the fact ids it rests on."""

    model_config = ConfigDict(extra="forbid")

    facts: list[str] = Field(min_length=1)
    statement: str


class TiedRecommendation(BaseModel):
    """A recommendation and the (1-based) finding it acts on."""

    model_config = ConfigDict(extra="forbid")

    finding: int = Field(ge=1)
    action: str


class AnalysisAnswer(BaseModel):
    """What the json shape asks for; validated before any id is looked at."""

    model_config = ConfigDict(extra="ignore")

    findings: list[CitedFinding]
    recommendations: list[TiedRecommendation] = Field(default_factory=list)


class StructuredAnalysis(BaseModel):
    """The analysis an agent run works from, and how it was obtained."""

    model_config = ConfigDict(extra="forbid")

    shape: str = Field(description="json, lines, or narrator when nothing valid came back")
    findings: list[CitedFinding] = Field(default_factory=list)
    recommendations: list[TiedRecommendation] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list, description="what was dropped, and why")
    fallback: list[str] = Field(default_factory=list, description="parts the narrator wrote")
    model_findings: int = Field(0, description="findings the model wrote that were kept")


def analysis_schema(sheet: FactSheet) -> dict[str, Any]:
    """The json shape's schema: the sheet's ids as an enum, short strings, bounded lists."""
    finding = {
        "type": "object",
        "properties": {
            "facts": {
                "type": "array",
                "items": {"type": "string", "enum": sheet.ids or ["F1"]},
                "minItems": 1,
                "maxItems": MAX_FACTS_CITED,
            },
            # short strings keep a small model's statements from running into the token cap
            "statement": {"type": "string", "minLength": 10, "maxLength": 120},
        },
        "required": ["facts", "statement"],
        "additionalProperties": False,
    }
    recommendation = {
        "type": "object",
        "properties": {
            "finding": {"type": "integer", "minimum": 1, "maximum": MAX_FINDINGS},
            "action": {"type": "string", "minLength": 10, "maxLength": 100},
        },
        "required": ["finding", "action"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "findings": {
                "type": "array",
                "items": finding,
                "minItems": min(MIN_FINDINGS, len(sheet.ids)) or 1,
                "maxItems": MAX_FINDINGS - 1,
            },
            "recommendations": {
                "type": "array",
                "items": recommendation,
                "minItems": 1,
                "maxItems": 3,
            },
        },
        "required": ["findings", "recommendations"],
        "additionalProperties": False,
    }


# --- parsing ---------------------------------------------------------------------------------

_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_json(text: str) -> AnalysisAnswer | None:
    """The json shape's answer, or None when it is not valid JSON of that shape (a fence or
    text around the object is tolerated)."""
    m = _JSON_OBJECT.search(text)
    if m is None:
        return None
    try:
        # strict=False: a grammar lets a raw newline into a string, which JSON does not
        return AnalysisAnswer.model_validate(json.loads(m.group(0), strict=False))
    except (ValueError, ValidationError):
        return None


_IDS = r"F\d{1,3}(?:\s*(?:,|;|and|&|/)\s*F?\d{1,3})*"
_FINDING_LINE = re.compile(
    r"^\s*(?:[-*+•]\s*|\d{1,2}[.)]\s*)?(?:\*\*)?[\[(]\s*("
    + _IDS
    + r")\s*[\])](?:\*\*)?[:.\-–—\s]*(.*)$",
    re.I,
)
_TRAILING_IDS = re.compile(
    r"^\s*(?:[-*+•]\s*|\d{1,2}[.)]\s*)?(.+?)\s*[\[(]\s*(" + _IDS + r")\s*[\])]\s*\.?$", re.I
)
# A bare id opening a line, as small models copy the sheet: "F2. gemma3 ..." or "F2: ...".
_BARE_ID_LINE = re.compile(
    r"^\s*(?:[-*+•]\s*|\d{1,2}[.)]\s*)?(?:\*\*)?(" + _IDS + r")(?:\*\*)?\s*[.:),\-–—]\s*(.+)$",
    re.I,
)
_REC_LINE = re.compile(
    r"^\s*(?:[-*+•]\s*|\d{1,2}[.)]\s*)?(?:\*\*)?R(?:ec(?:ommendation)?)?\s*\(?(\d{1,2})\)?(?:\*\*)?\s*[:.)\-–—]\s*(.+)$",
    re.I,
)


def _ids(raw: str) -> list[str]:
    return [f"F{n}" for n in re.findall(r"\d{1,3}", raw)]


def parse_lines(text: str) -> AnalysisAnswer:
    """Findings (``[F3] statement``, also ``- (F3, F5): ...`` or ``statement [F3]``) and
    recommendations (``R1: action``, ``Recommendation 2 - action``) from free text; other
    lines are ignored."""
    findings: list[CitedFinding] = []
    recs: list[TiedRecommendation] = []
    for line in CONTROL_TOKEN.sub(" ", text).splitlines():
        if rec := _REC_LINE.match(line):
            recs.append(TiedRecommendation(finding=max(1, int(rec.group(1))), action=rec.group(2)))
        elif (m := _FINDING_LINE.match(line)) or (m := _BARE_ID_LINE.match(line)):
            findings.append(CitedFinding(facts=_ids(m.group(1)), statement=m.group(2)))
        elif m := _TRAILING_IDS.match(line):
            findings.append(CitedFinding(facts=_ids(m.group(2)), statement=m.group(1)))
    return AnalysisAnswer(findings=findings, recommendations=recs)


# --- validation ------------------------------------------------------------------------------

# a figure, not part of a version ("1.2.3") or a longer word; a percentage keeps its sign
_NUMBER = re.compile(rf"(?<![\w.])({NUMERAL})(?!\d|\.\d)(\s?%)?")
_WORD = re.compile(r"[a-z0-9]+")


def _clean(text: str) -> str:
    text = CONTROL_TOKEN.sub(" ", text).replace("**", "").replace("`", "")
    text = " ".join(text.split()).strip(" -:;,")
    if len(text) > MAX_STATEMENT_CHARS:  # a statement that runs on is cut at a sentence end
        cut = text[:MAX_STATEMENT_CHARS]
        end = cut.rfind(". ")
        text = cut[: end + 1] if end > 40 else cut.rstrip() + "..."
    return text


def numbers_in(text: str) -> set[str]:
    """The figures written in ``text``, normalised (``1,024`` and ``1024.0`` are ``1024``); a
    percentage keeps its sign ("1.0%" is not the 1 of "n=1")."""
    out = set()
    for raw, percent in _NUMBER.findall(text):
        out.add(repr(numeral_value(raw)) + ("%" if percent else ""))
    return out


def _about(statement: str, facts: Sequence[SheetFact | None]) -> bool:
    """Whether a statement names something of the facts it cites: a figure, a model (its
    family is enough: "gemma3"), a word of a finding's kind, or files for the inventory.
    "The best way to optimise a Chimera is more GPU cores" citing a model's throughput is not
    about it."""
    text = statement.lower()
    for fact in facts:
        if fact is None:
            continue
        if numbers_in(statement) & numbers_in(fact.text):
            return True
        if fact.model and fact.model.lower().split(":")[0] in text:
            return True
        kind = fact.finding_kind or ""
        if any(len(w) >= 5 and w in text for w in kind.split("_")):
            return True
        if fact.kind == "inventory" and "file" in text:
            return True
    return False


def _loops(text: str) -> bool:
    """A degenerate statement: 8 words or more, fewer than a third of them distinct."""
    words = _WORD.findall(text.lower())
    return len(words) >= 8 and len(set(words)) < len(words) / 3


def _near_copy(a: str, b: str) -> bool:
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= NEAR_COPY


def validate(
    answer: AnalysisAnswer, sheet: FactSheet, shape: str, instructions: Sequence[str] = ()
) -> StructuredAnalysis:
    """Keep what can be trusted: findings citing ids on the sheet (unknown ids rejected),
    no near-copies, statements whose figures are in their facts (else the facts are shown
    instead), recommendations tied to a kept finding."""
    out = StructuredAnalysis(shape=shape)
    renumber: dict[int, int] = {}
    for i, f in enumerate(answer.findings, 1):
        ids = list(dict.fromkeys(x.upper() for x in f.facts))
        unknown = [x for x in ids if sheet.get(x) is None]
        if unknown:
            out.rejected.append(f"finding {i} cites {', '.join(unknown)}, not on the fact sheet")
        ids = [x for x in ids if sheet.get(x) is not None][:MAX_FACTS_CITED]
        if not ids:
            continue
        statement = _clean(f.statement)
        if len(_WORD.findall(statement)) < 3:  # "...", "F2": nothing said
            statement = ""
        if any(
            set(ids) == set(k.facts) and (not k.statement or _near_copy(statement, k.statement))
            for k in out.findings
        ):
            out.rejected.append(f"finding {i} repeats an earlier finding")
            continue
        facts_text = " ".join(sheet.get(x).text for x in ids)  # type: ignore[union-attr]
        stray = numbers_in(statement) - numbers_in(facts_text) - numbers_in(" ".join(ids))
        if statement and find_echoes(statement, instructions):
            out.rejected.append(f"finding {i}'s statement echoes the instructions")
            statement = ""
        elif _loops(statement):
            out.rejected.append(
                f"finding {i}'s statement goes round in a loop: the facts are shown"
            )
            statement = ""
        elif stray:
            out.rejected.append(
                f"finding {i}'s statement has {', '.join(sorted(stray))}, not in "
                f"{', '.join(ids)}: the facts are shown instead"
            )
            statement = ""
        elif statement and not _about(statement, [sheet.get(x) for x in ids]):
            out.rejected.append(
                f"finding {i}'s statement names nothing of {', '.join(ids)}: the facts are shown"
            )
            statement = ""
        elif statement and any(_near_copy(statement, k.statement) for k in out.findings):
            out.rejected.append(
                f"finding {i}'s statement repeats an earlier one: the facts are shown"
            )
            statement = ""
        if not statement and any(set(ids) <= set(k.facts) for k in out.findings):
            # only facts an earlier finding already shows: the report would print them twice
            out.rejected.append(f"finding {i} shows only facts an earlier finding shows")
            continue
        if len(out.findings) == MAX_FINDINGS:
            out.rejected.append(f"finding {i} is beyond the {MAX_FINDINGS} kept")
            continue
        out.findings.append(CitedFinding(facts=ids, statement=statement))
        renumber[i] = len(out.findings)
    out.model_findings = len(out.findings)
    for j, r in enumerate(answer.recommendations, 1):
        action = _clean(r.action)
        if action and find_echoes(action, instructions):
            out.rejected.append(f"recommendation {j} echoes the instructions")
        elif r.finding not in renumber:
            out.rejected.append(
                f"recommendation {j} acts on finding {r.finding}, which was not kept"
            )
        elif len(action.split()) < 3 or any(
            _near_copy(action, k.action) for k in out.recommendations
        ):
            out.rejected.append(f"recommendation {j} is empty or repeats an earlier one")
        elif not _about(
            action, [sheet.get(x) for x in out.findings[renumber[r.finding] - 1].facts]
        ):
            out.rejected.append(f"recommendation {j} names nothing of finding {r.finding}'s facts")
        elif len(out.recommendations) < MAX_RECOMMENDATIONS:
            out.recommendations.append(
                TiedRecommendation(finding=renumber[r.finding], action=action)
            )
    return out


# --- the narrator's fallback -------------------------------------------------------------------


def narrator_findings(sheet: FactSheet, limit: int = 4) -> list[CitedFinding]:
    """Deterministic findings: the fastest models' and the error-level facts, as they are."""
    models = [f for f in sheet.facts if f.kind == "model" and "best mean throughput" in f.text]
    problems = [f for f in sheet.facts if f.kind == "finding"]
    picked = [*models[:2], *problems[: limit - min(2, len(models))]][:limit]
    if not picked:
        picked = list(sheet.facts[:1])
    return [CitedFinding(facts=[f.id], statement="") for f in picked]


def narrator_recommendations(
    sheet: FactSheet, findings: list[CitedFinding], limit: int = 3
) -> list[TiedRecommendation]:
    """A remedy for each finding about a data problem, and the best configuration for a model."""
    out: list[TiedRecommendation] = []
    for i, f in enumerate(findings, 1):
        fact = sheet.get(f.facts[0])
        if fact is None:
            continue
        if fact.finding_kind in REMEDIES:
            out.append(TiedRecommendation(finding=i, action=REMEDIES[fact.finding_kind]))
        elif fact.kind == "model" and fact.model and " with " in fact.text:
            setting = fact.text.split(" with ", 1)[1].rsplit(" (n=", 1)[0]
            out.append(TiedRecommendation(finding=i, action=f"Run {fact.model} with {setting}."))
    if not out and findings:
        out.append(
            TiedRecommendation(
                finding=1,
                action="Repeat each configuration at least five times with a fixed prompt set.",
            )
        )
    return out[:limit]


def with_fallback(
    analysis: StructuredAnalysis, sheet: FactSheet, reason: str
) -> StructuredAnalysis:
    """``analysis`` with the narrator's findings or recommendations where it has none,
    each part that fell back named with ``reason``."""
    if not analysis.findings:
        analysis.findings = narrator_findings(sheet)
        analysis.recommendations = []
        analysis.fallback.append(f"findings: {reason}")
    if not analysis.recommendations:
        analysis.recommendations = narrator_recommendations(sheet, analysis.findings)
        analysis.fallback.append(f"recommendations: {reason}")
    return analysis


def finding_text(f: CitedFinding, sheet: FactSheet) -> str:
    """A finding as the report shows it: the statement, then the cited facts with their
    figures (the sheet's, never the model's)."""
    facts = [(x, fact.text.rstrip(".")) for x in f.facts if (fact := sheet.get(x))]
    if f.statement:
        return f"{f.statement} ({'; '.join(f'{x}: {text}' for x, text in facts)})"
    return "; ".join(f"{text} ({x})" for x, text in facts)


def finding_lines(
    number: int, f: CitedFinding, sheet: FactSheet, shown: set[str] | None = None
) -> list[str]:
    """A finding as a numbered Markdown item: the statement with its facts, or (no statement
    of the model's kept) the first cited fact and the others as sub-items, each with its id.
    Facts in ``shown`` (written by an earlier finding) are not written again; the ids written
    are added to it."""
    shown = set() if shown is None else shown
    if f.statement:
        shown.update(f.facts)
        return [f"{number}. {finding_text(f, sheet)}"]
    facts = [
        (x, fact.text.rstrip(".")) for x in f.facts if x not in shown and (fact := sheet.get(x))
    ]
    shown.update(x for x, _ in facts)
    if not facts:
        return []
    (first_id, first), rest = facts[0], facts[1:]
    return [f"{number}. {first} ({first_id})", *(f"   - {text} ({x})" for x, text in rest)]


# What an example may quote from the data (it sits outside the facts markers, among the
# instructions): a model name, and 'server defaults' or key=value settings; nothing with prose
# in it, which could be an instruction written into a file.
_PLAIN_MODEL = re.compile(r"[\w.:/+-]{1,80}")
_PLAIN_SETTING = re.compile(r"server defaults|[\w.]+=[\w.:/+-]+(?:, [\w.]+=[\w.:/+-]+)*")


def example_lines(sheet: FactSheet) -> str | None:
    """The line format shown on the sheet's fastest model (a finding and a recommendation),
    or None when the sheet has no model, or its name or setting is not plain."""
    fact = next((f for f in sheet.facts if f.kind == "model" and " with " in f.text), None)
    if fact is None or fact.model is None or not _PLAIN_MODEL.fullmatch(fact.model):
        return None
    figure = fact.text.split(" with ", 1)[0].rsplit(" ", 2)[-2:]
    setting = fact.text.split(" with ", 1)[1].rsplit(" (n=", 1)[0]
    if not _PLAIN_SETTING.fullmatch(setting):
        return None
    return (
        f"[{fact.id}] {fact.model} is the fastest model, at {' '.join(figure)}.\n"
        f"R1: Run {fact.model} with {setting}."
    )
