"""``chimera sweep``: every point of an option grid x N runs, logged as it goes, resumable.

At each point the workload (a fixed prompt, or one agent run) is warmed up ``warmup`` times
and then measured ``runs`` times; each finished run is appended to ``sweep.csv`` and recorded
in the run store at once. Re-running into the same output folder skips the (point, run)
pairs already in ``sweep.csv`` and keeps recording into the same store run.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chimera.agent.personas import get_persona, load_personas
from chimera.agent.spec import AgentSpec
from chimera.atomic import write_json
from chimera.backends.base import Backend, EndpointSettings
from chimera.bench import sweeplog
from chimera.bench.grid import Grid, Point
from chimera.bench.ledger import Ledger
from chimera.bench.measure import (
    DEFAULT_PROMPT,
    AgentWorkload,
    CallOutcome,
    GenerateWorkload,
    Mode,
    RunOutcome,
    Workload,
    session_tag,
)
from chimera.errors import ConfigError
from chimera.executor.points import (
    PointExecutor,
    PointJob,
    RunDone,
    Where,
    on_each,
    point_executor,
    workload_on,
)
from chimera.executor.pool import Endpoint, ExecutorSettings, pool_of
from chimera.ingest.pipeline import ingest_paths
from chimera.ingest.settings import IngestSettings
from chimera.options import InferenceOptions


class SweepSettings(BaseModel):
    """Everything ``chimera sweep`` can be told."""

    model_config = ConfigDict(extra="forbid")

    grid: Grid
    options: InferenceOptions = Field(
        InferenceOptions(), description="options set at every point (the grid's values win)"
    )
    runs: int = Field(3, ge=1, description="measured runs per point")
    warmup: int = Field(1, ge=0, description="unmeasured calls per point before the runs")
    mode: Mode = "generate"
    model: str = Field(min_length=1, description="model name (llamacpp: a GGUF path)")
    endpoint: EndpointSettings = EndpointSettings()
    endpoints: list[Endpoint] = Field(
        default_factory=list,
        description="the pool of servers, each point on one of them; empty = endpoint alone",
    )
    executor: ExecutorSettings = ExecutorSettings()
    prompt: str = Field(DEFAULT_PROMPT, min_length=1, description="generate mode's prompt")
    prompt_nonce: bool = Field(
        True, description="start each measured run's prompt with a unique line (prompt caches)"
    )
    output_dir: Path = Path("chimera_sweep")
    fresh: bool = Field(False, description="discard an earlier sweep in output_dir")
    # agent mode
    paths: list[Path] = Field(default_factory=list, description="artifacts the agent analyses")
    persona: str = "insight"
    persona_file: Path | None = None
    label: str | None = None
    ingest: IngestSettings = IngestSettings()
    # run store
    db: Path | None = Field(None, description="run store; None = the default path")
    store: bool = True

    def pool(self) -> list[tuple[EndpointSettings, str | None]]:
        """Each server points go to, with its own model name (None = ``model``)."""
        return pool_of(self.endpoint, self.endpoints)

    def identity(self) -> dict[str, Any]:
        """What must match for a re-run to resume (runs, warm-up and grid values may change;
        so may the executor: a sweep begun on one resumes on the other)."""
        return {
            "mode": self.mode,
            "model": self.model,
            "backend": self.endpoint.kind,
            "url": [e.url for e in self.endpoints] if self.endpoints else self.endpoint.url,
            "options": self.options.set_options(),
            "swept": list(self.grid.names),
            "prompt": self.prompt if self.mode == "generate" else None,
            "persona": self.persona if self.mode == "agent" else None,
        }


class SweepResult(BaseModel):
    """What a sweep left behind: every row of ``sweep.csv`` (earlier ones too) and the summary."""

    model_config = ConfigDict(extra="forbid")

    output_dir: Path
    csv_path: Path
    summary_path: Path
    option_names: list[str]
    rows: list[dict[str, str]] = Field(description="sweep.csv's rows, as written")
    summary: list[dict[str, Any]] = Field(description="sweep_summary.csv's rows")
    run_id: str | None
    measured: int = Field(description="runs measured by this invocation")
    skipped: int = Field(description="runs already in sweep.csv, not measured again")
    failed: int = Field(description="failed runs in sweep.csv")
    status: str = Field(description="ok | failed | interrupted")
    endpoints: list[str] = Field(
        default_factory=list, description="the pool's servers with their labels (empty: one)"
    )


class SweepObserver(Protocol):
    """Progress of a sweep; the CLI's progress bar is one. ``None`` means headless."""

    def start(self, total: int, done: int) -> None:
        """``total`` measured runs planned, ``done`` of them already in the log."""

    def stage(self, text: str) -> None:
        """What is happening now (``warm-up 1/1 at num_ctx=256``)."""

    def advance(self, point: Point, run_index: int, outcome: RunOutcome) -> None:
        """One measured run finished."""


