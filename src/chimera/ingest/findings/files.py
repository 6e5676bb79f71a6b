"""File-level findings: the same numbers in two files, encodings, malformed content, error
messages saved as data, and schema drift within a family of files (copies: copies.py)."""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache

from chimera.ingest.facts import ERROR_TEXT, Fact
from chimera.ingest.findings import FileView, Finding, shown
from chimera.ingest.records import DATA_FORMATS

_MAX_FILES_PER_KEY = 12


def _usable(f: Fact) -> bool:
    return f.recognized and not f.failed and f.origin != "prose" and math.isfinite(f.value)


def same_data(files: Sequence[FileView]) -> list[Finding]:
    """Pairs of files whose numbers (same metric, equal to the shown precision) mostly match.

    Candidates come from values shared by 2-12 files: each distinct (metric, aggregate, value to
    3 significant digits) of each file is a key, and the files holding a key are listed under
    it; pairs sharing 4 or more keys are then compared value by value.
    """
    views = [f for f in files if f.artifact.duplicate_of is None]
    holders: defaultdict[int, list[int]] = defaultdict(list)
    sizes: list[int] = []  # distinct keys per file
    for i, v in enumerate(views):
        keys = _keys(v.facts)
        for key in keys:
            holders[key].append(i)
        sizes.append(len(keys))
    pairs: Counter[tuple[int, int]] = Counter()
    for owners in holders.values():
        if 1 < len(owners) <= _MAX_FILES_PER_KEY:
            pairs.update(itertools.combinations(owners, 2))
    del holders
    lines: list[str] = []
    involved: set[str] = set()
    # a file is in many pairs: its usable numbers and lookup table are made once
    numbers: dict[int, tuple[_Numbers, int]] = {}
    tables: dict[int, _Table] = {}
    for (a, b), common in sorted(pairs.items()):
        if common < 4:
            continue
        (i_small, i_big) = (a, b) if sizes[a] <= sizes[b] else (b, a)
        small, big = views[i_small], views[i_big]
        if i_small not in numbers:
            numbers[i_small] = _numbers(small.facts)
        if i_big not in tables:
            tables[i_big] = _table((numbers.get(i_big) or _numbers(big.facts))[0])
        small_numbers, total = numbers[i_small]
        matched = _match(small_numbers, tables[i_big])
        if total >= 4 and matched >= 0.8 * total:
            fmt = (
                f"{small.artifact.format.upper()} vs {big.artifact.format.upper()}"
                if small.artifact.format != big.artifact.format
                else "same format"
            )
            lines.append(f"{small.path} ~ {big.path}: {matched} of {total} values match ({fmt})")
            involved.update((small.path, big.path))
    if not lines:
        return []
    return [
        Finding(
            kind="same_data",
            severity="info",
            title=f"{len(lines)} pair(s) of files hold the same numbers in different files or "
            f"formats: analyse one of each pair",
            files=sorted(involved),
            evidence=shown(lines),
        )
    ]


def _keys(facts: Sequence[Fact]) -> set[int]:
    """A file's distinct (metric, aggregate, value to 3 significant digits), hashed (a rare
    collision only adds a candidate pair that the value-by-value comparison rejects; ints
    cost a third of the memory of the tuples on a tree of 100,000 files)."""
    keys = set()
    for f in facts:
        value = f.value
        if (
            value != 0
            and f.recognized
            and not f.failed
            and f.origin != "prose"
            and math.isfinite(value)
        ):
            sig = f"{value:.3g}"
            if len(sig.strip("-0.")) >= 2:
                keys.add(hash((f.metric, f.aggregate, sig)))
    return keys


_Key = tuple[str, str | None]  # (metric, aggregate)
# a file's usable numbers by (metric, aggregate): (value, decimals) in file order
_Numbers = dict[_Key, list[tuple[float, int]]]
# by (metric, aggregate): the values sorted, their decimals in step, the fewest decimals shown
_Table = dict[_Key, tuple[list[float], list[int], int]]


def _numbers(facts: Sequence[Fact]) -> tuple[_Numbers, int]:
    """A file's usable numbers by key, and how many."""
    out: _Numbers = {}
    n = 0
    for f in facts:
        if _usable(f):
            key = (f.metric, f.aggregate)
            got = out.get(key)
            if got is None:
                out[key] = [(f.value, f.decimals)]
            else:
                got.append((f.value, f.decimals))
            n += 1
    return out, n


def _table(numbers: _Numbers) -> _Table:
    table: _Table = {}
    for key, items in numbers.items():
        ordered = sorted(items)
        decimals = [dec for _, dec in ordered]
        table[key] = ([value for value, _ in ordered], decimals, min(12, *decimals))
    return table


class _HalfUnits(dict[int, float]):
    """Half a unit of the last shown digit, widened by 0.1%, by decimals (one power each)."""

    def __missing__(self, decimals: int) -> float:
        got = self[decimals] = 0.5 * 10.0**-decimals * 1.001
        return got


