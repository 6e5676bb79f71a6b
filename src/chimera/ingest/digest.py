"""A compact, deterministic, factual digest of an ingestion for an LLM prompt, within a budget.

Tokens are estimated conservatively as ceil(characters / 3.5) (English-like text with numbers
and paths runs 3.5-4.5 characters per token for Llama/Gemma tokenizers). The default budget
(600 tokens) leaves room for instructions and an answer in a 1024-token context window.
Lines are chosen by priority (header, each model's best figures, findings, details) and printed
in a fixed order, so the same folder always gives the same digest.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from chimera.ingest.findings import Finding, headline
from chimera.ingest.inventory import TYPE_LABELS
from chimera.ingest.pipeline import IngestResult
from chimera.ingest.stats import Stat
from chimera.ingest.values import fmt_num

CHARS_PER_TOKEN = 3.5
DEFAULT_BUDGET_TOKENS = 600
_SHORT_KEYS = {
    "temperature": "temp",
    "num_gpu": "gpu",
    "num_ctx": "ctx",
    "repeat_penalty": "rep_pen",
}


def estimate_tokens(text: str) -> int:
    """A conservative token estimate: ceil(len / 3.5)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(slots=True)
class _Item:
    section: int  # print order: 0 header, 1 models, 2 findings
    order: tuple[object, ...]  # print order within the section
    priority: int  # lower is added first
    text: str


def _cfg(s: Stat) -> str:
    if not s.config:
        return ""
    return " [" + ",".join(f"{_SHORT_KEYS.get(k, k)}={v}" for k, v in s.config.items()) + "]"


def _fig(s: Stat, unit: str = "") -> str:
    assert s.mean is not None
    spread = f"±{fmt_num(s.std, 2)} n={s.n}" if s.std is not None and s.n > 1 else ""
    return f"{fmt_num(s.mean)}{unit}{(' ' + spread) if spread else ''}{_cfg(s)}"


def _model_items(result: IngestResult) -> list[_Item]:
    models = set(result.models())
    by_model: dict[str, dict[str, list[Stat]]] = defaultdict(lambda: defaultdict(list))
    for s in result.stats:
        if s.model in models and s.origin == "data" and s.mean is not None and s.n > 0:
            by_model[s.model][s.metric].append(s)
    runs: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for f in result.facts:
        if (
            f.model in models
            and f.origin == "data"
            and f.recognized
            and not f.failed
            and f.aggregate is None
        ):
            runs[f.model].add((f.source, f.record))
    items: list[_Item] = []
    for rank, model in enumerate(sorted(by_model)):
        metrics = by_model[model]
        core: list[str] = []
        detail: list[str] = []
        specs = [("tokens_per_s", "tok/s", "", True), ("ttft_s", "TTFT", " s", False)]
        if "tokens_per_s" not in metrics and "ttft_s" not in metrics:
            specs = [("latency_ms", "latency", " ms", False)]
        for metric, label, unit, higher_better in specs:
            group = metrics.get(metric)
            if not group:
                continue
            ordered = sorted(
                group, key=lambda s: (s.mean, s.config_label, s.source), reverse=higher_better
            )
            best, worst = ordered[0], ordered[-1]
            if metric == "tokens_per_s" and worst is not best:
                core.append(f"{label} best {_fig(best, unit)}, worst {_fig(worst, unit)}")
            else:
                core.append(f"{label} best {fmt_num(best.mean)}{unit}")
                detail.append(f"{label} best {_fig(best, unit)}")
                if worst is not best:
                    detail.append(f"{label} worst {_fig(worst, unit)}")
            sources = sorted({s.source for s in (best, worst)})
            detail.append(f"{label} from {', '.join(sources)}")
        if core:
            items.append(
                _Item(
                    1,
                    (rank, 0),
                    10 + rank,
                    f"- {model} ({len(runs[model])} runs): " + "; ".join(core),
                )
            )
        if detail:
            items.append(_Item(1, (rank, 1), 300 + rank, "  " + "; ".join(detail)))
    return items


_COUNT = re.compile(r"\d+ of \d+")


def _finding_items(findings: Sequence[Finding]) -> list[_Item]:
    grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        grouped[(f.severity, f.kind)].append(f)
    items = []
    for i, ((severity, kind), group) in enumerate(grouped.items()):
        if len(group) == 1:
            text = headline(group[0])
        else:
            parts = []
            for f in group:
                name = f.files[0].rsplit("/", 1)[-1] if f.files else "?"
                m = _COUNT.search(f.title)
                parts.append(name + (f" ({m.group(0)})" if m else ""))
            text = "; ".join(parts)
        line = (
            f"- [{severity}] {kind}" + (f" x{len(group)}" if len(group) > 1 else "") + f": {text}"
        )
        base = 100 if severity != "info" else 200
        items.append(_Item(2, (i, 0), base + i, _cut(line, 150)))
        ev = group[0].evidence
        if ev:
            items.append(_Item(2, (i, 1), 400 + i, _cut(f"  e.g. {ev[0]}", 170)))
    return items


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_digest(result: IngestResult, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
    """The digest of ``result`` in at most ``budget_tokens`` (estimated) tokens."""
    inv = result.inventory
    types = ", ".join(f"{TYPE_LABELS[t]} {s.count}" for t, s in inv.types.items())
    reasons = ", ".join(f"{r} {n}" for r, n in inv.skipped_by_reason.items())
    known = sum(1 for f in result.facts if f.recognized)
    sev: dict[str, int] = defaultdict(int)
    for f in result.findings:
        sev[f.severity] += 1
    header = [
        f"Files: {inv.ingested} read ({types}); {inv.skipped} skipped"
        + (f" ({reasons})" if reasons else "")
        + f"; {inv.duplicates} duplicate copies.",
        f"{known} measurements, {len(result.models())} models. Failed runs excluded; "
        f"mean±std n=runs; gpu=num_gpu ctx=num_ctx temp=temperature.",
    ]
    items = [_Item(0, (i,), i, line) for i, line in enumerate(header)]
    items += _model_items(result)
    items += _finding_items(result.findings)
    headings = {
        1: "Per model, best/worst configuration by mean:",
        2: (
            f"Data-quality findings ({sev['error']} error, {sev['warning']} warning, "
            f"{sev['info']} info):"
        ),
    }
    budget_chars = int(budget_tokens * CHARS_PER_TOKEN)
    used = sum(len(h) + 1 for s, h in headings.items() if any(i.section == s for i in items))
    chosen: list[_Item] = []
    dropped: dict[int, int] = defaultdict(int)
    for item in sorted(items, key=lambda i: (i.priority, i.order)):
        cost = len(item.text) + 1
        reserve = 2 * 48  # room for the '... N more' lines
        if used + cost + reserve <= budget_chars:
            chosen.append(item)
            used += cost
        elif item.section:
            dropped[item.section] += 1
    lines: list[str] = []
    for section in (0, 1, 2):
        part = sorted((i for i in chosen if i.section == section), key=lambda i: i.order)
        if section in headings and (part or dropped[section]):
            lines.append(headings[section])
        lines.extend(i.text for i in part)
        if dropped[section]:
            lines.append(f"  ... {dropped[section]} more line(s) left out for the budget")
    text = "\n".join(lines) + "\n"
    while estimate_tokens(text) > budget_tokens and len(lines) > 1:
        lines.pop()
        text = "\n".join(lines) + "\n"
    return text
