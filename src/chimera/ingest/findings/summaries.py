"""Summaries against their raw data: ``X_summary.*`` beside ``X.*``/``X_runs.*``, and a JSON
file's own summary block against the rows listed in it. Each reported figure is recomputed
from the raw observations of the same model and configuration (failed rows excluded)."""

from __future__ import annotations

import math
import posixpath
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from chimera.ingest.facts import Config, Fact, config_label
from chimera.ingest.findings import FileView, Finding, shown
from chimera.ingest.records import DATA_FORMATS
from chimera.ingest.values import fmt_num
from chimera.stats import percentile

_RAW_SUFFIXES = ("", "_runs", "_run", "_raw", "_results", "_data", "_rows")
_AGGS = frozenset({"mean", "median", "min", "max", "std", "total", "overall"})
_COUNTS = frozenset({"runs_ok", "runs_total"})


class Comparison(NamedTuple):
    """One reported figure and its recomputation (a named tuple: a summary file makes
    hundreds)."""

    locator: str
    model: str | None
    config: str
    metric: str
    aggregate: str
    reported: float
    recomputed: float
    n: int
    agree: bool


def summary_pairs(files: Sequence[FileView]) -> list[tuple[FileView, FileView]]:
    """(summary, raw) pairs found by name within a directory."""
    data = [
        f for f in files if f.artifact.format in DATA_FORMATS and f.artifact.duplicate_of is None
    ]
    # Summaries first, then only the names they ask for: an index of every data file by name
    # cost 23 MB at the peak on a tree of 100,000 files with no summary at all.
    summary_views: dict[tuple[str, str], list[FileView]] = defaultdict(list)
    for f in data:
        key = _name_key(f.path)
        if key[1].endswith("summary"):
            summary_views[key].append(f)
    wanted: set[tuple[str, str]] = set()
    for d, stem in summary_views:
        base = stem[: -len("summary")].rstrip("_-")
        if base:
            wanted.update((d, base + suffix) for suffix in _RAW_SUFFIXES)
    by_dir: dict[tuple[str, str], list[FileView]] = defaultdict(list)
    if wanted:
        for f in data:
            key = _name_key(f.path)
            if key in wanted:
                by_dir[key].append(f)
    pairs: list[tuple[FileView, FileView]] = []
    for (d, stem), views in sorted(summary_views.items()):
        base = stem[: -len("summary")].rstrip("_-")
        if not base:
            continue
        for suffix in _RAW_SUFFIXES:
            for raw in by_dir.get((d, base + suffix), []):
                pairs.extend((s, raw) for s in views)
    return pairs


def _name_key(path: str) -> tuple[str, str]:
    d, name = posixpath.split(path)
    return d, posixpath.splitext(name)[0].lower()


def compare(reported: Sequence[Fact], raw: Sequence[Fact]) -> list[Comparison]:
    """Recompute every reported aggregate/count from the matching raw observations."""
    # observations grouped by (model, configuration): a summary row matches whole groups
    groups: dict[tuple[str | None, tuple[tuple[str, str], ...]], list[Fact]] = defaultdict(list)
    for f in raw:
        if (
            f.aggregate is None
            and f.origin == "data"
            and (f.recognized or f.metric == "failed_run")
        ):
            groups[(f.model, f.config)].append(f)
    config_sets = {key: frozenset(key[1]) for key in groups}
    # a summary row's figures share a model and configuration: their rows are found once
    matches: dict[tuple[str | None, Config], tuple[list[Fact], dict[str, list[Fact]]]] = {}
    labels: dict[Config, str] = {}
    out: list[Comparison] = []
    for r in reported:
        if r.failed or not r.recognized or not math.isfinite(r.value):
            continue
        counting = r.metric in _COUNTS and r.aggregate is None
        if not counting and r.aggregate not in _AGGS:
            continue
        any_model = r.model is None or r.model_from in ("path-guess", "none")
        mkey = (None if any_model else r.model, r.config)
        hit = matches.get(mkey)
        if hit is None:
            want = frozenset(r.config)
            match = [
                f
                for key, fs in groups.items()
                if (any_model or key[0] == r.model) and want <= config_sets[key]
                for f in fs
            ]
            by_metric: dict[str, list[Fact]] = defaultdict(list)
            for f in match:
                by_metric[f.metric].append(f)
            hit = matches[mkey] = match, by_metric
        match, by_metric = hit
        if counting:
            rows = {(f.source, f.record): f.failed for f in match}
            if not rows:
                continue
            value = (
                float(sum(1 for failed in rows.values() if not failed))
                if r.metric == "runs_ok"
                else float(len(rows))
            )
            out.append(_cmp(r, value, len(rows), 12, 12, labels))  # counts: exactly
            continue
        same = by_metric.get(r.metric, [])
        if not same and r.aggregate != "overall":
            continue
        ok = sorted(f.value for f in same if not f.failed and math.isfinite(f.value))
        dec = min((f.decimals for f in same if not f.failed), default=12)
        recomputed = _recompute(r, ok, match)
        if recomputed is None:
            if same and not ok and r.value != 0:
                out.append(
                    Comparison(
                        r.locator,
                        r.model,
                        config_label(r.config),
                        r.metric,
                        r.aggregate or "",
                        r.value,
                        math.nan,
                        0,
                        False,
                    )
                )
            continue
        if r.aggregate == "std":
            alt = _population_std(ok)
            if alt is not None and _close(r.value, alt, dec, r.decimals):
                recomputed = alt
        out.append(_cmp(r, recomputed, len(ok), dec, r.decimals, labels))
    return out