def model_name(model: str) -> str:
    """A short name for labels: a GGUF path's file name, else the model as given."""
    return Path(model).name if "/" in model or model.endswith(".gguf") else model


def option_columns(settings: SweepSettings) -> list[str]:
    """The option columns: the swept ones, then those set at every point."""
    swept = list(settings.grid.names)
    return swept + [n for n in settings.options.set_options() if n not in swept]


def _row(
    settings: SweepSettings,
    point: Point,
    run_index: int,
    options: InferenceOptions,
    where: Where,
    model: str,
    started: datetime,
    outcome: RunOutcome,
) -> dict[str, object]:
    values = options.set_options()
    row: dict[str, object] = {"point": point.key, "run_index": run_index}
    row.update({name: values.get(name) for name in option_columns(settings)})
    row.update(
        model=model,
        backend=where.kind,
        endpoint=where.url,
        status=outcome.status,
        error=outcome.error,
        started_at=started.isoformat(timespec="milliseconds"),
    )
    # 0.1 µs and 0.0001 tok/s are far below any clock's resolution: shorter cells, same data
    row.update({k: round(v, 4) if isinstance(v, float) else v for k, v in outcome.metrics.items()})
    return row


def _check_manifest(settings: SweepSettings) -> str | None:
    """The store run id of the sweep already in output_dir, if it is the same sweep."""
    path = settings.output_dir / sweeplog.MANIFEST_NAME
    if settings.fresh:
        for name in (sweeplog.CSV_NAME, sweeplog.SUMMARY_NAME, sweeplog.MANIFEST_NAME):
            (settings.output_dir / name).unlink(missing_ok=True)
        return None
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); delete it or pass --fresh") from None
    before, now = manifest.get("identity", {}), settings.identity()
    changed = [k for k in now if before.get(k) != now[k]]
    if changed:
        details = "; ".join(f"{k}: was {before.get(k)!r}, now {now[k]!r}" for k in changed)
        raise ConfigError(
            f"{settings.output_dir} holds a different sweep ({details}); give another "
            "--output-dir, or --fresh to discard it"
        )
    run_id = manifest.get("store_run_id")
    return run_id if isinstance(run_id, str) else None


def build_workload(settings: SweepSettings) -> Workload:
    """The fixed-prompt workload, or (agent mode) the agent with the ingested artifacts."""
    if settings.mode == "generate":
        return GenerateWorkload(settings.model, settings.prompt)
    if not settings.paths:
        raise ConfigError("agent mode needs the artifacts to analyse: give files or folders")
    persona = get_persona(settings.persona, load_personas(settings.persona_file))
    spec = AgentSpec(
        agent_id=persona.name,
        label=settings.label or f"Chimera {persona.label}",
        persona=persona,
        model=settings.model,
        endpoint=settings.endpoint,
        options=settings.options,
    )
    return AgentWorkload(spec, ingest_paths(settings.paths, settings.ingest), settings.prompt)


class _Recorder:
    """The driver's side of a sweep: each result to sweep.csv, the store and the observer
    as it comes back, whichever executor measured it."""

    def __init__(
        self,
        settings: SweepSettings,
        log: sweeplog.SweepLog,
        ledger: Ledger,
        observer: SweepObserver | None,
    ) -> None:
        self.settings = settings
        self.log = log
        self.ledger = ledger
        self.observer = observer
        self.measured = 0

    def stage(self, text: str) -> None:
        if self.observer is not None:
            self.observer.stage(text)

    def warmup(self, job: PointJob, where: Where, call: CallOutcome) -> None:
        model = job.workload.model
        self.ledger.warmup(job.point, call, where.kind, model, job.options, url=where.url)

    def run(self, job: PointJob, where: Where, done: RunDone) -> None:
        point, r, outcome, model = job.point, done.run_index, done.outcome, job.workload.model
        self.log.append(
            _row(self.settings, point, r, job.options, where, model, done.started, outcome)
        )
        self.ledger.run(point, r, outcome, where.kind, job.options, model, url=where.url)
        self.measured += 1
        if self.observer is not None:
            self.observer.advance(point, r, outcome)


