"""``chimera optimize``'s lifecycle: the search (``bench.optimize``) asks and measures trials;
this hands it the run store (each trial recorded as it ends, the run finished with the search's
status) when the settings keep one."""

from __future__ import annotations

from chimera.app.recording import StoreLedger
from chimera.backends.base import Backend
from chimera.bench import optimize
from chimera.bench.measure import Workload
from chimera.bench.optimize import OptimizeObserver, OptimizeResult, OptimizeSettings

__all__ = ["OptimizeResult", "OptimizeSettings", "run_optimize"]


async def run_optimize(
    settings: OptimizeSettings,
    *,
    command: list[str] | None = None,
    backend: Backend | None = None,
    workload: Workload | None = None,
    observer: OptimizeObserver | None = None,
) -> OptimizeResult:
    """Run the search, recording it in the store unless ``settings.store`` is off.
    ``command`` is the command line the run is stored with; ``backend`` (one client for
    every trial, else one per endpoint of the settings' pool), ``workload`` (else the
    settings' fixed prompt) and ``observer`` (each trial as it ends) go to
    ``bench.optimize.run_optimize``."""
    ledger = StoreLedger(settings.db, command) if settings.store else None
    return await optimize.run_optimize(
        settings, backend=backend, workload=workload, observer=observer, ledger=ledger
    )