def _recompute(r: Fact, ok: list[float], match: Sequence[Fact]) -> float | None:
    agg = r.aggregate
    if agg == "overall":
        if r.metric != "tokens_per_s":
            return None
        rows: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
        for f in match:
            if not f.failed and f.metric in ("eval_count", "latency_ms"):
                rows[(f.source, f.record)][f.metric] = f.value
        pairs = [v for v in rows.values() if "eval_count" in v and "latency_ms" in v]
        seconds = math.fsum(v["latency_ms"] for v in pairs) / 1000
        return math.fsum(v["eval_count"] for v in pairs) / seconds if seconds > 0 else None
    if not ok:
        return None
    if agg == "mean":
        return math.fsum(ok) / len(ok)
    if agg == "median":
        return percentile(ok, 50)
    if agg == "min":
        return ok[0]
    if agg == "max":
        return ok[-1]
    if agg == "total":
        return math.fsum(ok)
    if agg == "std":
        if len(ok) < 2:
            return None
        m = math.fsum(ok) / len(ok)
        return math.sqrt(math.fsum((x - m) ** 2 for x in ok) / (len(ok) - 1))
    return None


def _population_std(ok: list[float]) -> float | None:
    if not ok:
        return None
    m = math.fsum(ok) / len(ok)
    return math.sqrt(math.fsum((x - m) ** 2 for x in ok) / len(ok))


def _close(a: float, b: float, dec_raw: int, dec_rep: int) -> bool:
    tol = 0.5 * 10.0 ** -min(dec_raw, 12) + 0.5 * 10.0 ** -min(dec_rep, 12)
    return abs(a - b) <= tol * 1.001 + 1e-9 * max(abs(a), abs(b))


def _cmp(
    r: Fact, value: float, n: int, dec_raw: int, dec_rep: int, labels: dict[Config, str]
) -> Comparison:
    config = r.config
    label = labels.get(config)
    if label is None:  # the figures of a summary row share their configuration
        label = labels[config] = config_label(config)
    return Comparison(
        r.locator,
        r.model,
        label,
        r.metric,
        r.aggregate or "count",
        r.value,
        value,
        n,
        _close(r.value, value, dec_raw, dec_rep),
    )


def internal_parts(view: FileView) -> tuple[list[Fact], list[Fact]]:
    """A JSON file's figures outside lists (its summary) and observations inside lists."""
    if view.artifact.format not in ("json", "jsonl"):
        return [], []
    top = [f for f in view.facts if "[" not in f.locator]
    listed = [f for f in view.facts if "[" in f.locator and f.aggregate is None]
    return top, listed


def summaries(files: Sequence[FileView]) -> list[Finding]:
    """A finding per summary whose figures do not follow from its raw data."""
    out: list[Finding] = []
    checks: list[tuple[FileView, FileView | None, list[Comparison]]] = []
    for s, r in summary_pairs(files):
        checks.append((s, r, compare(s.facts, r.facts)))
    for view in files:
        if view.artifact.duplicate_of is None:
            top, listed = internal_parts(view)
            if top and listed:
                checks.append((view, None, compare(top, listed)))
    for s, raw, comps in checks:
        bad = [c for c in comps if not c.agree]
        if not bad:
            continue
        big = any(
            c.aggregate == "count"
            or math.isnan(c.recomputed)
            or abs(c.reported - c.recomputed) > 0.05 * max(abs(c.recomputed), 1e-12)
            for c in bad
        )
        against = raw.path if raw is not None else "the rows listed in the same file"
        lines = [_line(c) for c in bad]
        out.append(
            Finding(
                kind="summary_mismatch",
                severity="error" if big else "warning",
                title=f"{s.path}: {len(bad)} of {len(comps)} summary figures do not follow from "
                f"{against}",
                files=[s.path] + ([raw.path] if raw is not None else []),
                evidence=shown(lines),
            )
        )
    return out


def _line(c: Comparison) -> str:
    who = f"{c.model or 'all models'} [{c.config}]"
    if c.aggregate == "count":
        return (
            f"{c.locator}: {who} reports {fmt_num(c.reported)} {c.metric}; the rows show "
            f"{fmt_num(c.recomputed)} (of {c.n})"
        )
    if math.isnan(c.recomputed):
        return (
            f"{c.locator}: {who} reports {c.aggregate} {c.metric} {fmt_num(c.reported)} "
            f"but every matching row failed"
        )
    return (
        f"{c.locator}: {who} {c.aggregate} {c.metric} reported {fmt_num(c.reported)}, "
        f"recomputed {fmt_num(c.recomputed)} from {c.n} ok row(s)"
    )
