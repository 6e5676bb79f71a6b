"""``chimera sweep``'s lifecycle: the sweep (``bench.sweep``) measures and keeps its resumable
log; this hands it the run store (started, or reopened on resume, and finished with the
sweep's status) when the settings keep one."""

from __future__ import annotations

from typing import Any

from chimera.app.recording import StoreLedger
from chimera.bench import sweep
from chimera.bench.sweep import SweepResult, SweepSettings

__all__ = ["SweepResult", "SweepSettings", "run_sweep"]


async def run_sweep(
    settings: SweepSettings, *, command: list[str] | None = None, **kw: Any
) -> SweepResult:
    """Run (or resume) the sweep, recording it in the store unless ``settings.store`` is
    off; ``kw`` go to ``bench.sweep.run_sweep`` (backend, workload, observer)."""
    ledger = StoreLedger(settings.db, command) if settings.store else None
    return await sweep.run_sweep(settings, ledger=ledger, **kw)
