"""``chimera run``'s engine: ingest once, resolve the backend, run the agent N times, write
report.md and metrics.json per run (atomically), and record everything in the run store."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera import __version__
from chimera.agent import narrate
from chimera.agent.personas import get_persona, load_personas
from chimera.agent.report import render_report
from chimera.agent.spec import AgentRun, AgentSpec, ReportMode, Shape
from chimera.agent.workflow import run_agent
from chimera.atomic import write_json, write_text
from chimera.backends.base import Backend, EndpointSettings, Timeouts, create_backend
from chimera.backends.offline import OfflineBackend
from chimera.backends.ollama import OllamaBackend
from chimera.calls import call_totals
from chimera.errors import BackendError
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import IngestSettings
from chimera.options import InferenceOptions
from chimera.store import Store, default_db_path

BackendChoice = Literal["auto", "ollama", "openai", "llamacpp", "offline"]


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


def system_info() -> dict[str, Any]:
    return {
        "chimera": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }


async def resolve_endpoint(settings: RunSettings) -> tuple[EndpointSettings, str | None]:
    """The endpoint to use, and a note when ``auto`` fell back to offline (and why)."""
    choice = settings.backend
    given = settings.timeouts
    if choice != "auto":
        endpoint = EndpointSettings(kind=choice, url=settings.url, api_key_env=settings.api_key_env)
        return given.applied(endpoint), None
    ollama = EndpointSettings(
        kind="ollama", url=settings.url, connect_timeout_s=given.connect_timeout_s or 3
    )
    async with OllamaBackend(ollama) as probe:
        try:
            installed = await probe.installed_models()
        except BackendError as exc:
            return EndpointSettings(kind="offline"), (
                f"No Ollama server answered at {probe.url} ({exc.__class__.__name__}); this "
                "report was written offline, from the computed facts, without an LLM."
            )
    wanted = {settings.model, f"{settings.model}:latest"}
    if not wanted.intersection(installed):
        return EndpointSettings(kind="offline"), (
            f"Ollama at {ollama.url or probe.url} does not have {settings.model} (installed: "
            f"{', '.join(installed) or 'none'}); this report was written offline, from the "
            f"computed facts, without an LLM. Run `ollama pull {settings.model}` to use it."
        )
    return given.applied(ollama.model_copy(update={"connect_timeout_s": 10.0})), None


def open_backend(spec: AgentSpec, facts: IngestResult) -> Backend:
    if spec.endpoint.kind == "offline":
        return OfflineBackend(spec.endpoint, responder=narrate.responder(facts, spec.persona))
    return create_backend(spec.endpoint)


def metrics_document(run: AgentRun, facts: IngestResult, run_id: str | None) -> dict[str, Any]:
    """metrics.json: every call with its prompt, response and metrics; timings; the digest."""
    spec = run.spec
    return {
        "chimera_version": __version__,
        "store_run_id": run_id,
        "agent": {
            "id": spec.agent_id,
            "label": spec.label,
            "persona": spec.persona.name,
            "model": spec.model,
            "backend": run.backend,
            "url": run.url,
            "options": spec.options.set_options(),
            "configuration": spec.options.legacy_line(),
        },
        "status": run.status,
        "error": run.error,
        "note": run.note,
        "offline": run.offline,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "timings_s": run.timings.model_dump(),
        "totals": call_totals([r.metrics for r in run.results()]).model_dump(),
        "calls": [
            {
                "stage": c.stage,
                "messages": [m.model_dump() for m in c.messages],
                "response": c.result.text if c.result else None,
                "done_reason": c.result.done_reason if c.result else None,
                "started_at": c.result.started_at if c.result else None,
                "endpoint": c.result.endpoint if c.result else None,
                "metrics": c.result.metrics.model_dump() if c.result else None,
                "error": c.error,
                "error_type": c.error_type,
            }
            for c in run.calls
        ],
        "factcheck": run.factcheck.model_dump(mode="json") if run.factcheck else None,
        "junk": run.junk,
        "quality": run.quality.model_dump() if run.quality else None,
        "digest": run.digest,
        "digest_budget_tokens": run.digest_budget_tokens,
        "factsheet": run.factsheet,
        "analysis": analysis_document(run),
        "ingest": {
            "files": facts.inventory.ingested,
            "skipped": facts.inventory.skipped,
            "measurements": len(facts.facts),
            "findings": len(facts.findings),
            "timings_s": facts.timings_s,
        },
        "system": system_info(),
    }


def analysis_document(run: AgentRun) -> dict[str, Any] | None:
    """The structured analysis as metrics.json and the store keep it: the shape asked for
    and the one the findings came from (json, lines or narrator), who wrote the body, the
    findings with their fact ids, the recommendations, what was rejected and why, and what
    the narrator wrote instead."""
    if run.structured is None:
        return None
    return {
        "shape_asked": run.analysis_shape,  # "shape" is what the findings came from
        "report_mode": run.report_mode,
        "model_parameters": run.model_parameters,
        **run.structured.model_dump(mode="json"),
    }


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


def agent_row(run: AgentRun, report: Path | None = None, **columns: Any) -> dict[str, Any]:
    """The run store's ``agents`` row of one agent run; ``columns`` add or replace columns."""
    spec = run.spec
    row: dict[str, Any] = {
        "agent_id": spec.agent_id,
        "label": spec.label,
        "persona": spec.persona.name,
        "model": spec.model,
        "backend": run.backend,
        "url": run.url,
        "options_json": spec.options.set_options(),
        "status": run.status,
        "error": run.error,
        "report_path": str(report) if report else None,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "total_s": run.timings.total_s,
        "ingest_s": run.timings.ingest_s,
        "analysis_s": run.timings.analysis_s,
        "report_s": run.timings.report_s,
        "grounded_ratio": run.factcheck.grounded_ratio if run.factcheck else None,
        "quality_score": run.quality.total if run.quality else None,
        "quality_json": run.quality.model_dump() if run.quality else None,
        "factsheet": run.factsheet or None,
        "analysis_json": analysis_document(run),
    }
    row.update(columns)
    return row


