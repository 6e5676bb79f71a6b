"""Matching claims to known numbers (pure): as written, rounded, unit-converted, as a
percentage, or derived (shares, changes and multiples of related facts)."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chimera.agent.factcheck.reading import scan
from chimera.agent.factcheck.values import CheckedClaim, FactCheck, How, KnownNumber, NumberClaim
from chimera.quantities import Unit, unit_of

_RANK: dict[How, int] = {"exact": 0, "rounded": 1, "unit-converted": 2, "percent": 3, "derived": 4}
_TOTAL = re.compile(r"\b(?:total|all)\b", re.I)


@dataclass(frozen=True, slots=True)
class _Fact:
    label: str
    value: float  # in the fact's own unit
    unit: Unit
    words: frozenset[str]  # of the label, statistic names left out: see _related
    derivable: bool = True
    key: tuple[str, str, str] | None = None
    subject: str | None = None

    @property
    def base(self) -> float:
        return self.value * self.unit.factor


@dataclass(frozen=True, slots=True)
class _Derived:
    """Values derived from pairs of facts, sorted, so a claim finds its matches by bisection."""

    values: list[float]
    entries: list[tuple[float, How, str]]

    @classmethod
    def of(cls, entries: list[tuple[float, How, str]]) -> _Derived:
        entries.sort(key=lambda e: e[0])
        return cls([e[0] for e in entries], entries)

    def near(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        lo = bisect.bisect_left(self.values, value - tolerance)
        hi = bisect.bisect_right(self.values, value + tolerance)
        return self.entries[lo:hi]


def check_numbers(text: str, known: Sequence[KnownNumber]) -> FactCheck:
    """Check every claim in ``text`` against ``known``; see docs/factcheck.md for the rules."""
    claims, ignored = scan(text)
    facts = [
        _Fact(
            k.label,
            float(k.value),
            unit_of(k.unit),
            _label_words(k.label),
            k.derivable,
            k.key,
            k.subject,
        )
        for k in known
    ]
    derived = _DerivedIndex(facts)
    subjects = {f.subject for f in facts if f.subject}
    checked = [
        _check(claim, derived, subject=claim.subject if claim.subject in subjects else None)
        for claim in claims
    ]
    grounded = sum(c.status == "grounded" for c in checked)
    return FactCheck(
        claims=checked,
        ignored=sum(ignored.values()),
        ignored_kinds=dict(sorted(ignored.items())),
        grounded_ratio=grounded / len(checked) if checked else None,
    )


def _check(claim: NumberClaim, derived: _DerivedIndex, subject: str | None = None) -> CheckedClaim:
    """The claim's best match; with ``subject`` (the word labelling the claim, which some
    facts have: "Markdown: 13"), only a fact, share or change whose label names it counts."""
    best: tuple[int, float, str, How] | None = None

    def consider(candidate: float, label: str, how: How, converted: bool = False) -> None:
        nonlocal best
        if subject is not None and subject not in _label_words(label):
            return
        verdict = _compare(claim.value, claim.precision, candidate)
        if verdict is None:
            return
        final: How = "unit-converted" if converted and how in ("exact", "rounded") else how
        if final == "exact" or final == "rounded":
            final = verdict
        key = (_RANK[final], abs(candidate - claim.value), label, final)
        if best is None or key[:2] < best[:2]:
            best = key

    claim_unit = unit_of(claim.unit)
    tolerance = claim.precision / 2 + 1e-9 * abs(claim.value) + 1e-12
    for fact in derived.near(claim, claim_unit, tolerance):
        for candidate, converted in _comparable(claim, claim_unit, fact):
            consider(candidate, fact.label, "exact", converted)
    if claim.is_percent:
        for candidate, how, label in derived.percents(abs(claim.value), tolerance):
            consider(candidate if claim.value >= 0 else -candidate, label, how)
    elif claim_unit.kind == "multiplier":
        for candidate, how, label in derived.ratios(claim.value, tolerance):
            consider(candidate, label, how)
    if best is None:
        return CheckedClaim(claim, "unsupported")
    return CheckedClaim(claim, "grounded", matched=best[2], how=best[3])


def _comparable(claim: NumberClaim, claim_unit: Unit, fact: _Fact) -> list[tuple[float, bool]]:
    """The fact's value in the claim's unit (with whether a conversion happened), or nothing
    when their units cannot be compared."""
    if claim.is_percent:
        return [(fact.value, False)] if fact.unit.kind == "percent" else []
    if claim_unit.kind == "none" or fact.unit.kind == "none":
        return [(fact.value, False)]
    if claim_unit.kind != fact.unit.kind:
        return []
    converted = fact.unit.factor != claim_unit.factor or fact.unit.binary != claim_unit.binary
    out = [(fact.base / claim_unit.factor, converted)]
    if claim_unit.kind == "bytes" and fact.unit.binary != claim_unit.binary:
        # "GB" is often written for GiB and the other way round: read the fact's prefix in
        # the claim's system too.
        radix = 1024.0 if claim_unit.binary else 1000.0
        out.append((fact.value * radix ** (fact.unit.power - claim_unit.power), True))
    return out


def _compare(claim: float, precision: float, candidate: float) -> How | None:
    if math.isclose(claim, candidate, rel_tol=1e-9, abs_tol=1e-12):
        return "exact"
    if abs(claim - candidate) <= precision / 2 * (1 + 1e-9) + 1e-12:
        return "rounded"
    return None


def _is_count(fact: _Fact) -> bool:
    plain = fact.unit.kind == "none" or fact.unit.kind.startswith(("other:", "count:"))
    return plain and fact.value >= 0 and float(fact.value).is_integer()


def _simple_percents(facts: list[_Fact]) -> _Derived:
    """Percentages that need no pair search: a ratio x100, a share of a total."""
    entries: list[tuple[float, How, str]] = []
    for fact in facts:
        if fact.unit.kind == "fraction" or (fact.unit.kind == "none" and 0 < abs(fact.value) < 1):
            entries.append((abs(fact.value) * 100, "percent", fact.label))
    facts = [f for f in facts if f.derivable]
    totals = [f for f in facts if _TOTAL.search(f.label) and f.base > 0]
    counts = [f for f in facts if _is_count(f)]
    if counts and not any(_is_count(t) for t in totals):
        largest = max(counts, key=lambda f: f.value)
        if largest.value > 0:
            totals.append(largest)  # no count is labelled a total: the largest plays it
    for total in totals:
        for part in facts:
            if part is total or part.unit.kind != total.unit.kind:
                continue
            if 0 <= part.base <= total.base:
                share = part.base / total.base * 100
                entries.append((share, "derived", f"{part.label} / {total.label}"))
    return _Derived.of(entries)


class _DerivedIndex:
    """Values derived from facts, found per claim: shares and ratios x100 from a sorted list;
    changes ("+12%") and multiples ("2.5x") between related facts by bisecting, for each fact
    ``a``, the facts ``b`` whose value the claim would need. Pair search costs n log n per
    claim instead of n squared up front."""

    def __init__(self, facts: list[_Fact]) -> None:
        self._facts = facts
        self._simple: _Derived | None = None
        self._raw = sorted(facts, key=lambda f: f.value)
        self._raw_values = [f.value for f in self._raw]
        self._plain = [f for f in self._raw if f.unit.kind == "none"]
        self._plain_values = [f.value for f in self._plain]
        groups: dict[str, list[_Fact]] = {}
        for f in facts:
            if f.derivable and f.unit.kind not in ("none", "percent", "fraction"):
                groups.setdefault(f.unit.kind, []).append(f)
        self._groups = []
        for members in groups.values():
            members.sort(key=lambda f: f.base)
            self._groups.append(([f.base for f in members], members))

    def near(self, claim: NumberClaim, unit: Unit, tolerance: float) -> list[_Fact]:
        """The facts that can match ``claim`` directly (a superset; _comparable decides)."""
        lo, hi = claim.value - tolerance, claim.value + tolerance
        if claim.is_percent or unit.kind == "none":
            return self._raw[
                bisect.bisect_left(self._raw_values, lo) : bisect.bisect_right(self._raw_values, hi)
            ]
        out = self._plain[
            bisect.bisect_left(self._plain_values, lo) : bisect.bisect_right(self._plain_values, hi)
        ]
        for bases, members in self._groups:
            if members[0].unit.kind != unit.kind:
                continue
            if unit.kind == "bytes":
                out += members  # prefixes may be read in either radix: few, checked one by one
            else:
                x, y = sorted((lo * unit.factor, hi * unit.factor))
                out += members[bisect.bisect_left(bases, x) : bisect.bisect_right(bases, y)]
        return out

    def percents(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        if self._simple is None:
            self._simple = _simple_percents(self._facts)
        found = list(self._simple.near(value, tolerance))
        for sign in (1.0, -1.0):  # b above or below a
            lo, hi = 1 + sign * (value - tolerance) / 100, 1 + sign * (value + tolerance) / 100
            for a, b in self._pairs(min(lo, hi), max(lo, hi)):
                change = abs(b.base - a.base) / abs(a.base) * 100
                found.append((change, "derived", f"change from {a.label} to {b.label}"))
        return found

    def ratios(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        return [
            (b.base / a.base, "derived", f"{b.label} / {a.label}")
            for a, b in self._pairs(value - tolerance, value + tolerance)
        ]

    def _pairs(self, lo: float, hi: float) -> list[tuple[_Fact, _Fact]]:
        """Related pairs (a, b) of one unit kind with b / a within [lo, hi]."""
        out = []
        for bases, members in self._groups:
            for a in members:
                if a.base == 0:
                    continue
                x, y = sorted((a.base * lo, a.base * hi))
                for b in members[bisect.bisect_left(bases, x) : bisect.bisect_right(bases, y)]:
                    if b is not a and _related(a, b):
                        out.append((a, b))
        return out


_STAT_WORDS = frozenset(
    {"mean", "median", "avg", "average", "min", "max", "std", "stdev", "p50", "p90", "p95"}
    | {"p99", "total", "the", "of", "and", "per", "in", "for", "run", "call", "value"}
)


def _label_words(label: str) -> frozenset[str]:
    return frozenset(w for w in re.split(r"[^a-z0-9]+", label.lower()) if len(w) > 1) - _STAT_WORDS


def _related(a: _Fact, b: _Fact) -> bool:
    """Whether two facts measure the same thing (their labels share a word besides statistic
    names): "baseline TTFT" and "tuned TTFT" do, "TTFT p50" and "load p50" do not. Pairs of
    unrelated facts would otherwise ground almost any percentage by coincidence."""
    if a.key is not None and b.key is not None:
        return a.key[0] == b.key[0] and (a.key[1] == b.key[1]) != (a.key[2] == b.key[2])
    return not a.words.isdisjoint(b.words)
