"""The inventory: counts per type and directory, bytes, first paths, latest modification; and the
old agent's "Data summary" block, reproduced in shape."""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from chimera.ingest.records import FORMATS, Artifact, Skipped

TYPE_LABELS = {
    "csv": "CSV",
    "tsv": "TSV",
    "json": "JSON",
    "jsonl": "JSONL",
    "markdown": "MARKDOWN",
    "text": "TEXT",
}


class TypeSummary(BaseModel):
    """One file type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    bytes: int
    first: list[str] = Field(description="the first N paths, in walk order")
    latest_modified: str | None = Field(description="'YYYY-MM-DD HH:MM:SS UTC'")


class DirSummary(BaseModel):
    """One directory (files directly in it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    files: int
    bytes: int
    types: dict[str, int]


class Inventory(BaseModel):
    """What the scan found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(description="displayed paths are relative to this directory")
    roots: list[str]
    total_files: int = Field(description="ingested + skipped")
    ingested: int
    skipped: int
    bytes: int = Field(description="bytes of the ingested files")
    types: dict[str, TypeSummary]
    directories: list[DirSummary]
    skipped_by_reason: dict[str, int]
    duplicates: int = Field(description="ingested files whose content repeats an earlier file")
    hidden_ignored: int = 0


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def build_inventory(
    artifacts: Sequence[Artifact],
    skipped: Sequence[Skipped],
    *,
    base: str,
    roots: Sequence[str],
    first_n: int,
    hidden: int = 0,
) -> Inventory:
    """Counts and listings from the ingested and skipped files (pure)."""
    by_type: dict[str, list[Artifact]] = defaultdict(list)
    dirs: dict[str, list[Artifact]] = defaultdict(list)
    for a in artifacts:
        by_type[a.format].append(a)
        dirs[posixpath.dirname(a.path) or "."].append(a)
    types = {
        fmt: TypeSummary(
            count=len(items),
            bytes=sum(a.bytes for a in items),
            first=[a.path for a in items[:first_n]],
            latest_modified=utc(max(a.mtime for a in items)),
        )
        for fmt in FORMATS
        if (items := by_type.get(fmt))
    }
    directories = [
        DirSummary(
            path=d,
            files=len(items),
            bytes=sum(a.bytes for a in items),
            types=dict(sorted(Counter(a.format for a in items).items())),
        )
        for d, items in sorted(dirs.items())
    ]
    return Inventory(
        base=base,
        roots=list(roots),
        total_files=len(artifacts) + len(skipped),
        ingested=len(artifacts),
        skipped=len(skipped),
        bytes=sum(a.bytes for a in artifacts),
        types=types,
        directories=directories,
        skipped_by_reason=dict(sorted(Counter(s.reason for s in skipped).items())),
        duplicates=sum(1 for a in artifacts if a.duplicate_of),
        hidden_ignored=hidden,
    )


def data_summary_block(inv: Inventory) -> str:
    """The old agent's block: 'Total files analyzed', then per type its count, first paths,
    '... and N more' and 'Latest modified'. Counts every ingested file (the old agent read only
    CSV, JSON and Markdown; plain-text files add a TEXT section)."""
    lines = [f"Total files analyzed: {inv.ingested}", ""]
    for fmt, summary in inv.types.items():
        lines.append(f"{TYPE_LABELS[fmt]} Files ({summary.count})")
        lines.extend(f"  - {p}" for p in summary.first)
        if summary.count > len(summary.first):
            lines.append(f"  ... and {summary.count - len(summary.first)} more")
        if summary.latest_modified:
            lines.append(f"  Latest modified: {summary.latest_modified}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
