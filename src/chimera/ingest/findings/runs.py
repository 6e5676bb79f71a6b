"""Run-level findings: failed runs that look like results, spread wider than the mean, and a
cold first call (or a model reload) left in the measurements."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from chimera.ingest.facts import Fact, config_label
from chimera.ingest.findings import FileView, Finding, shown
from chimera.ingest.stats import Stat
from chimera.ingest.values import fmt_num
from chimera.stats import percentile

# TTFT's parts (load, prompt eval) follow TTFT; reporting them again adds nothing
_SPREAD_METRICS = frozenset({"tokens_per_s", "ttft_s", "latency_ms", "eval_s"})


def _records(facts: Sequence[Fact]) -> dict[int, list[Fact]]:
    rows: dict[int, list[Fact]] = defaultdict(list)
    for f in facts:
        rows[f.record].append(f)
    return rows


def failures(files: Sequence[FileView]) -> list[Finding]:
    """Failed rows, by how they could be mistaken for results."""
    zeros: list[str] = []
    zero_files: list[str] = []
    marked: list[str] = []
    marked_files: list[str] = []
    nans: list[str] = []
    nan_files: list[str] = []
    empty: list[str] = []
    empty_files: list[str] = []
    for view in files:
        if view.artifact.duplicate_of is not None or not any(f.failed for f in view.facts):
            continue  # only rows with a failed fact are reported
        rows = _records([f for f in view.facts if f.recognized or f.metric == "failed_run"])
        by_kind: dict[str, list[list[Fact]]] = defaultdict(list)
        for row in rows.values():
            failed = [f for f in row if f.failed]
            if not failed:
                continue
            kind = failed[0].failure_kind or "error"
            if kind == "nan" and len(failed) < len(row):
                by_kind["nan"].append(failed)
                continue
            finite = [f for f in failed if math.isfinite(f.value)]
            if kind == "error_text_success":
                by_kind["marked"].append(failed)
            elif finite and any(f.value == 0 for f in finite):
                by_kind["zeros"].append(failed)
            elif kind == "nan":
                by_kind["nan"].append(failed)
            else:
                by_kind["empty"].append(failed)
        for key, sink, sink_files in (
            ("zeros", zeros, zero_files),
            ("marked", marked, marked_files),
            ("nan", nans, nan_files),
            ("empty", empty, empty_files),
        ):
            rows_k = by_kind.get(key)
            if not rows_k:
                continue
            sink_files.append(view.path)
            sample = rows_k[0]
            # JSON: count the rows of the list the failures sit in, not the summary objects
            listed = all("[" in r[0].locator for r in rows_k)
            n_rows = sum(1 for r in rows.values() if not listed or "[" in r[0].locator)
            reasons = sorted({r[0].failure or "" for r in rows_k})
            what = "; ".join(reasons[:2]) + (
                f" (+{len(reasons) - 2} more)" if len(reasons) > 2 else ""
            )
            values = ", ".join(
                f"{f.original_key}={fmt_num(f.value)}" for f in sample[:3] if math.isfinite(f.value)
            )
            unit = "objects" if view.artifact.format in ("json", "jsonl") else "rows"
            sink.append(
                f"{view.path}: {len(rows_k)} of {n_rows} {unit}; {what}"
                + (f"; recorded as {values}" if values else "")
            )
    out: list[Finding] = []
    if marked:
        out.append(
            Finding(
                kind="failure_marked_success",
                severity="error",
                title=f"runs marked successful carry error text next to their numbers in "
                f"{len(marked_files)} file(s); excluded from statistics",
                files=marked_files,
                evidence=shown(marked),
            )
        )
    if zeros:
        out.append(
            Finding(
                kind="failed_as_zeros",
                severity="warning",
                title=f"failed runs recorded as zeros in {len(zero_files)} file(s): they would "
                f"drag means toward 0; excluded from statistics and counted as failed",
                files=zero_files,
                evidence=shown(zeros),
            )
        )
    if nans:
        out.append(
            Finding(
                kind="nan_values",
                severity="warning",
                title=f"NaN or infinite values in {len(nan_files)} file(s); excluded",
                files=nan_files,
                evidence=shown(nans),
            )
        )
    if empty:
        out.append(
            Finding(
                kind="failed_runs",
                severity="info",
                title=f"failed runs with empty measurements in {len(empty_files)} file(s); "
                f"excluded and counted",
                files=empty_files,
                evidence=shown(empty),
            )
        )
    return out


def _explained_by_first(s: Stat, series: dict[tuple[object, ...], list[list[float]]]) -> bool:
    """True when dropping each file's first run brings the std under the mean (warm-up)."""
    rest = [
        x for xs in series.get((s.model, s.config_label, s.metric, s.source), []) for x in xs[1:]
    ]
    if len(rest) < 2:
        return False
    mean = math.fsum(rest) / len(rest)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in rest) / (len(rest) - 1))
    return std <= mean


