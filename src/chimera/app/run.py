"""``chimera run``'s lifecycle: ingest once, resolve the endpoint, run the agent N times,
write report.md and metrics.json per run (atomically), the plots and HTML when asked, and
record everything in the run store."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.documents import metrics_document, summary_document
from chimera.agent.endpoint import BackendChoice, open_backend, resolve_endpoint
from chimera.agent.personas import get_persona, load_personas
from chimera.agent.report import render_report
from chimera.agent.spec import AgentRun, AgentSpec, ReportMode, Shape
from chimera.agent.workflow import run_agent
from chimera.app.recording import record_agent
from chimera.atomic import write_json, write_text
from chimera.backends.base import Timeouts
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import IngestSettings
from chimera.options import InferenceOptions
from chimera.store import Store, default_db_path
from chimera.system import system_info


class RunSettings(BaseModel):
    """Everything ``chimera run`` can be told."""

    model_config = ConfigDict(extra="forbid")

    paths: list[Path]
    persona: str = "insight"
    persona_file: Path | None = None
    label: str | None = Field(None, description="report title; default 'Chimera <persona>'")
    model: str = "gemma3:latest"
    backend: BackendChoice = "auto"
    url: str | None = None
    api_key_env: str | None = None
    options: InferenceOptions = InferenceOptions()
    runs: int = Field(1, ge=1)
    output_dir: Path = Path("chimera_reports")
    db: Path | None = Field(None, description="run store; None = the default path")
    store: bool = True
    ingest: IngestSettings = IngestSettings()
    html: bool = Field(False, description="also write report.html and the plots as PNGs")
    analysis_shape: Shape = "auto"
    report_mode: ReportMode = "auto"
    timeouts: Timeouts = Timeouts()
    command: list[str] | None = Field(None, description="the command line, as the CLI hands it in")


class RunOutcome(BaseModel):
    """What a session did: its runs, where their files are, the store's run id."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None
    runs: list[AgentRun]
    files: list[Path]
    note: str | None

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.runs)


def _fact_rows(facts: IngestResult) -> list[dict[str, Any]]:
    return [
        {
            "source": f.source,
            "locator": f.locator,
            "model": f.model,
            "config_json": dict(f.config),
            "metric": f.metric,
            "value": None if math.isnan(f.value) else f.value,
            "unit": f.unit,
            "original_key": f.original_key,
        }
        for f in facts.facts
    ]


async def run_session(
    settings: RunSettings, on_event: Callable[[str], None] | None = None
) -> RunOutcome:
    """Ingest, run the agent ``settings.runs`` times, write the files and record the store."""
    say = on_event or (lambda _msg: None)
    personas = load_personas(settings.persona_file)
    persona = get_persona(settings.persona, personas)
    say("ingest")
    t = time.perf_counter()
    # off the event loop: ingestion is CPU work of a tenth of a second to seconds
    facts = await asyncio.to_thread(ingest_paths, settings.paths, settings.ingest)
    ingest_s = time.perf_counter() - t
    endpoint, note = await resolve_endpoint(settings)
    if note:
        say(note)
    spec = AgentSpec(
        agent_id=persona.name,
        label=settings.label or f"Chimera {persona.label}",
        persona=persona,
        model=settings.model,
        endpoint=endpoint,
        options=settings.options,
        analysis_shape=settings.analysis_shape,
        report_mode=settings.report_mode,
    )
    store = Store(settings.db or default_db_path()) if settings.store else None
    run_id = None
    if store is not None:
        run_id = store.start_run(
            "run",
            label=spec.label,
            command=settings.command,
            settings=settings.model_dump(mode="json"),
            system=system_info(),
            output_dir=str(settings.output_dir),
        )
        store.add_rows("facts", run_id, _fact_rows(facts))
        store.add_rows(
            "findings",
            run_id,
            [
                {
                    "kind": f.kind,
                    "severity": f.severity,
                    "files_json": f.files,
                    "evidence": "\n".join([f.title, *f.evidence]),
                }
                for f in facts.findings
            ],
        )
    runs: list[AgentRun] = []
    files: list[Path] = []
    status = "interrupted"
    try:
        for i in range(1, settings.runs + 1):
            folder = settings.output_dir if settings.runs == 1 else settings.output_dir / f"run_{i}"
            say(f"run {i}/{settings.runs}")
            async with open_backend(spec, facts) as backend:
                run = await run_agent(
                    spec,
                    facts,
                    backend,
                    ingest_s=ingest_s,
                    note=note,
                    on_stage=_prefixed(say, f"run {i}: "),
                )
            runs.append(run)
            plots = _write_plots(folder, run, facts, files) if settings.html else {}
            files.append(write_text(folder / "report.md", render_report(run, facts, plots)))
            files.append(write_json(folder / "metrics.json", metrics_document(run, facts, run_id)))
            if settings.html:
                files.append(_write_html(folder, run, facts, plots))
            if store is not None and run_id is not None:
                record_agent(store, run_id, run, folder / "report.md")
        if settings.runs > 1:
            files.append(write_json(settings.output_dir / "summary.json", summary_document(runs)))
        status = "ok" if all(r.status == "ok" for r in runs) else "failed"
    finally:
        if store is not None and run_id is not None:
            errors = "; ".join(r.error for r in runs if r.error) or None
            store.finish_run(run_id, status, errors)
            store.close()
    return RunOutcome(run_id=run_id, runs=runs, files=files, note=note)


def _prefixed(say: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda msg: say(prefix + msg)


def _write_plots(
    folder: Path, run: AgentRun, facts: IngestResult, files: list[Path]
) -> dict[str, bytes]:
    """The run's plots, written beside report.md (render is imported here, when asked: the
    CLI starts without it and matplotlib)."""
    from chimera.render.html import write_plots
    from chimera.render.run import run_plots

    plots = run_plots(run, facts)
    files.extend(write_plots(folder, plots))
    return plots


def _write_html(folder: Path, run: AgentRun, facts: IngestResult, plots: dict[str, bytes]) -> Path:
    from chimera.render.html import write_html
    from chimera.render.run import render_run_html

    return write_html(folder / "report.html", render_run_html(run, facts, plots))
