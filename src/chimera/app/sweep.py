"""``chimera sweep``'s lifecycle: the sweep (``bench.sweep``) measures and keeps its resumable
log; this hands it the run store (started, or reopened on resume, and finished with the
sweep's status) when the settings keep one."""

from __future__ import annotations

from chimera.app.recording import StoreLedger
from chimera.backends.base import Backend
from chimera.bench import sweep
from chimera.bench.measure import Workload
from chimera.bench.sweep import SweepObserver, SweepResult, SweepSettings

__all__ = ["SweepResult", "SweepSettings", "run_sweep"]


async def run_sweep(
    settings: SweepSettings,
    *,
    command: list[str] | None = None,
    backend: Backend | None = None,
    workload: Workload | None = None,
    observer: SweepObserver | None = None,
) -> SweepResult:
    """Run (or resume) the sweep, recording it in the store unless ``settings.store`` is
    off. ``command`` is the command line the run is stored with; ``backend`` (one client
    for every point, else one per endpoint of the settings' pool), ``workload`` (else the
    settings' generate or agent workload) and ``observer`` (progress) go to
    ``bench.sweep.run_sweep``."""
    ledger = StoreLedger(settings.db, command) if settings.store else None
    return await sweep.run_sweep(
        settings, backend=backend, workload=workload, observer=observer, ledger=ledger
    )