async def run_sweep(
    settings: SweepSettings,
    *,
    backend: Backend | None = None,
    workload: Workload | None = None,
    observer: SweepObserver | None = None,
    ledger: Ledger | None = None,
) -> SweepResult:
    """Run (or resume) the sweep, handing each result to ``ledger`` (the run store, kept by
    the application layer: ``chimera.app.sweep``) as it comes back; KeyboardInterrupt and
    cancellation leave a resumable log."""
    ledger = ledger or Ledger()
    out = settings.output_dir
    names = option_columns(settings)
    run_id = _check_manifest(settings)
    log = sweeplog.SweepLog(out / sweeplog.CSV_NAME, sweeplog.row_columns(names))
    log.repair()
    done = log.finished()
    points = settings.grid.points()
    todo = {
        p.key: [r for r in range(1, settings.runs + 1) if (p.key, r) not in done] for p in points
    }
    total = len(points) * settings.runs
    workload = workload or build_workload(settings)
    run_id = ledger.start(
        "sweep",
        label=settings.label or f"sweep of {model_name(settings.model)}",
        settings=settings.model_dump(mode="json"),
        output_dir=str(out),
        resume=run_id,
    )
    manifest = {"identity": settings.identity(), "store_run_id": run_id}
    manifest["settings"] = settings.model_dump(mode="json")
    write_json(out / sweeplog.MANIFEST_NAME, manifest)
    if observer is not None:
        observer.start(total, total - sum(len(v) for v in todo.values()))
    recorder = _Recorder(settings, log, ledger, observer)
    tag = session_tag()
    queue = deque(p for p in points if todo[p.key])
    status = "interrupted"
    try:

        async def serve(
            endpoint: EndpointSettings, model: str | None, points_of: PointExecutor
        ) -> None:
            # one point at a time on each server: its points never overlap there
            on_endpoint = workload_on(workload, endpoint, model)
            while queue:
                point = queue.popleft()
                job = PointJob(
                    on_endpoint, endpoint, point, point.options(settings.options),
                    tuple(todo[point.key]), settings.runs, settings.warmup,
                    (tag, point.key) if settings.prompt_nonce else None,
                )  # fmt: skip
                await points_of.run(job, recorder)
                sweeplog.write_summary(out / sweeplog.SUMMARY_NAME, log.read(), names)

        async with point_executor(settings.executor, backend, len(settings.pool())) as points_of:
            await on_each(serve(ep, model, points_of) for ep, model in settings.pool())
        status = "done"
    finally:
        rows = log.read()
        summary = sweeplog.write_summary(out / sweeplog.SUMMARY_NAME, rows, names)
        failed = sum(1 for r in rows if r.get("status") != "ok")
        if status == "done":
            status = "failed" if rows and failed == len(rows) else "ok"
        ledger.finish(status, f"{failed} of {len(rows)} runs failed" if failed else None)
    return SweepResult(
        output_dir=out,
        csv_path=log.path,
        summary_path=out / sweeplog.SUMMARY_NAME,
        option_names=names,
        rows=rows,
        summary=summary,
        run_id=run_id,
        measured=recorder.measured,
        skipped=total - sum(len(v) for v in todo.values()),
        failed=failed,
        status=status,
        endpoints=[e.name for e in settings.endpoints],
    )


def read_sweep(folder: Path) -> SweepResult:
    """A finished (or interrupted) sweep's results, read back from its folder."""
    path = folder / sweeplog.MANIFEST_NAME
    if not path.exists():
        raise ConfigError(
            f"{folder} holds no sweep (no {sweeplog.MANIFEST_NAME}); run `chimera sweep` first"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    settings = SweepSettings.model_validate(manifest["settings"])
    names = option_columns(settings)
    log = sweeplog.SweepLog(folder / sweeplog.CSV_NAME, sweeplog.row_columns(names))
    rows = log.read()
    return SweepResult(
        output_dir=folder,
        csv_path=log.path,
        summary_path=folder / sweeplog.SUMMARY_NAME,
        option_names=names,
        rows=rows,
        summary=sweeplog.summary_rows(rows, names),
        run_id=manifest.get("store_run_id"),
        measured=0,
        skipped=len(rows),
        failed=sum(1 for r in rows if r.get("status") != "ok"),
        status="read",
        endpoints=[e.name for e in settings.endpoints],
    )
