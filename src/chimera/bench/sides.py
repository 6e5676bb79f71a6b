"""Where a comparison's samples come from: a sweep folder or any CSV (all rows, or those a
selector picks), or a run in the store.

A reference is ``TARGET[@SELECTOR]``. TARGET is a CSV file, a folder holding ``sweep.csv``,
or a store run id (or prefix). SELECTOR is comma-separated ``option=value`` pairs
(``num_ctx=256,num_thread=1``) and/or bare words matched against a row's text cells
(``baseline``). ``@SELECTOR`` alone reuses the other side's TARGET.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chimera.bench.compare import REQUEST_METRIC_UNITS, Side
from chimera.bench.measure import METRICS
from chimera.bench.sweeplog import CSV_NAME
from chimera.calls import CallMetrics, call_totals
from chimera.errors import ConfigError, InputFileError
from chimera.ingest.fields import Classifier
from chimera.ingest.values import parse_number
from chimera.metrics_table import INGEST_DEFAULT_UNIT, INGEST_TO_CALL
from chimera.quantities import convert
from chimera.store import Store
from chimera.store.load import load_rows
from chimera.store.queries import call_metrics, measured_calls, resolve_run, run_row, table_rows

_OK_STATUS = frozenset({"", "ok", "success", "succeeded", "passed", "completed", "done"})
_NO_ERROR = frozenset({"", "none", "null", "nan", "0", "false", "no error"})


@dataclass(frozen=True, slots=True)
class Selector:
    """``option=value`` pairs and bare words; empty = every row."""

    where: dict[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Selector:
        where: dict[str, str] = {}
        words: list[str] = []
        for part in (p.strip() for p in (text or "").split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            if sep:
                where[name.strip().replace("-", "_")] = value.strip()
            else:
                words.append(part.lower())
        return cls(where, tuple(words))

    def __bool__(self) -> bool:
        return bool(self.where or self.words)

    def text(self) -> str:
        return ",".join([*(f"{k}={v}" for k, v in self.where.items()), *self.words])

    def matches(self, row: Mapping[str, object]) -> bool:
        for name, wanted in self.where.items():
            if name not in row or not _same(row[name], wanted):
                return False
        cells = {str(v).strip().lower() for v in row.values() if v is not None}
        return all(w in cells for w in self.words)


def _same(have: object, wanted: str) -> bool:
    try:
        return float(str(have)) == float(wanted)
    except ValueError:
        return str(have).strip().lower() == wanted.lower()


def split_ref(ref: str) -> tuple[str, Selector]:
    """``path@num_ctx=256`` -> (``path``, selector); no ``@`` -> (ref, empty selector)."""
    target, sep, sel = ref.rpartition("@")
    if not sep:
        return ref, Selector()
    return target, Selector.parse(sel)


def _column_map(header: list[str]) -> dict[str, tuple[str, str, str]]:
    """column -> (our metric, unit of the column, unit wanted): our names as they are, other
    names through chimera ingest's alias table; the first column for a metric wins."""
    cls = Classifier()
    out: dict[str, tuple[str, str, str]] = {}
    taken: set[str] = set()
    for h in header:
        if h in METRICS:
            target: tuple[str, str, str] | None = (h, "", "")
        else:
            info = cls.classify(h)
            canonical = INGEST_TO_CALL.get(info.name)
            target = None
            if info.role == "metric" and info.recognized and info.aggregate is None and canonical:
                unit = info.unit or INGEST_DEFAULT_UNIT.get(info.name, canonical[1])
                target = (canonical[0], unit, canonical[1])
        if target is not None and target[0] not in taken:
            taken.add(target[0])
            out[h] = target
    return out


def _failed(row: Mapping[str, str]) -> bool:
    for key, value in row.items():
        k, v = key.strip().lower(), (value or "").strip().lower()
        if k in ("status", "state", "outcome") and v not in _OK_STATUS:
            return True
        if k in ("error", "errors", "error_message", "exception") and v not in _NO_ERROR:
            return True
        if k in ("success", "ok") and v in ("false", "no", "0"):
            return True
    return False