_HALF_UNIT = _HalfUnits()


def _match(small: _Numbers, big: _Table) -> int:
    """How many of the small file's numbers the big file shows too (to the coarser precision
    of the two); each number looks at its 6 nearest candidates from below its window."""
    matched = 0
    for key, items in small.items():
        got = big.get(key)
        if got is None:
            continue
        values, decs, coarsest = got
        n = len(values)
        for v, decimals in items:
            if decimals > 12:
                decimals = 12
            lo = bisect.bisect_left(values, v - _HALF_UNIT[min(decimals, coarsest)] - 1e-9)
            for j in range(lo, min(lo + 6, n)):
                value, dec = values[j], decs[j]
                tol = _HALF_UNIT[dec if dec < decimals else decimals] + 1e-12 * abs(value)
                if abs(value - v) <= tol:
                    matched += 1
                    break
    return matched


_SEVERE_ODDITY = ("not valid UTF-8", "mangled byte-order mark", "C1 control", "U+FFFD")


def encodings(files: Sequence[FileView]) -> list[Finding]:
    """Files that needed a fallback or carry signs of an earlier wrong decoding."""
    lines: list[str] = []
    paths: list[str] = []
    severe = False
    for f in files:
        if not f.oddities:
            continue
        paths.append(f.path)
        lines.extend(f"{f.path}: {o}" for o in f.oddities)
        severe = severe or any(k in o for o in f.oddities for k in _SEVERE_ODDITY)
    if not lines:
        return []
    return [
        Finding(
            kind="encoding",
            severity="warning" if severe else "info",
            title=f"encoding oddities in {len(paths)} file(s): text that another tool may misread",
            files=paths,
            evidence=shown(lines),
        )
    ]


def reader_notes(files: Sequence[FileView]) -> list[Finding]:
    """Ragged or malformed rows, and files only partly read."""
    out: list[Finding] = []
    for kind, severity, title in (
        ("malformed_rows", "warning", "file(s) with malformed rows (read as far as possible)"),
        ("truncated", "info", "file(s) only partly read (limits in the settings)"),
    ):
        hits = [(f.path, d) for f in files for k, d in f.notes if k == kind]
        if hits:
            out.append(
                Finding(
                    kind=kind,
                    severity=severity,
                    title=f"{len({p for p, _ in hits})} {title}",
                    files=sorted({p for p, _ in hits}),
                    evidence=shown([f"{p}: {d}" for p, d in hits]),
                )
            )
    return out


def error_artifacts(files: Sequence[FileView]) -> list[Finding]:
    """Data files that hold a tool's error message instead of data."""
    lines = []
    for f in files:
        if (
            f.artifact.format in DATA_FORMATS
            and not f.facts
            and ERROR_TEXT.search(f.first_line.strip())
        ):
            lines.append(f"{f.path}: {f.first_line.strip()[:100]!r}")
    if not lines:
        return []
    return [
        Finding(
            kind="error_artifact",
            severity="warning",
            title=f"{len(lines)} data file(s) contain an error message, not data",
            files=[ln.split(": ", 1)[0] for ln in lines],
            evidence=shown(lines),
        )
    ]


_STATUS_KEYS = ("error", "success", "status", "exception", "traceback")


@lru_cache(maxsize=1024)
def _layout(schema: tuple[str, ...]) -> frozenset[str]:
    """A schema without status columns (their presence follows failures, not the layout)."""
    return frozenset(k for k in schema if not any(s in k.rsplit(".", 1)[-1] for s in _STATUS_KEYS))


def schema_drift(files: Sequence[FileView]) -> list[Finding]:
    """Within a family of files, the columns/keys that some files have and most do not."""
    fams: dict[str, list[FileView]] = defaultdict(list)
    for f in files:
        if f.artifact.duplicate_of is None and f.schema and f.artifact.format in DATA_FORMATS:
            fams[f.artifact.family].append(f)
    out: list[Finding] = []
    for family, views in sorted(fams.items()):
        if len(views) < 2:
            continue
        sets = {v.path: _layout(v.schema) for v in views}
        common = Counter(sets.values()).most_common()
        if len(common) < 2:
            continue
        majority = common[0][0]
        lines = []
        odd: list[str] = []
        for path, keys in sorted(sets.items()):
            if keys == majority:
                continue
            odd.append(path)
            extra = sorted(keys - majority)
            missing = sorted(majority - keys)
            parts = []
            if extra:
                parts.append("has " + ", ".join(extra[:6]) + (" ..." if len(extra) > 6 else ""))
            if missing:
                parts.append(
                    "lacks " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
                )
            lines.append(f"{path}: {'; '.join(parts)}")
        out.append(
            Finding(
                kind="schema_drift",
                severity="info",
                title=f"schema drift in family {family}: {len(odd)} of {len(views)} files differ "
                f"from the most common layout",
                files=sorted(v.path for v in views),
                evidence=shown(lines),
            )
        )
    return out
