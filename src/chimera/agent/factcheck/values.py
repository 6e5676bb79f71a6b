"""What the fact check takes and gives: known numbers, the claims read from a text, and
their verdicts (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["grounded", "unsupported"]
How = Literal["exact", "rounded", "unit-converted", "percent", "derived"]


@dataclass(frozen=True, slots=True)
class KnownNumber:
    """A fact the caller vouches for: an inventory count, a statistic, a setting, a metric.

    ``unit`` is one of the units in docs/factcheck.md ("ms", "s", "tok/s", "GB", "%", "x",
    "ratio", ...) or any other word ("files"); None for a bare count or setting.
    """

    value: float
    label: str
    unit: str | None = None
    # May this fact enter derived values (shares, changes, multiples)? False for numbers that
    # were merely seen in a text: pairing them with everything else grounds noise.
    derivable: bool = True
    # (metric, subject, condition), e.g. ("tokens_per_s", model, configuration): when both
    # facts of a pair have one, they are related only if the metric is the same and exactly
    # one of subject and condition differs. Without it, labels decide (see _related).
    key: tuple[str, str, str] | None = None
    # The word a text labels this number with directly ("Markdown: 29", "29 Markdown files"),
    # lower case. A claim labelled with a subject some facts have is checked against those
    # facts only: "Markdown: 13" is false when there are 29 Markdown files, whatever else is 13.
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class NumberClaim:
    """A number the text states. ``value`` is in ``unit`` (canonical: "ms", "tok/s", "GB",
    "%", ...; None when none was written); ``precision`` is the place value of the last
    digit written (0.01 for "108.26", 100 for "1.2k"); ``line`` is 1-based."""

    value: float
    raw: str
    unit: str | None
    is_percent: bool
    sentence: str
    line: int
    precision: float = 1.0
    subject: str | None = None  # the word labelling it directly, lower case: see KnownNumber


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    """A claim and its verdict: the known number (or derivation) it matched, and how."""

    claim: NumberClaim
    status: Status
    matched: str | None = None
    how: How | None = None


class FactCheck(BaseModel):
    """Every claim with its verdict, how many numbers were not claims, and the share grounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claims: list[CheckedClaim]
    ignored: int
    ignored_kinds: dict[str, int]  # why numbers were not checked: date, ordinal, version, ...
    grounded_ratio: float | None  # None when the text made no checkable claim

    @property
    def unsupported(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.status == "unsupported"]

    @property
    def grounded(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.status == "grounded"]
