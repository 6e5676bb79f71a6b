"""Where a sweep's or a search's results are kept beyond its own files: the run store.

The measurement hands each result to a ``Ledger`` as it comes back; the application layer's
``chimera.app.recording.StoreLedger`` writes them to the store; ``Ledger`` itself keeps
nothing.
"""

from __future__ import annotations

from typing import Any

from chimera.bench.grid import Point
from chimera.bench.measure import CallOutcome, RunOutcome
from chimera.options import InferenceOptions


class Ledger:
    """Keeps nothing (no store, ``--no-store``, tests of the logic): each method is a no-op
    that a ledger keeping results overrides; a resumed sweep keeps the run id it had."""

    def start(
        self,
        kind: str,
        *,
        label: str,
        settings: dict[str, Any],
        output_dir: str | None = None,
        resume: str | None = None,
    ) -> str | None:
        """The run's id: ``resume``'s when that run can be continued, else a new run's."""
        return resume

    def warmup(
        self,
        point: Point,
        call: CallOutcome,
        backend: str,
        model: str,
        options: InferenceOptions,
        trial: int | None = None,
        url: str | None = None,
    ) -> None:
        """A warm-up call, kept but never counted."""

    def run(
        self,
        point: Point,
        run_index: int,
        outcome: RunOutcome,
        backend: str,
        options: InferenceOptions,
        model: str,
        trial: int | None = None,
        url: str | None = None,
    ) -> None:
        """One measured run: its agent (agent mode) and every call it made."""

    def trial(self, **columns: Any) -> None:
        """One finished trial of a search."""

    def finish(self, status: str, note: str | None) -> None:
        """The run's verdict, whatever ended it."""
