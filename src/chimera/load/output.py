"""Where a load run's records go: a JSONL file (written atomically) and the run store."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from chimera.atomic import atomic_writer
from chimera.load.metrics import LevelSummary, distribution
from chimera.load.records import RequestRecord


def write_jsonl(path: Path, records: Sequence[RequestRecord]) -> Path:
    """One JSON object a request, every field (ITL as the list of gaps)."""
    with atomic_writer(path, binary=True) as fh:
        for rec in records:
            fh.write(orjson.dumps(rec.as_dict()))
            fh.write(b"\n")
    return path


def request_row(rec: RequestRecord) -> dict[str, Any]:
    """A record as a ``requests`` row: ITL summarized to mean, p50 and p99."""
    itl = distribution(rec.itl_ms)
    row = rec.as_dict()
    for name in ("itl_ms", "estimated", "index"):
        row.pop(name)
    row.update(
        idx=rec.index,
        itl_ms_mean=itl.mean,
        itl_ms_p50=itl.p50,
        itl_ms_p99=itl.p99,
        estimated_json=rec.estimated or None,
    )
    return row


def level_row(summary: LevelSummary) -> dict[str, Any]:
    return {
        "level": summary.level,
        "label": summary.label,
        "requests_ok": summary.requests_ok,
        "requests_failed": summary.requests_failed,
        "achieved_rate_rps": summary.achieved_rate_rps,
        "output_tokens_per_s": summary.output_tokens_per_s,
        "ttft_ms_p99": summary.ttft_ms.p99,
        "generator_saturated": summary.generator.saturated,
        "summary_json": summary.model_dump(mode="json"),
    }


DISTRIBUTIONS = ("ttft_ms", "ttfot_ms", "itl_ms", "tpot_ms", "e2e_ms", "queue_ms")
STATS = ("n", "mean", "p50", "p90", "p95", "p99", "p999", "max")


def level_csv_row(s: LevelSummary) -> dict[str, Any]:
    """A level flattened to one CSV row: scalars, then ``ttft_ms_p99`` and the like."""
    row: dict[str, Any] = {
        k: v
        for k, v in s.model_dump(mode="json").items()
        if not isinstance(v, dict | list) or k == "failures_by_type"
    }
    row["failures_by_type"] = ";".join(f"{k}={v}" for k, v in s.failures_by_type.items())
    for name in DISTRIBUTIONS:
        d = getattr(s, name)
        row.update({f"{name}_{stat}": getattr(d, stat) for stat in STATS})
    g = s.generator
    row.update(
        generator_saturated=g.saturated,
        generator_notes="; ".join(g.notes),
        send_lag_ms_p99=g.send_lag_ms.p99,
        loop_lag_ms_p99=g.loop_lag_ms.p99,
        client_cpu_percent=g.client_cpu_percent,
    )
    return row


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    return json.dumps(v) if isinstance(v, list | dict) else v


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Rows of one shape as CSV (columns in the first row's order), written atomically."""
    cols = list(rows[0]) if rows else []
    with atomic_writer(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in cols})
    return path
