"""``chimera optimize``'s lifecycle: the search (``bench.optimize``) asks and measures trials;
this hands it the run store (each trial recorded as it ends, the run finished with the search's
status) when the settings keep one."""

from __future__ import annotations

from typing import Any

from chimera.app.recording import StoreLedger
from chimera.bench import optimize
from chimera.bench.optimize import OptimizeResult, OptimizeSettings

__all__ = ["OptimizeResult", "OptimizeSettings", "run_optimize"]


async def run_optimize(
    settings: OptimizeSettings, *, command: list[str] | None = None, **kw: Any
) -> OptimizeResult:
    """Run the search, recording it in the store unless ``settings.store`` is off; ``kw`` go
    to ``bench.optimize.run_optimize`` (backend, workload, observer)."""
    ledger = StoreLedger(settings.db, command) if settings.store else None
    return await optimize.run_optimize(settings, ledger=ledger, **kw)
