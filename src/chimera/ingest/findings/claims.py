"""Numbers in Markdown/text reports checked against the data they describe.

A claim is checked only when it is tied to a model (a model column, a heading, a 'Model:' line,
the file's path) and the data has that metric for that model (or for unnamed data in a file the
report names). When the claim names a configuration and the data has runs with exactly it, only
those runs count; otherwise runs that do not contradict it. A value is held against the range of
the matching observations, a mean or median against the groups' means or medians. A claim
contradicts the data when it misses by more than one unit of its last shown digit.

The data is summarized once into groups (one per file, model, configuration and metric) and
every (model, metric, configuration) pool is computed once, so checking is near-linear.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from chimera.ingest.facts import Config, Fact, config_label
from chimera.ingest.findings import FileView, Finding, shown
from chimera.ingest.stats import Stat
from chimera.ingest.values import fmt_num

_CHECKED = frozenset({None, "mean", "median", "p50", "min", "max", "p05", "p95", "p99"})
_CENTRAL = frozenset({"mean", "median"})


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """One claim and the data it was held against."""

    claim: Fact
    agree: bool
    data: str  # the matching data, for a person


def _usable(f: Fact) -> bool:
    return f.recognized and not f.failed and math.isfinite(f.value)


@dataclass(slots=True)
class _Group:
    """Observations of one source family (or one file's reported figures) for a model,
    configuration and metric."""

    model: str | None
    files: tuple[str, ...]
    config: Config
    settings: dict[str, str]  # the config as a dict (read-only: groups share it)
    pairs: frozenset[tuple[str, str]]  # its items, for subset tests (shared likewise)
    n: int = 0
    mean: float = math.nan
    median: float = math.nan
    lo: float = math.nan
    hi: float = math.nan
    reported: dict[str, list[float]] = field(default_factory=dict)
    basenames: tuple[str, ...] | None = None  # of ``files``, once a pool needs them


@dataclass(slots=True)
class Pool:
    """What the data says about one (model, metric, configuration)."""

    lo: float
    hi: float
    n_values: int
    figures: dict[str, list[float]]  # sorted means / medians (groups' and reported ones)
    every: list[float]  # every extreme and figure, sorted (for 'far off')
    own_model: bool
    where: str


class DataIndex:
    """The data by (model, metric): the statistics groups of the observations (one per source
    family) and each file's reported aggregates."""

    def __init__(self, stats: Sequence[Stat], facts: Iterable[Fact]) -> None:
        """``facts``: any facts; only data files' reported aggregates are used."""
        groups: dict[tuple[str | None, str, str, Config], _Group] = {}
        pair_sets: dict[Config, frozenset[tuple[str, str]]] = {}
        for st in stats:
            if st.origin != "data" or not st.n or st.mean is None:
                continue
            cfg: Config = tuple(st.config.items())
            pairs = pair_sets.get(cfg)
            if pairs is None:
                pairs = pair_sets[cfg] = frozenset(cfg)
            groups[(st.model, st.metric, st.source, cfg)] = _Group(
                st.model,
                tuple(st.files),
                cfg,
                st.config,
                pairs,
                st.n,
                st.mean,
                st.median if st.median is not None else st.mean,
                st.min if st.min is not None else st.mean,
                st.max if st.max is not None else st.mean,
            )
        settings: dict[Config, dict[str, str]] = {}
        for f in facts:
            if (
                f.aggregate is None
                or f.origin != "data"
                or not f.recognized
                or f.failed
                or not math.isfinite(f.value)
            ):
                continue
            model, config = f.model, f.config
            key = (model, f.metric, f.source, config)
            g = groups.get(key)
            if g is None:
                d = settings.get(config)
                if d is None:
                    d = settings[config] = dict(config)
                pairs = pair_sets.get(config)
                if pairs is None:
                    pairs = pair_sets[config] = frozenset(d.items())
                g = groups[key] = _Group(model, (f.source,), config, d, pairs)
            g.reported.setdefault(f.aggregate, []).append(f.value)
        self.by_key: dict[tuple[str | None, str], list[_Group]] = defaultdict(list)
        self._means: dict[str | None, list[tuple[float, str, str]]] = defaultdict(list)
        for (model, metric, _, _), g in groups.items():
            self.by_key[(model, metric)].append(g)
            if g.n:
                self._means[model].append((g.mean, metric, g.files[0]))
            for v in g.reported.get("mean", ()):
                self._means[model].append((v, metric, g.files[0]))
        self._pools: dict[tuple[str | None, str, Config, frozenset[str]], Pool | None] = {}
        self._named: dict[frozenset[str], frozenset[str]] = {}
        # per metric, the unnamed groups with the file names (lower case) they come from
        self._unnamed: dict[str, list[tuple[_Group, frozenset[str]]]] = {}

    def pool(self, claim: Fact, mentions: frozenset[str]) -> Pool | None:
        """The data a claim can be held against (memoized per model, metric, configuration)."""
        named = self._named.get(mentions)
        if named is None:
            named = self._named[mentions] = frozenset(
                m for m in mentions if m.endswith((".csv", ".tsv", ".json", ".jsonl"))
            )
        key = (claim.model, claim.metric, claim.config, named)
        if key not in self._pools:
            self._pools[key] = self._build(claim, named)
        return self._pools[key]

    def _unnamed_groups(self, metric: str) -> list[tuple[_Group, frozenset[str]]]:
        got = self._unnamed.get(metric)
        if got is None:
            got = self._unnamed[metric] = [
                (g, frozenset(p.rsplit("/", 1)[-1].lower() for p in g.files))
                for g in self.by_key.get((None, metric), [])
            ]
        return got

    def _build(self, claim: Fact, named: frozenset[str]) -> Pool | None:
        groups = list(self.by_key.get((claim.model, claim.metric), []))
        if named:  # unnamed data counts from the files the report names
            groups += [g for g, names in self._unnamed_groups(claim.metric) if names & named]
        if not groups:
            return None
        want = dict(claim.config)
        if want:
            wanted = want.items()
            want_pairs = frozenset(wanted)
            exact = [g for g in groups if want_pairs <= g.pairs]
            groups = exact or [
                g for g in groups if all(g.settings.get(k, v) == v for k, v in wanted)
            ]
            if not groups:
                return None
        observed = [g for g in groups if g.n]
        reported = [x for g in groups for xs in g.reported.values() for x in xs]
        if observed:
            lo, hi = min(g.lo for g in observed), max(g.hi for g in observed)
            n_values = sum(g.n for g in observed)
        elif reported:
            lo, hi, n_values = min(reported), max(reported), len(reported)
        else:
            return None
        figures: dict[str, list[float]] = {"mean": [], "median": []}
        for g in observed:
            if want or g.n > 1:  # a mean without a configuration is not one run of a sweep
                figures["mean"].append(g.mean)
                figures["median"].append(g.median)
        for g in groups:
            if want or not g.config:
                for agg in ("mean", "median"):
                    figures[agg].extend(g.reported.get(agg, ()))
        for xs in figures.values():
            xs.sort()
        for g in groups:
            if g.basenames is None:
                g.basenames = tuple(p.rsplit("/", 1)[-1] for p in g.files)
        names = sorted({name for g in groups for name in g.basenames or ()})
        where = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        extremes = [x for g in observed for x in (g.lo, g.hi, g.mean)]
        return Pool(
            lo,
            hi,
            n_values,
            figures,
            sorted(extremes + reported + figures["median"]),
            # the claim's own model's groups come first; the others are unnamed data
            groups[0].model == claim.model,
            where,
        )

    def figure_named_otherwise(self, claim: Fact) -> str | None:
        """Another metric of the claim's model whose mean is the claimed number (a mislabel)."""
        tol = 10.0 ** -min(claim.decimals, 12) * 0.5001
        for value, metric, source in self._means.get(claim.model, []):
            if metric != claim.metric and abs(value - claim.value) <= tol:
                return (
                    f"{fmt_num(claim.value)} is the mean {metric} in "
                    f"{source.rsplit('/', 1)[-1]}: mislabelled?"
                )
        return None


def _nearest(xs: list[float], v: float) -> float:
    i = bisect.bisect_left(xs, v)
    cands = xs[max(0, i - 1) : i + 1]
    return min(cands, key=lambda x: abs(x - v))


def check_claim(claim: Fact, pool: Pool) -> ClaimCheck | None:
    """Whether ``claim`` agrees with ``pool`` (None when the pool cannot say)."""
    agree = _agrees(claim, pool)
    return None if agree is None else ClaimCheck(claim, agree, _data(claim, pool))


def _agrees(claim: Fact, pool: Pool) -> bool | None:
    tol = 10.0 ** -min(claim.decimals, 12) * 1.0001 + 1e-9 * abs(claim.value)
    agg = "median" if claim.aggregate == "p50" else claim.aggregate
    if agg in _CENTRAL:
        figures = pool.figures[agg]
        if not figures:
            return None
        return abs(_nearest(figures, claim.value) - claim.value) <= tol
    return pool.lo - tol <= claim.value <= pool.hi + tol


def _data(claim: Fact, pool: Pool) -> str:
    """The data a claim was held against, for a person."""
    agg = "median" if claim.aggregate == "p50" else claim.aggregate
    if agg in _CENTRAL:
        figures = pool.figures[agg]
        if len(figures) == 1:
            return f"{agg} {fmt_num(_nearest(figures, claim.value))} in {pool.where}"
        return f"{len(figures)} {agg}s {fmt_num(figures[0])}-{fmt_num(figures[-1])} in {pool.where}"
    if pool.lo == pool.hi:
        return f"{fmt_num(pool.lo)} in {pool.where}"
    return (
        f"range {fmt_num(pool.lo)}-{fmt_num(pool.hi)} over {pool.n_values} values in {pool.where}"
    )


def _far_off(claim: Fact, pool: Pool) -> bool:
    """The claim is nowhere near its metric's data (more than 2x off every value)."""
    v = abs(claim.value)
    if pool.lo <= 2 * v and pool.hi >= v / 2:
        return False  # the observed range reaches within 2x of it
    xs = pool.every
    lo = bisect.bisect_left(xs, v / 2)
    return not (lo < len(xs) and xs[lo] <= 2 * v)


def check_claims(
    files: Sequence[FileView], facts: Iterable[Fact], stats: Sequence[Stat]
) -> dict[str, list[ClaimCheck]]:
    """Every checkable claim of every report file, by file."""
    return {path: checks for path, checks, _ in _checks_by_file(files, facts, stats, True)}


def _checks_by_file(
    files: Sequence[FileView], facts: Iterable[Fact], stats: Sequence[Stat], agreeing: bool
) -> Iterator[tuple[str, list[ClaimCheck], int]]:
    """(path, checks, how many) per report file with checkable claims, as they are made: the
    caller keeps only what it needs (on 33,000 small reports, every check held at once cost
    14 MB). Without ``agreeing``, the claims that agree are only counted."""
    index = DataIndex(stats, facts)
    for view in files:
        if view.artifact.format not in ("markdown", "text") or view.artifact.duplicate_of:
            continue
        checks = []
        n = 0
        for f in view.facts:
            if (
                f.model is None
                or f.aggregate not in _CHECKED
                or not f.recognized
                or f.failed
                or not math.isfinite(f.value)
                or f.metric in ("runs_ok", "runs_total")
            ):
                continue
            pool = index.pool(f, view.mentions)
            if pool is None:
                continue
            agree = _agrees(f, pool)
            if agree is None:
                continue
            if agree:
                n += 1
                if agreeing:
                    checks.append(ClaimCheck(f, True, _data(f, pool)))
                continue
            far = f.value > 0 and _far_off(f, pool)
            if not pool.own_model and not far:
                continue  # only unnamed data from files the report lists: too weak to accuse
            data = _data(f, pool)
            hint = index.figure_named_otherwise(f) if far else None
            checks.append(ClaimCheck(f, False, f"{data} ({hint})" if hint else data))
            n += 1
        if n:
            yield view.path, checks, n


def claims(
    files: Sequence[FileView], facts: Iterable[Fact], stats: Sequence[Stat]
) -> list[Finding]:
    """A finding per report whose numbers contradict the data they can be tied to."""
    disagreeing = [t for t in _checks_by_file(files, facts, stats, False) if t[1]]
    out = []
    for path, bad, n_checks in sorted(disagreeing, key=lambda t: t[0]):
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
                title=f"{path}: {len(bad)} of {n_checks} checkable numbers disagree with the "
                f"data for the same model and configuration",
                files=[path],
                evidence=shown(lines),
            )
        )
    return out
