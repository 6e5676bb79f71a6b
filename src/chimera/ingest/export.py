"""Writing results out: the facts table as CSV (atomically) and the JSON document of a run."""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chimera.errors import InputFileError
from chimera.ingest.fact import FACT_FIELDS
from chimera.ingest.facts import Fact
from chimera.ingest.pipeline import IngestResult

# The exported columns: the fact's fields up to ``failure``; the rest (failure kind, decimals,
# record index, model hints) are bookkeeping for the findings.
FACT_COLUMNS: tuple[str, ...] = FACT_FIELDS[: FACT_FIELDS.index("failure") + 1]


def write_facts_csv(facts: Iterable[Fact], path: Path) -> int:
    """Write the facts table to ``path`` via a temp file and a rename; returns the row count."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputFileError(
            str(path), f"cannot write here ({exc.strerror}); choose another path for --csv"
        ) from None
    rows = 0
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=FACT_COLUMNS)
            writer.writeheader()
            for f in facts:
                writer.writerow(f.row())
                rows += 1
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def result_json(result: IngestResult) -> dict[str, Any]:
    """The ``--json`` document: inventory, skipped, findings and stats (plain JSON types)."""
    stats = []
    for s in result.stats:
        d = s.model_dump()
        stats.append(
            {
                k: _clean(d[k])
                for k in (
                    "model",
                    "config",
                    "metric",
                    "n",
                    "mean",
                    "median",
                    "std",
                    "min",
                    "max",
                    "p05",
                    "p95",
                    "source",
                    "unit",
                    "n_failed",
                    "cv",
                    "origin",
                    "files",
                    "n_files",
                )
            }
        )
    return {
        "inventory": result.inventory.model_dump(),
        "skipped": [s.model_dump(exclude_none=True) for s in result.skipped],
        "findings": [f.model_dump() for f in result.findings],
        "stats": stats,
    }
