"""``chimera multiagent``'s lifecycle: the session (``bench.multiagent``) runs the agents; this
records what it hands back. Per measured run, each agent's report, the combined report and
metrics.json are written atomically and the run goes to the store; the summary is rewritten
after each run and at the end, so an interruption leaves every finished run and a summary of
them, and the store run ends with its status (ok, failed, interrupted) and the errors."""

from __future__ import annotations

from collections.abc import Sequence

from chimera.agent.report import render_report
from chimera.app.scenario_store import record_run
from chimera.atomic import write_json, write_text
from chimera.bench.documents import run_metrics_document, summary_document
from chimera.bench.markdown import render_combined_report, render_summary
from chimera.bench.multiagent import MultiAgentSettings
from chimera.bench.multiagent import run_multiagent as run_session
from chimera.bench.progress import MultiAgentObserver
from chimera.bench.results import MultiAgentOutcome, RunRecord
from chimera.calls import CallResult
from chimera.ingest.pipeline import IngestResult
from chimera.store import Store, default_db_path
from chimera.system import system_info

__all__ = ["MultiAgentSettings", "SessionRecorder", "run_multiagent"]


async def run_multiagent(
    settings: MultiAgentSettings, observer: MultiAgentObserver | None = None
) -> MultiAgentOutcome:
    """Run the scenario and keep everything it produced: files, summary, store rows."""
    return await run_session(settings, observer, SessionRecorder(settings))


class SessionRecorder:
    """The session's sink: its files in ``settings.output_dir`` and its rows in the store."""

    def __init__(self, settings: MultiAgentSettings) -> None:
        self.settings = settings
        self.store: Store | None = None
        self.facts: IngestResult | None = None

    def started(self, outcome: MultiAgentOutcome, facts: IngestResult) -> None:
        self.facts = facts
        if not self.settings.store:
            return
        self.store = Store(self.settings.db or default_db_path())
        outcome.run_id = self.store.start_run(
            "multiagent",
            label=self.settings.scenario.name,
            command=self.settings.command,
            settings=self.settings.model_dump(mode="json"),
            system=system_info(),
            output_dir=str(self.settings.output_dir),
        )

    def preload_call(self, outcome: MultiAgentOutcome, result: CallResult) -> None:
        if self.store is not None and outcome.run_id is not None:
            self.store.add_call(outcome.run_id, stage="preload", result=result)

    def run_done(self, outcome: MultiAgentOutcome, record: RunRecord) -> None:
        if not record.warmup:
            self._write_run(outcome, record)
        if self.store is not None and outcome.run_id is not None:
            record_run(
                self.store,
                outcome.run_id,
                record,
                self.settings.scenario.name,
                prompt_nonce=self.settings.prompt_nonce,
            )
        if not record.warmup:
            self._write_summary(outcome)

    def finished(self, outcome: MultiAgentOutcome) -> None:
        """The final summary and the store's verdict, whatever ended the session."""
        try:
            if outcome.records or outcome.status != "error":
                self._write_summary(outcome)
        finally:
            if self.store is not None:
                if outcome.run_id is not None:
                    status, errors = _verdict(outcome)
                    self.store.finish_run(outcome.run_id, status, errors)
                self.store.close()

    def _write_run(self, outcome: MultiAgentOutcome, record: RunRecord) -> None:
        folder = self.settings.output_dir / record.name
        record.folder = folder
        name, threshold = self.settings.scenario.name, self.settings.contention_threshold
        files = outcome.files
        assert self.facts is not None  # started() comes first
        for a in record.agents:
            report = render_report(a.together, self.facts)
            files.append(write_text(folder / f"{a.agent_id}_report.md", report))
        combined = render_combined_report(record, name, threshold)
        files.append(write_text(folder / "combined_report.md", combined))
        doc = run_metrics_document(record, name, outcome.run_id, threshold)
        files.append(write_json(folder / "metrics.json", doc))

    def _write_summary(self, outcome: MultiAgentOutcome) -> None:
        doc = summary_document(outcome, self.settings.contention_threshold)
        out = self.settings.output_dir
        written = [
            write_json(out / "summary.json", doc),
            write_text(out / "summary.md", render_summary(doc)),
        ]
        outcome.files = [f for f in outcome.files if f not in written] + written


def _verdict(outcome: MultiAgentOutcome) -> tuple[str, str | None]:
    """The store run's status and errors for how the session ended."""
    errors = _errors(outcome.records)
    if outcome.status == "interrupted":
        n = len(outcome.records)
        errors = f"interrupted after {n} finished run{'' if n == 1 else 's'}" + (
            f"; {errors}" if errors else ""
        )
    if outcome.status == "error":
        errors = "; ".join(filter(None, [outcome.notes[-1], errors]))
    return ("failed" if outcome.status == "error" else outcome.status), errors


def _errors(records: Sequence[RunRecord]) -> str | None:
    lines = [
        f"run {r.run_number} {a.agent_id}: {a.error}" for r in records for a in r.agents if a.error
    ]
    return "; ".join(lines) or None
