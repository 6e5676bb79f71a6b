"""The numbers an LLM may cite: what Chimera computed and showed it (for the fact check)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from chimera.agent.factcheck import KnownNumber
from chimera.ingest.inventory import TYPE_LABELS
from chimera.ingest.pipeline import IngestResult
from chimera.ingest.stats import Stat
from chimera.quantities import NUMERAL, UNIT_AFTER, canonical_unit

THROUGHPUT, TTFT = "tokens_per_s", "ttft_s"

STAT_FIELDS = ("mean", "median", "std", "min", "max", "p05", "p95")
_NUMBER = re.compile(rf"(?<![\w.])-?(?:{NUMERAL})")
_CONVERTED = frozenset({"s", "ms", "tok/s", "%", "B", "ratio", "GiB", "GB", "MiB", "MB"})
_UNIT_BEFORE = re.compile(r"(tok/s|TTFT \(s\)|ms)\s+(?:best|worst|mean|median)?\s*$")


@dataclass(frozen=True)
class ModelSummary:
    """A model's best and worst configuration by mean throughput, and its best mean TTFT."""

    model: str
    runs: int
    best: Stat | None
    worst: Stat | None
    best_ttft: Stat | None

    def stats(self) -> list[Stat]:
        return [s for s in (self.best, self.worst, self.best_ttft) if s is not None]


def _by_mean(s: Stat) -> tuple[float, int, str]:
    return (s.mean or 0.0, s.n, s.config_label)


def model_summaries(result: IngestResult) -> list[ModelSummary]:
    """Per model with throughput or TTFT data: its best and worst configurations."""
    by_model: dict[str, list[Stat]] = {}
    for s in result.stats:
        if s.model and s.origin == "data" and s.mean is not None:
            by_model.setdefault(s.model, []).append(s)
    out = []
    for model, stats in sorted(by_model.items()):
        tput = [s for s in stats if s.metric == THROUGHPUT and s.mean]
        ttft = [s for s in stats if s.metric == TTFT and s.mean]
        if not tput and not ttft:
            continue
        out.append(
            ModelSummary(
                model=model,
                runs=max((s.n for s in stats), default=0),
                best=max(tput, key=_by_mean) if tput else None,
                worst=min(tput, key=_by_mean) if tput else None,
                best_ttft=min(ttft, key=lambda s: (s.mean or 0.0, -s.n, s.config_label))
                if ttft
                else None,
            )
        )
    return out


def inventory_numbers(result: IngestResult) -> list[KnownNumber]:
    inv = result.inventory
    out = [
        KnownNumber(inv.ingested, "total files analyzed", "files"),
        KnownNumber(inv.total_files, "total files found", "files"),
        KnownNumber(inv.skipped, "files skipped", "files"),
        KnownNumber(inv.duplicates, "duplicate files", "files"),
        KnownNumber(inv.bytes, "total bytes", "B"),
        KnownNumber(len(result.facts), "measurements", "measurements"),
        KnownNumber(len(result.models()), "models", "models"),
        KnownNumber(len(result.findings), "data-quality findings", "findings"),
        KnownNumber(len(inv.directories), "directories with files", "directories"),
    ]
    documents = sum(t.count for k, t in inv.types.items() if k in ("csv", "json", "markdown"))
    out.append(
        KnownNumber(
            documents, "total CSV, JSON and Markdown files (the old agent's scope)", "files"
        )
    )
    for fmt, summary in inv.types.items():
        label = TYPE_LABELS.get(fmt, fmt.upper())
        subject = label.lower()  # "Markdown: 29" binds the number to this type's facts
        out.append(KnownNumber(summary.count, f"{label} files", "files", subject=subject))
        out.append(KnownNumber(summary.bytes, f"{label} bytes", "B", subject=subject))
    for d in inv.directories:
        out.append(KnownNumber(d.files, f"files in {d.path}", "files", derivable=False))
    return out


def stat_numbers(stats: Iterable[Stat]) -> list[KnownNumber]:
    out: list[KnownNumber] = []
    for s in stats:
        base = f"{s.model or 'unknown model'} {s.metric} [{s.config_label}]"
        out.append(KnownNumber(s.n, f"{base} n", "runs", derivable=False))
        for name in STAT_FIELDS:
            value = getattr(s, name)
            if value is not None:
                # Changes between configurations or models are read from means and medians.
                series = (f"{s.metric} {name}", s.model or "", s.config_label)
                out.append(
                    KnownNumber(
                        value,
                        f"{base} {name}",
                        _unit(s.unit),
                        derivable=name in ("mean", "median"),
                        key=series,
                    )
                )
        for option, value in s.config.items():
            with contextlib.suppress(ValueError):  # non-numeric settings such as quantization
                out.append(
                    KnownNumber(float(value), f"{option} {value}", "setting", derivable=False)
                )
    return out


def text_numbers(text: str, label: str) -> list[KnownNumber]:
    """Every number written in a text (the digest the LLM was shown, a finding's title), with
    the unit written after it, or just before it as in "tok/s best 187.2". A number with no
    unit is kept as a plain count, which cannot ground a number written with a unit."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "")
        unit_match = UNIT_AFTER.match(text, m.end()) or _UNIT_BEFORE.search(
            text, max(0, m.start() - 14), m.start()
        )
        unit = (_unit(unit_match.group(1)) if unit_match else None) or "count"
        context = text[max(0, m.start() - 30) : m.end()]
        out.append(KnownNumber(float(raw), f"{label}: {context}", unit, derivable=False))
    return out


def known_numbers(result: IngestResult, shown: Iterable[tuple[str, str]] = ()) -> list[KnownNumber]:
    """What a report about ``result`` may cite: the inventory, each model's best and worst
    configurations, the data-quality findings, and every text the LLM was shown (``(label,
    text)`` pairs, such as the digest). Not every statistic of every group: thousands of facts
    would ground almost any number by coincidence."""
    known = inventory_numbers(result)
    known += stat_numbers(s for m in model_summaries(result) for s in m.stats())
    for f in result.findings:  # titles appear in the digest and reports; evidence does not
        known += text_numbers(f.title, f"finding {f.kind}")
    for label, text in shown:
        known += text_numbers(text, label)
    return known


def _unit(unit: str | None) -> str | None:
    """Units the fact check converts between; counts (tokens, runs, chars) have none."""
    unit = canonical_unit(unit)
    return (
        unit if unit in ("s", "ms", "tok/s", "%", "B", "ratio", "GiB", "GB", "MiB", "MB") else None
    )