def record_agent(
    store: Store, run_id: str, run: AgentRun, report: Path | None = None, **columns: Any
) -> int:
    """Record one agent run and every call it made (prompt, response, metrics or error)."""
    spec = run.spec
    row = store.add_agent(run_id, agent_row(run, report, **columns))
    for c in run.calls:
        store.add_call(
            run_id,
            stage=c.stage,
            agent_row=row,
            result=c.result,
            prompt="\n\n".join(f"[{m.role}]\n{m.content}" for m in c.messages),
            error=c.error,
            backend=run.backend,
            url=run.url,
            model=spec.model,
            options=spec.options.set_options(),
        )
    return row


def summary_document(runs: list[AgentRun]) -> dict[str, Any]:
    """Across repeated runs: mean and standard deviation of each headline figure."""

    def spread(values: list[float]) -> dict[str, float | int | None]:
        return {
            "n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None,
        }

    totals = [call_totals([r.metrics for r in run.results()]) for run in runs]
    return {
        "runs": len(runs),
        "failed": sum(1 for r in runs if r.status != "ok"),
        "decode_tokens_per_s": spread(
            [t.decode_tokens_per_s for t in totals if t.decode_tokens_per_s is not None]
        ),
        "ttft_ms": spread([t.ttft_ms for t in totals if t.ttft_ms is not None]),
        "total_s": spread([r.timings.total_s for r in runs]),
        "grounded_ratio": spread(
            [
                r.factcheck.grounded_ratio
                for r in runs
                if r.factcheck and r.factcheck.grounded_ratio is not None
            ]
        ),
        "quality": spread([r.quality.total for r in runs if r.quality]),
    }


async def run_session(
    settings: RunSettings, on_event: Callable[[str], None] | None = None
) -> RunOutcome:
    """Ingest, run the agent ``settings.runs`` times, write the files and record the store."""
    say = on_event or (lambda _msg: None)
    personas = load_personas(settings.persona_file)
    persona = get_persona(settings.persona, personas)
    say("ingest")
    t = time.perf_counter()
    facts = ingest_paths(settings.paths, settings.ingest)
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
            command=sys.argv,
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
    """The run's plots, written beside report.md (imported here: matplotlib loads only now)."""
    from chimera.render.html import write_plots
    from chimera.render.run import run_plots

    plots = run_plots(run, facts)
    files.extend(write_plots(folder, plots))
    return plots


def _write_html(folder: Path, run: AgentRun, facts: IngestResult, plots: dict[str, bytes]) -> Path:
    from chimera.render.html import write_html
    from chimera.render.run import render_run_html

    return write_html(folder / "report.html", render_run_html(run, facts, plots))