def csv_side(path: Path, selector: Selector, label: str) -> Side:
    """Samples from a CSV's successful rows that the selector picks."""
    if path.is_dir():
        if not (path / CSV_NAME).is_file():
            raise InputFileError(str(path), f"is a folder without {CSV_NAME}; name a CSV file")
        path = path / CSV_NAME
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(str(path), f"cannot read it as CSV: {exc}") from None
    header = list(rows[0]) if rows else []
    columns = _column_map(header)
    if not columns:
        raise InputFileError(
            str(path), "has no metric column chimera knows (decode_tokens_per_s, ttft_ms, ...)"
        )
    picked = [r for r in rows if selector.matches(r)]
    ok = [r for r in picked if not _failed(r)]
    values: dict[str, list[float]] = {}
    for column, (metric, unit, wanted) in columns.items():
        xs = []
        for r in ok:
            num = parse_number(r.get(column) or "")
            if num is None or not math.isfinite(num.value):
                continue
            v = convert(num.value, num.unit or unit or None, wanted)
            if v is not None:
                xs.append(v)
        if xs:
            values[metric] = xs
    notes = []
    if len(picked) > len(ok):
        notes.append(f"{len(picked) - len(ok)} failed row(s) left out")
    points = {r.get("point") for r in ok if r.get("point")}
    if len(points) > 1:
        notes.append(f"pools {len(points)} sweep points; pick one with {path}@NAME=VALUE,...")
    source = f"{path}" + (f"@{selector.text()}" if selector else "")
    if not ok:
        raise ConfigError(f"{source}: no successful rows match; check the selector")
    kind = "sweep" if path.name == CSV_NAME else None  # any other CSV: kind unknown
    return Side(label=label, source=source, values=values, notes=notes, kind=kind)


def store_side(store: Store, ref: str, selector: Selector, label: str) -> Side:
    """Samples from a stored run: one per agent run when it has agents, else one per call."""
    run_id = resolve_run(store, ref)
    kind = run_row(store, run_id).get("kind")
    if kind == "load":
        return requests_side(store, run_id, selector, label)
    agents = {a["id"]: a for a in table_rows(store, "agents", run_id)}

    def words(c: Mapping[str, object]) -> set[str]:
        agent = agents.get(c["agent_row"], {}).get("agent_id")
        return {str(c.get("stage")).lower(), str(agent).lower()}

    calls = [
        c
        for c in measured_calls(store, run_id, selector.where)
        if all(w in words(c) for w in selector.words)
    ]
    groups: dict[object, list[CallMetrics]] = {}
    for c in calls:
        key = c["agent_row"] if c["agent_row"] is not None else ("call", c["id"])
        groups.setdefault(key, []).append(call_metrics(c))
    values: dict[str, list[float]] = {}
    for metrics in groups.values():
        totals = call_totals(metrics)
        for name in METRICS:
            v = getattr(totals, name)
            if v is not None:
                values.setdefault(name, []).append(float(v))
    source = f"run {run_id[:12]}" + (f"@{selector.text()}" if selector else "")
    if not values:
        raise ConfigError(f"{source}: no successful measured calls match")
    unit = "agent run" if any(c["agent_row"] is not None for c in calls) else "call"
    notes = [f"one sample per {unit}"]
    origin = run_row(store, run_id).get("origin")
    if origin and origin != "chimera":
        notes.append(
            f"imported from the old {origin} demo: its figures keep the old definitions, not "
            "Chimera's measurements (docs/legacy.md)"
        )
    points = {c["point"] for c in calls if c.get("point")}
    if len(points) > 1:
        notes.append(f"pools {len(points)} sweep points; pick one with {ref}@NAME=VALUE,...")
    return Side(label=label, source=source, values=values, notes=notes, kind=kind)


