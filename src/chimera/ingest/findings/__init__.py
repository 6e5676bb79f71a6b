"""Data-quality findings: each has a kind, a severity, the files involved and the evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.ingest.facts import Fact
from chimera.ingest.records import Artifact

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class Finding(BaseModel):
    """One data-quality problem, stated with the numbers that show it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(description="e.g. duplicate_file, summary_mismatch (docs/ingest.md)")
    severity: Severity
    title: str = Field(description="one line a person can act on")
    files: list[str]
    evidence: list[str] = Field(default_factory=list)


@dataclass(slots=True)
class FileView:
    """An ingested file as the detectors see it."""

    artifact: Artifact
    oddities: tuple[str, ...] = ()
    notes: list[tuple[str, str]] = field(default_factory=list)
    schema: tuple[str, ...] = ()
    first_line: str = ""
    facts: list[Fact] = field(default_factory=list)
    mentions: frozenset[str] = frozenset()  # data-file names a report refers to

    @property
    def path(self) -> str:
        return self.artifact.path


# Within a severity, the kinds that change conclusions most come first.
KIND_ORDER: tuple[str, ...] = (
    "failure_marked_success",
    "summary_mismatch",
    "failed_as_zeros",
    "warmup_not_excluded",
    "duplicate_file",
    "contradicted_claim",
    "high_spread",
    "nan_values",
    "error_artifact",
    "same_data",
    "failed_runs",
    "schema_drift",
    "encoding",
    "malformed_rows",
    "truncated",
    "duplicate_content",
)
_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by kind (KIND_ORDER) and first file: a deterministic order."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            _KIND_RANK.get(f.kind, len(KIND_ORDER)),
            f.kind,
            f.files[0] if f.files else "",
            f.title,
        ),
    )


def headline(f: Finding) -> str:
    """The title up to its first ': ' (unless that part is a file path)."""
    head, sep, _ = f.title.partition(": ")
    return head if sep and "/" not in head and "." not in head else f.title


EVIDENCE_LIMIT = 200


def shown(items: list[str], limit: int = EVIDENCE_LIMIT) -> list[str]:
    """At most ``limit`` items (all of them, normally), with a '... and N more' line when cut;
    displays show the first few."""
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... and {len(items) - limit} more"]