def spread(stats: Sequence[Stat], files: Sequence[FileView]) -> list[Finding]:
    """Groups whose standard deviation is above their mean (measured or as reported), unless
    a cold first call explains it (the warm-up finding says that)."""
    wide = [
        s
        for s in stats
        if s.origin == "data"
        and s.n >= 3
        and s.std is not None
        and s.mean is not None
        and s.mean > 0
        and s.std > s.mean
        and s.metric in _SPREAD_METRICS
    ]
    # each file's series, in order, only for the (rare) groups that are wide
    wanted = {(s.model, s.config_label, s.metric, s.source) for s in wide}
    in_files = {p for s in wide for p in s.files}
    series: dict[tuple[object, ...], list[list[float]]] = defaultdict(list)
    for view in files:
        if view.path not in in_files:
            continue
        per: dict[tuple[object, ...], list[float]] = defaultdict(list)
        for f in view.facts:
            if f.aggregate is None and f.recognized and not f.failed and f.origin == "data":
                key = (f.model, f.config_label, f.metric, f.family)
                if key in wanted:
                    per[key].append(f.value)
        for group, xs in per.items():
            series[group].append(xs)
    lines: list[str] = []
    paths: set[str] = set()
    seen: set[tuple[object, ...]] = set()
    for s in wide:
        if s.std is not None and s.mean is not None:
            same = (s.model, s.config_label, s.metric, s.n, round(s.mean, 9))
            if same in seen or _explained_by_first(s, series):
                continue  # the same numbers in another format: said once
            seen.add(same)
            lines.append(
                f"{s.model or '?'} [{s.config_label}] {s.metric} in {s.source}: "
                f"mean {fmt_num(s.mean)}, std {fmt_num(s.std)}, min {fmt_num(s.min)}, "
                f"max {fmt_num(s.max)} (n={s.n})"
            )
            paths.update(s.files)
    for view in files:
        if (
            view.artifact.duplicate_of is not None
            or view.artifact.format in ("markdown", "text")
            or not any(f.aggregate == "std" for f in view.facts)
        ):
            continue  # only rows that report a standard deviation can say more
        for row in _records(view.facts).values():
            by_agg = {(f.metric, f.aggregate): f for f in row if f.recognized and not f.failed}
            for (metric, agg), sd in by_agg.items():
                mean = by_agg.get((metric, "mean"))
                if agg != "std" or mean is None or mean.value <= 0 or sd.value <= mean.value:
                    continue
                lo, hi = by_agg.get((metric, "min")), by_agg.get((metric, "max"))
                extra = (
                    f", min {fmt_num(lo.value)}, max {fmt_num(hi.value)}"
                    if lo is not None and hi is not None
                    else ""
                )
                where = sd.locator.rsplit(".", 1)[0]
                lines.append(
                    f"{view.path} {where}: reported std {fmt_num(sd.value)} {sd.unit} "
                    f"> mean {fmt_num(mean.value)} {mean.unit}{extra}"
                )
                paths.add(view.path)
    if not lines:
        return []
    return [
        Finding(
            kind="high_spread",
            severity="warning",
            title=f"{len(lines)} group(s) with a standard deviation above the mean: a few extreme "
            f"runs (often a cold first call) dominate; report the median or drop warm-up",
            files=sorted(paths),
            evidence=shown(lines),
        )
    ]