def _request_decode_rate(r: Mapping[str, object]) -> float | None:
    """Output tokens over the server's decode time, else one token per TPOT."""
    out, eval_ms, tpot = r.get("output_tokens"), r.get("eval_ms"), r.get("tpot_ms")
    if isinstance(out, int | float) and isinstance(eval_ms, int | float) and eval_ms > 0:
        return float(out) / (float(eval_ms) / 1000.0)
    if isinstance(tpot, int | float) and tpot > 0:
        return 1000.0 / float(tpot)
    return None


def requests_side(store: Store, run_id: str, selector: Selector, label: str) -> Side:
    """Samples from a ``chimera load`` run: one per ok, measured request (``@level=N`` picks
    a level)."""
    if selector.words or set(selector.where) - {"level"}:
        raise ConfigError(
            f"run {run_id[:12]} is a load run: pick its requests with @level=N, nothing else"
        )
    requests = load_rows(store, "requests", run_id)
    _check_level(run_id, selector, _levels(store, run_id, requests))
    rows = [r for r in requests if r["status"] == "ok" and not r["warmup"] and selector.matches(r)]
    values: dict[str, list[float]] = {}
    for r in rows:
        r["decode_tokens_per_s"] = _request_decode_rate(r)
        for name in (*METRICS, *REQUEST_METRIC_UNITS):
            v = r.get(name)
            if isinstance(v, int | float):
                values.setdefault(name, []).append(float(v))
    source = f"run {run_id[:12]}" + (f"@{selector.text()}" if selector else "")
    if not values:
        raise ConfigError(f"{source}: no ok measured requests match")
    notes = [
        "one sample per request; the requests of a level share the server, so the tests "
        "take as independent what is not quite"
    ]
    levels = sorted({r["level"] for r in rows})
    if len(levels) > 1:
        notes.append(f"pools {len(levels)} load levels; pick one with {run_id[:12]}@level=N")
    return Side(label=label, source=source, values=values, notes=notes, kind="load")


def _levels(store: Store, run_id: str, requests: list[dict[str, Any]]) -> dict[Any, str]:
    """A load run's levels -> their labels (``c=2``, ``4 req/s``; empty if not recorded)."""
    levels = {r["level"]: r["label"] or "" for r in load_rows(store, "load_levels", run_id)}
    for r in requests:
        levels.setdefault(r["level"], "")
    return levels


def _check_level(run_id: str, selector: Selector, levels: Mapping[Any, str]) -> None:
    """Refuse ``@level=N`` naming a level the run does not have, saying which it has."""
    wanted = selector.where.get("level")
    if wanted is None or any(_same(level, wanted) for level in levels):
        return
    if not levels:
        raise ConfigError(f"run {run_id[:12]} has no level {wanted}: it recorded no levels")
    have = ", ".join(f"{n} ({text})" if text else f"{n}" for n, text in sorted(levels.items()))
    raise ConfigError(
        f"run {run_id[:12]} has no level {wanted}; its levels are {have}: pick one with "
        f"{run_id[:12]}@level={min(levels)}, or leave out @level to pool them"
    )


def load_side(
    ref: str,
    label: str,
    store: Callable[[], Store] | None,
    default_target: str | None = None,
) -> Side:
    """The side ``ref`` names: a CSV or sweep folder if the path exists, else a store run.

    ``store`` opens the run store when a run is named (so comparing files opens none).
    """
    target, selector = split_ref(ref)
    target = target or default_target or ""
    if not target:
        raise ConfigError(f"{ref!r} names no sweep, CSV or run before the @")
    path = Path(target).expanduser()
    if path.exists():
        return csv_side(path, selector, label)
    if store is None:
        raise ConfigError(f"{target!r} is not a file or folder, and no run store is open")
    return store_side(store(), target, selector, label)
