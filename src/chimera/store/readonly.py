"""Reads of a run store that never write: not even a migration or a WAL file (dry runs)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path


def present_run_ids(path: Path, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the store at ``path`` holds; empty when there is no store there."""
    wanted = list(ids)
    if not path.is_file() or not wanted:
        return set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found: set[str] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            found |= {r[0] for r in db.execute(f"SELECT id FROM runs WHERE id IN ({marks})", chunk)}
        return found
    except sqlite3.Error:
        return set()
    finally:
        db.close()
