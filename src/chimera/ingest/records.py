"""Plain typed records passed between the ingestion stages (files, skips, parsed rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["csv", "tsv", "json", "jsonl", "markdown", "text"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "json", "jsonl", "markdown", "text")
DATA_FORMATS = frozenset({"csv", "tsv", "json", "jsonl"})

SkipReason = Literal[
    "binary",
    "unsupported_type",
    "over_size_cap",
    "unreadable",
    "symlink_loop",
    "vanished",
    "empty",
    "malformed",
    "too_deep",
]


class Skipped(BaseModel):
    """A file that was not ingested, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    reason: SkipReason
    detail: str = Field(description="what exactly went wrong, for a person")
    bytes: int | None = None
    sha256: str | None = Field(None, description="content hash when the bytes were read")


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file that was ingested (a slotted dataclass: a tree can hold 100,000 of them)."""

    path: str  # display path (relative to the scan base)
    format: Format
    bytes: int
    mtime: float  # modification time, seconds since the epoch
    encoding: str
    sha256: str
    family: str  # source family, e.g. param_tuning.csv
    records: int = 0
    duplicate_of: str | None = None  # first file with the same content


# A model hint: (kind, text). Kinds, strongest first: field, tag, header, heading, doc, path.
Hint = tuple[str, str]


@dataclass(slots=True)
class RawRecord:
    """One row, JSON object or Markdown table row / text line, as read (values untyped)."""

    locator: str
    values: dict[str, object]
    context: tuple[tuple[str, object], ...] = ()  # inherited from enclosing JSON objects/sections
    hints: tuple[Hint, ...] = ()  # model hints from the document (headings, header columns)
    origin: str = "data"  # data | table | prose

    def __reduce__(self) -> tuple[type[RawRecord], tuple[object, ...]]:
        # a constructor call unpickles 1.5x faster than slot-by-slot state (the parse cache)
        return RawRecord, (self.locator, self.values, self.context, self.hints, self.origin)


@dataclass(slots=True)
class Parsed:
    """What a reader got from one file."""

    records: list[RawRecord] = field(default_factory=list)
    schema: tuple[str, ...] = ()  # column names or JSON key paths, for drift checks
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail) oddities
    first_line: str = ""

    def __reduce__(self) -> tuple[type[Parsed], tuple[object, ...]]:
        return Parsed, (self.records, self.schema, self.notes, self.first_line)
