"""Numbers in Markdown/text reports checked against the data they describe.

A claim is checked only when it is tied to a model (a model column, a heading, a 'Model:' line,
the file's path) and the data has that metric for that model (or for unnamed data). When the
claim names a configuration and the data has runs with exactly it, only those runs count. A
claim contradicts the data when it differs from every matching figure by more than one unit
of its last shown digit."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from chimera.ingest.facts import Fact, config_label
from chimera.ingest.findings import FileView, Finding, shown
from chimera.ingest.stats import percentile
from chimera.ingest.values import fmt_num

_CHECKED = frozenset({None, "mean", "median", "p50", "min", "max", "p05", "p95", "p99"})
_CENTRAL = frozenset({"mean", "median", "p50"})


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """One claim and the data it was held against."""

    claim: Fact
    agree: bool
    data: str  # the matching data, for a person


def _usable(f: Fact) -> bool:
    return f.recognized and not f.failed and math.isfinite(f.value)


class DataIndex:
    """The data files' facts by (model, metric), with group summaries for central claims."""

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.by_key: dict[tuple[str | None, str], list[Fact]] = defaultdict(list)
        for f in facts:
            if f.origin == "data" and _usable(f):
                self.by_key[(f.model, f.metric)].append(f)
        self._means: dict[str | None, list[tuple[float, str, str]]] | None = None

    def figure_named_otherwise(self, claim: Fact) -> str | None:
        """Another metric of the claim's model whose mean is the claimed number (a mislabel)."""
        if self._means is None:
            self._means = defaultdict(list)
            groups: dict[tuple[str | None, str, str, tuple[tuple[str, str], ...]], list[float]]
            groups = defaultdict(list)
            for (model, metric), facts in self.by_key.items():
                for f in facts:
                    if f.aggregate is None:
                        groups[(model, metric, f.source, f.config)].append(f.value)
                    elif f.aggregate == "mean":
                        self._means[model].append((f.value, metric, f.source))
            for (model, metric, source, _), xs in groups.items():
                self._means[model].append((math.fsum(xs) / len(xs), metric, source))
        tol = 10.0 ** -min(claim.decimals, 12) * 0.5001
        for value, metric, source in self._means.get(claim.model, []):
            if metric != claim.metric and abs(value - claim.value) <= tol:
                return (
                    f"{fmt_num(claim.value)} is the mean {metric} in "
                    f"{source.rsplit('/', 1)[-1]}: mislabelled?"
                )
        return None

    def pool(self, claim: Fact, mentions: frozenset[str]) -> list[Fact]:
        """The data a claim can be held against: the claim's model, plus unnamed-model data
        from files the report names; with the claim's configuration when the data has it."""
        facts = list(self.by_key.get((claim.model, claim.metric), []))
        facts += [
            f
            for f in self.by_key.get((None, claim.metric), [])
            if f.source.rsplit("/", 1)[-1].lower() in mentions
        ]
        if not facts:
            return []
        want = dict(claim.config)
        if not want:
            return facts
        exact = [f for f in facts if all(dict(f.config).get(k) == v for k, v in want.items())]
        if exact:
            return exact
        return [f for f in facts if all(dict(f.config).get(k, v) == v for k, v in want.items())]


def check_claim(claim: Fact, pool: Sequence[Fact]) -> ClaimCheck | None:
    """Whether ``claim`` agrees with ``pool`` (None when the pool cannot say)."""
    raw = [f for f in pool if f.aggregate is None]
    tol = 10.0 ** -min(claim.decimals, 12) * 1.0001 + 1e-9 * abs(claim.value)
    agg = "median" if claim.aggregate == "p50" else claim.aggregate
    if agg in _CENTRAL:
        groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
        for f in raw:
            groups[(f.source, f.config)].append(f.value)
        figures = []
        for values in groups.values():
            if not claim.config and len(values) < 2:
                continue  # a mean without a configuration is not one run of a sweep
            xs = sorted(values)
            figures.append(math.fsum(xs) / len(xs) if agg == "mean" else percentile(xs, 50))
        figures += [f.value for f in pool if f.aggregate == agg and (claim.config or not f.config)]
        if not figures:
            return None
        ok = any(abs(x - claim.value) <= tol for x in figures)
        near = min(figures, key=lambda x: abs(x - claim.value))
        where = _where(pool)
        return ClaimCheck(
            claim,
            ok,
            f"{agg} {fmt_num(near)} in {where}"
            if len(figures) == 1
            else f"{len(figures)} {agg}s {fmt_num(min(figures))}-"
            f"{fmt_num(max(figures))} in {where}",
        )
    values = [f.value for f in raw] or [f.value for f in pool]
    lo, hi = min(values), max(values)
    ok = lo - tol <= claim.value <= hi + tol
    where = _where(pool)
    data = (
        f"{fmt_num(lo)} in {where}"
        if len(values) == 1 or lo == hi
        else f"range {fmt_num(lo)}-{fmt_num(hi)} over {len(values)} values in {where}"
    )
    return ClaimCheck(claim, ok, data)


def _far_off(claim: Fact, pool: Sequence[Fact]) -> bool:
    """The claim is nowhere near its own metric's data (more than 2x off every value)."""
    return all(not (0.5 * abs(f.value) <= abs(claim.value) <= 2 * abs(f.value)) for f in pool)


def _where(pool: Sequence[Fact]) -> str:
    files = sorted({f.source.rsplit("/", 1)[-1] for f in pool})
    return ", ".join(files[:2]) + (f" +{len(files) - 2}" if len(files) > 2 else "")


def check_claims(
    files: Sequence[FileView], data_facts: Sequence[Fact]
) -> dict[str, list[ClaimCheck]]:
    """Every checkable claim of every report file, by file."""
    index = DataIndex(data_facts)
    out: dict[str, list[ClaimCheck]] = {}
    for view in files:
        if view.artifact.format not in ("markdown", "text") or view.artifact.duplicate_of:
            continue
        checks = []
        for f in view.facts:
            if (
                not _usable(f)
                or f.model is None
                or f.aggregate not in _CHECKED
                or f.metric in ("runs_ok", "runs_total")
            ):
                continue
            pool = index.pool(f, view.mentions)
            if not pool:
                continue
            c = check_claim(f, pool)
            if (
                c is not None
                and not c.agree
                and not any(p.model == f.model for p in pool)
                and not _far_off(f, pool)
            ):
                continue  # only unnamed data from files the report lists: too weak to accuse
            if c is not None and not c.agree and _far_off(f, pool):
                hint = index.figure_named_otherwise(f)
                if hint:
                    c = ClaimCheck(c.claim, False, f"{c.data} ({hint})")
            if c is not None:
                checks.append(c)
        if checks:
            out[view.path] = checks
    return out


def claims(files: Sequence[FileView], data_facts: Sequence[Fact]) -> list[Finding]:
    """A finding per report whose numbers contradict the data they can be tied to."""
    out = []
    for path, checks in sorted(check_claims(files, data_facts).items()):
        bad = [c for c in checks if not c.agree]
        if not bad:
            continue
        lines = []
        for c in bad:
            f = c.claim
            what = f"{f.aggregate} {f.metric}" if f.aggregate else f.metric
            lines.append(
                f"{f.locator}: {f.model} [{config_label(f.config)}] {what} "
                f"{fmt_num(f.value)} {f.unit}; data: {c.data}"
            )
        out.append(
            Finding(
                kind="contradicted_claim",
                severity="warning",
                title=f"{path}: {len(bad)} of {len(checks)} checkable numbers disagree with the "
                f"data for the same model and configuration",
                files=[path],
                evidence=shown(lines),
            )
        )
    return out
