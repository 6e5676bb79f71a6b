"""A sweep's files: the tidy CSV appended row by row (the resume log) and the summary CSV.

``sweep.csv`` has one row per (point, run): the point's option values as columns, the model,
backend, endpoint (the server's URL) and status, then the metric columns under names
``chimera ingest`` recognizes. Rows are appended, flushed and synced as runs finish, so an
interrupted sweep keeps every finished run and a re-run skips them. ``sweep_summary.csv`` has
one row per point (n, mean, std, median, min and max of each metric) and is rewritten
atomically.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from chimera.atomic import write_text
from chimera.bench.grid import format_value
from chimera.bench.measure import METRICS
from chimera.errors import ConfigError, InputFileError, OutputError
from chimera.stats import summarize

CSV_NAME = "sweep.csv"
SUMMARY_NAME = "sweep_summary.csv"
# Hidden, so that `chimera ingest` of the folder reads the results, not the bookkeeping.
MANIFEST_NAME = ".chimera-sweep.json"
LEAD_COLUMNS = ("point", "run_index")
TAIL_COLUMNS = ("model", "backend", "endpoint", "status", "error", "started_at")
UPGRADED = "endpoint"  # added with endpoint pools: an older log gains it, empty, on resume
SUMMARY_STATS = ("mean", "std", "median", "min", "max")


def row_columns(option_names: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """The tidy CSV's header for a sweep over ``option_names``."""
    return [*LEAD_COLUMNS, *option_names, *TAIL_COLUMNS, *extra, *METRICS]


def cell(value: object) -> str:
    """A CSV cell: empty for None, numbers and booleans as ``format_value`` writes them."""
    return "" if value is None else format_value(value)


class SweepLog:
    """The append-only ``sweep.csv`` of one output folder."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.columns = list(columns)

    def _text(self) -> str:
        if not self.path.exists():
            return ""
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(str(self.path), f"cannot read the sweep log: {exc}") from None

    def repair(self) -> None:
        """Drop a partial last line (the process was killed mid-write) before appending; a
        log written before the endpoint column gets it (empty: the server is not known)."""
        text = self._text()
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
            write_text(self.path, text)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        older = [c for c in self.columns if c != UPGRADED]
        if rows and rows[0] == older and older != self.columns:
            at = self.columns.index(UPGRADED)
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(self.columns)
            writer.writerows([*r[:at], "", *r[at:]] for r in rows[1:] if len(r) == len(older))
            write_text(self.path, buf.getvalue())

    def read(self) -> list[dict[str, str]]:
        """The rows written so far; a partial last line is not a row."""
        text = self._text()
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            return []
        header = rows[0]
        if header != self.columns:
            raise ConfigError(
                f"{self.path} was written by a different sweep (columns {', '.join(header)}); "
                "give another --output-dir, or delete the file to start over"
            )
        return [dict(zip(header, r, strict=False)) for r in rows[1:] if len(r) == len(header)]

    def finished(self) -> set[tuple[str, int]]:
        """(point key, run index) of every row already written, failed runs included."""
        done: set[tuple[str, int]] = set()
        for row in self.read():
            try:
                done.add((row["point"], int(row["run_index"])))
            except (KeyError, ValueError):
                continue
        return done

    def append(self, row: Mapping[str, object]) -> None:
        """Append one row (the header first when the file is new), then flush and sync."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                if new:
                    writer.writerow(self.columns)
                writer.writerow([cell(row.get(c)) for c in self.columns])
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputError(f"cannot append to {self.path}: {exc}") from None


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def summary_rows(
    rows: Iterable[Mapping[str, str]], option_names: Sequence[str]
) -> list[dict[str, object]]:
    """One row per point, in first-seen order: counts, and each metric's summary statistics."""
    by_point: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        by_point.setdefault(row["point"], []).append(row)
    out: list[dict[str, object]] = []
    for key, group in by_point.items():
        first = group[0]
        ok = [r for r in group if r.get("status") == "ok"]
        summary: dict[str, object] = {"point": key}
        summary.update({name: first.get(name, "") for name in option_names})
        summary.update(
            model=first.get("model", ""),
            backend=first.get("backend", ""),
            # a resumed point may have finished on another server: each one named
            endpoint=", ".join(dict.fromkeys(e for r in group if (e := r.get("endpoint")))),
            completed_runs=len(ok),
            total_runs=len(group),
        )
        for metric in METRICS:
            values = [v for r in ok if (v := _number(r.get(metric, ""))) is not None]
            s = summarize(values)
            for stat in SUMMARY_STATS:
                summary[f"{metric}_{stat}"] = None if s is None else getattr(s, stat)
        out.append(summary)
    return out


def summary_columns(option_names: Sequence[str]) -> list[str]:
    return [
        "point",
        *option_names,
        "model",
        "backend",
        "endpoint",
        "completed_runs",
        "total_runs",
        *(f"{m}_{s}" for m in METRICS for s in SUMMARY_STATS),
    ]


def write_summary(
    path: Path, rows: Iterable[Mapping[str, str]], option_names: Sequence[str]
) -> list[dict[str, object]]:
    """Write ``sweep_summary.csv`` atomically; returns its rows."""
    summary = summary_rows(rows, option_names)
    columns = summary_columns(option_names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in summary:
        writer.writerow([cell(row.get(c)) for c in columns])
    write_text(path, buf.getvalue())
    return summary
