"""The numbers an LLM may cite: what Chimera computed and showed it (for the fact check)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from chimera.agent.factcheck import KnownNumber
from chimera.ingest.inventory import TYPE_LABELS
from chimera.ingest.pipeline import IngestResult

STAT_FIELDS = ("mean", "median", "std", "min", "max", "p05", "p95")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?")
_UNIT_AFTER = re.compile(r"\s*(ms|s|tok/s|tokens/s|%|GiB|GB|MiB|MB|KB|B)\b")


def inventory_numbers(result: IngestResult) -> list[KnownNumber]:
    inv = result.inventory
    out = [
        KnownNumber(inv.ingested, "total files analyzed"),
        KnownNumber(inv.total_files, "total files found"),
        KnownNumber(inv.skipped, "files skipped"),
        KnownNumber(inv.duplicates, "duplicate files"),
        KnownNumber(inv.bytes, "total bytes", "B"),
        KnownNumber(len(result.facts), "measurements"),
        KnownNumber(len(result.models()), "models"),
        KnownNumber(len(result.findings), "data-quality findings"),
    ]
    for fmt, summary in inv.types.items():
        label = TYPE_LABELS.get(fmt, fmt.upper())
        out.append(KnownNumber(summary.count, f"{label} files"))
        out.append(KnownNumber(summary.bytes, f"{label} bytes", "B"))
    for d in inv.directories:
        out.append(KnownNumber(d.files, f"files in {d.path}"))
    return out


def stat_numbers(result: IngestResult) -> list[KnownNumber]:
    out: list[KnownNumber] = []
    for s in result.stats:
        base = f"{s.model or 'unknown model'} {s.metric} [{s.config_label}]"
        out.append(KnownNumber(s.n, f"{base} n"))
        for name in STAT_FIELDS:
            value = getattr(s, name)
            if value is not None:
                out.append(KnownNumber(value, f"{base} {name}", _unit(s.unit)))
        for key, value in s.config.items():
            with contextlib.suppress(ValueError):  # non-numeric settings such as quantization
                out.append(KnownNumber(float(value), f"{key} {value}"))
    return out


def text_numbers(text: str, label: str) -> list[KnownNumber]:
    """Every number written in a text the LLM was shown (the digest), with a unit if one
    follows it: what the LLM saw is a fact it may repeat."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "")
        unit_match = _UNIT_AFTER.match(text, m.end())
        unit = _unit(unit_match.group(1)) if unit_match else None
        out.append(
            KnownNumber(float(raw), f"{label}: {text[max(0, m.start() - 30) : m.end()]}", unit)
        )
    return out


def known_numbers(result: IngestResult, shown: Iterable[tuple[str, str]] = ()) -> list[KnownNumber]:
    """All known numbers: inventory, statistics, configurations, and texts the LLM was shown
    (``(label, text)`` pairs)."""
    known = inventory_numbers(result) + stat_numbers(result)
    for label, text in shown:
        known += text_numbers(text, label)
    return known


def _unit(unit: str | None) -> str | None:
    """Units the fact check converts between; counts (tokens, runs, chars) have none."""
    unit = {"tokens/s": "tok/s", "tokens_per_s": "tok/s"}.get(unit or "", unit)
    return (
        unit if unit in ("s", "ms", "tok/s", "%", "B", "ratio", "GiB", "GB", "MiB", "MB") else None
    )
