"""The numbered fact sheet an analysis cites: one short line per fact, ``F<n>. ...`` (pure).

A 135M model copies a short numbered line and its figures far better than it reads a dense
digest, and a fact id it cites can be checked. Lines are chosen by priority (the inventory,
each model's best configuration, error-level findings, worst configurations and TTFT, then
warnings and notes) until the token budget is used, and numbered in that order, so the same
folder and budget always give the same sheet; a bigger ``num_ctx`` gives a longer sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chimera.agent.known import ModelSummary, model_summaries
from chimera.ingest.digest import estimate_tokens
from chimera.ingest.findings import Finding
from chimera.ingest.inventory import TYPE_LABELS
from chimera.ingest.pipeline import IngestResult
from chimera.ingest.stats import Stat
from chimera.ingest.values import fmt_num

FactKind = Literal["inventory", "model", "finding"]
MIN_SHEET_TOKENS = 120
MAX_SHEET_TOKENS = 3000
MAX_FACT_CHARS = 170  # a longer line is cut: small models lose the thread in long lines
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class SheetFact:
    """One line of the sheet: its id (``F3``), its text, and what it is about."""

    id: str
    text: str
    kind: FactKind
    model: str | None = None
    finding_kind: str | None = None
    severity: str | None = None

    @property
    def line(self) -> str:
        return f"{self.id}. {self.text}"


@dataclass(frozen=True, slots=True)
class FactSheet:
    """The numbered facts, and how many were left out for the budget."""

    facts: tuple[SheetFact, ...]
    left_out: int = 0

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.facts]

    def get(self, fact_id: str) -> SheetFact | None:
        return next((f for f in self.facts if f.id == fact_id.upper()), None)

    def text(self) -> str:
        lines = [f.line for f in self.facts]
        if self.left_out:
            lines.append(f"({self.left_out} more fact(s) left out to fit the context)")
        return "\n".join(lines) + "\n"


def sheet_budget(num_ctx: int | None, overhead_tokens: int, answer_tokens: int) -> int:
    """Tokens the sheet may take: a third of what the context leaves after the instructions
    and the answer, within fixed bounds. A 135M model copied facts from a 12-line sheet far
    better than from a 20-line one, and read it in half the time on 2 cores."""
    context = num_ctx or 2048
    free = context - overhead_tokens - answer_tokens
    return max(MIN_SHEET_TOKENS, min(MAX_SHEET_TOKENS, free // 3))


def _cfg(s: Stat) -> str:
    return s.config_label if s.config else "server defaults"


def _stat_line(m: ModelSummary, s: Stat, what: str, unit: str) -> str:
    assert s.mean is not None
    return f"{m.model}: {what} {fmt_num(s.mean)}{unit} with {_cfg(s)} (n={s.n})."


def _cut(text: str) -> str:
    return text if len(text) <= MAX_FACT_CHARS else text[: MAX_FACT_CHARS - 3].rstrip() + "..."


def _inventory(result: IngestResult) -> str:
    inv = result.inventory
    types = ", ".join(f"{TYPE_LABELS.get(k, k)} {v.count}" for k, v in inv.types.items())
    return (
        f"Files: {inv.ingested} read ({types}); {inv.skipped} skipped; {inv.duplicates} "
        f"duplicate copies; {len(result.models())} models."
    )


def _finding(f: Finding) -> SheetFact:
    return SheetFact(
        "", _cut(f"{f.severity} {f.kind}: {f.title}"), "finding", None, f.kind, f.severity
    )


def candidate_facts(result: IngestResult) -> list[SheetFact]:
    """Every fact the sheet could hold, most important first (ids not yet given)."""
    models = sorted(
        model_summaries(result),
        key=lambda m: (-(m.best.mean or 0.0) if m.best else 0.0, m.model),
    )
    best, rest = [], []
    for m in models:
        if m.best is not None:
            best.append(
                SheetFact(
                    "", _stat_line(m, m.best, "best mean throughput", " tok/s"), "model", m.model
                )
            )
            if m.worst is not None and m.worst is not m.best:
                rest.append(
                    SheetFact(
                        "",
                        _stat_line(m, m.worst, "worst mean throughput", " tok/s"),
                        "model",
                        m.model,
                    )
                )
        if m.best_ttft is not None:
            rest.append(
                SheetFact("", _stat_line(m, m.best_ttft, "best mean TTFT", " s"), "model", m.model)
            )
    findings = sorted(result.findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 3))
    errors = [_finding(f) for f in findings if f.severity == "error"]
    others = [_finding(f) for f in findings if f.severity != "error"]
    inventory = SheetFact("", _inventory(result), "inventory")
    return [inventory, *best, *errors, *rest, *others]


def build_factsheet(result: IngestResult, budget_tokens: int) -> FactSheet:
    """The sheet of ``result`` within ``budget_tokens`` (estimated), numbered F1, F2, ..."""
    chosen: list[SheetFact] = []
    used = 0
    candidates = candidate_facts(result)
    for fact in candidates:
        cost = estimate_tokens(f"F{len(chosen) + 1}. {fact.text}\n")
        if used + cost > budget_tokens:
            break
        used += cost
        chosen.append(
            SheetFact(
                f"F{len(chosen) + 1}",
                fact.text,
                fact.kind,
                fact.model,
                fact.finding_kind,
                fact.severity,
            )
        )
    return FactSheet(tuple(chosen), left_out=len(candidates) - len(chosen))