def warmup(files: Sequence[FileView]) -> list[Finding]:
    """A first call far slower than the rest, and TTFT dominated by model reloads."""
    lines: list[str] = []
    paths: list[str] = []
    for view in files:
        if (
            view.artifact.duplicate_of is not None
            or view.artifact.format in ("markdown", "text")
            or not any(f.metric == "ttft_s" for f in view.facts)
        ):
            continue  # both checks read TTFT
        found = _cold_first(view) or _reloads(view)
        if found:
            lines.extend(found)
            paths.append(view.path)
    if not lines:
        return []
    return [
        Finding(
            kind="warmup_not_excluded",
            severity="warning",
            title=f"cold first calls or model loads counted as measurements in {len(paths)} "
            f"file(s): TTFT means overstate steady-state latency",
            files=paths,
            evidence=shown(lines),
        )
    ]


def _cold_first(view: FileView) -> list[str]:
    series: dict[tuple[str | None, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
    for f in view.facts:
        if f.metric == "ttft_s" and f.aggregate is None and not f.failed and f.origin == "data":
            series[(f.model, f.config)].append(f.value)
    out = []
    for (model, config), xs in series.items():
        if len(xs) < 3:
            continue
        rest = sorted(xs[1:])
        med = percentile(rest, 50)
        if xs[0] > max(5 * med, med + 0.5):
            mean_all = math.fsum(xs) / len(xs)
            mean_rest = math.fsum(rest) / len(rest)
            out.append(
                f"{view.path}: {model or '?'} [{config_label(config)}] first TTFT "
                f"{fmt_num(xs[0])} s vs median {fmt_num(med)} s of the other "
                f"{len(rest)}; mean {fmt_num(mean_all)} s with it, "
                f"{fmt_num(mean_rest)} s without"
            )
    return out


def _reloads(view: FileView) -> list[str]:
    rows: list[tuple[float, float, tuple[tuple[str, str], ...]]] = []
    for row in _records(view.facts).values():
        vals = {
            f.metric: f for f in row if f.aggregate is None and not f.failed and f.origin == "data"
        }
        if "ttft_s" in vals and "load_s" in vals:
            rows.append((vals["ttft_s"].value, vals["load_s"].value, vals["ttft_s"].config))
    cold = [r for r in rows if r[1] >= 1.0 and r[1] >= 0.5 * r[0]]
    if len(cold) < 2 or len(cold) > len(rows) / 2:
        return []
    shared = set(cold[0][2])
    for r in cold[1:]:
        shared &= set(r[2])
    # a setting every cold run has and that is mostly cold where it occurs
    marks = sorted(
        kv
        for kv in shared
        if sum(1 for r in cold if kv in r[2]) >= 2 / 3 * sum(1 for r in rows if kv in r[2])
    )
    ttfts = sorted(r[0] for r in cold)
    warm = sorted(r[0] for r in rows if r not in cold)
    common = (
        (
            f"; all have {', '.join(f'{k}={v}' for k, v in marks)}, so that setting looks "
            f"slow only because its runs came first after a reload"
        )
        if marks
        else ""
    )
    return [
        f"{view.path}: {len(cold)} of {len(rows)} runs include a model load "
        f"(load_s >= 1 s); their TTFT is {fmt_num(ttfts[0])}-{fmt_num(ttfts[-1])} s vs "
        f"median {fmt_num(percentile(warm, 50)) if warm else 'n/a'} s for the others{common}"
    ]
