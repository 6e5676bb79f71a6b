"""One ``chimera load`` run end to end: the endpoint, the prompts (calibrated), the levels,
their figures, and the files and store rows they end in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

from chimera import __version__
from chimera.app.recording import record_load_run
from chimera.atomic import write_json
from chimera.backends.base import EndpointSettings, create_backend, known_kinds, load_for
from chimera.backends.http import normalize_url
from chimera.backends.probe import detect_kind
from chimera.bench.measure import session_tag
from chimera.errors import ConfigError, ServerUnreachableError
from chimera.load.agent_workload import agent_entries, read_workload
from chimera.load.fingerprint import client_machine, server_snapshot
from chimera.load.gpu import GpuProbe
from chimera.load.metrics import LevelSummary
from chimera.load.output import (
    level_csv_row,
    request_row,
    write_csv,
    write_jsonl,
)
from chimera.load.plan import FindMaxPlan, execute_plan, make_plan
from chimera.load.prompts import Prompts, calibrate, read_prompts
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.report import LoadReport, RunStatus
from chimera.load.runner import Observer
from chimera.load.spec import LoadSpec
from chimera.load.telemetry import Probe, metrics_probe, ollama_ps_probe
from chimera.load.trace import read_trace
from chimera.options import InferenceOptions

RECORDS_NAME = "requests.jsonl"
REPORT_NAME = "load.json"


class LoadSettings(BaseModel):
    """Everything ``chimera load`` was asked for, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: LoadSpec
    endpoint: EndpointSettings
    model: str
    options: InferenceOptions = InferenceOptions()
    output_dir: Path | None = Path("chimera_load")
    db: Path | None = None
    store: bool = True
    csv: bool = Field(False, description="also write levels.csv and requests.csv")
    html: bool = Field(False, description="also write load.html and its plots")
    metrics: bool = Field(
        False, description="sample the server's Prometheus /metrics (llama.cpp, vLLM, SGLang)"
    )
    label: str | None = None


@dataclass(slots=True)
class LoadOutcome:
    report: LoadReport
    records: list[RequestRecord]
    files: list[Path] = field(default_factory=list)


async def resolve_endpoint(target: str, kind: str | None, **fields: object) -> EndpointSettings:
    """``target`` is a backend kind (its default URL) or a server URL (its kind from
    ``kind``, else detected: Ollama if /api/version answers, OpenAI if /v1/models does)."""
    if target in known_kinds():
        return EndpointSettings(kind=target, **fields)
    if kind is None:
        url = normalize_url(target, 11434)
        detected = await detect_kind(url)
        if detected is None:
            raise ServerUnreachableError(
                url,
                hint="Nothing at that URL answers as Ollama (/api/version) or an OpenAI-"
                "compatible server (/v1/models). Start the server, or name its kind with "
                "--backend.",
            )
        kind = detected
    return EndpointSettings(kind=kind, url=target, **fields)


@asynccontextmanager
async def _telemetry(settings: LoadSettings, url: str, gpu: GpuProbe) -> AsyncIterator[list[Probe]]:
    """The probes sampled through each level: this machine's GPUs (NVML, else unknown),
    Ollama's /api/ps for an Ollama server, and the Prometheus /metrics page when asked, its
    engine checked first (unknown: ConfigError)."""
    if not url.startswith("http"):  # the in-process engine
        yield [gpu.probe()]
        return
    origin = httpx.URL(url).copy_with(path="/", query=None)
    async with httpx.AsyncClient(base_url=str(origin), timeout=5.0, trust_env=False) as client:
        probes: list[Probe] = [gpu.probe()]
        if settings.endpoint.kind == "ollama":
            probes.append(ollama_ps_probe(client, settings.model))
        if settings.metrics:
            probe = metrics_probe(client)
            try:
                await probe()
            except httpx.HTTPError as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ConfigError(f"--metrics: {origin}metrics cannot be read ({reason})") from None
            probes.append(probe)
        yield probes


@asynccontextmanager
async def _closing(gpu: GpuProbe) -> AsyncIterator[None]:
    try:
        yield
    finally:
        gpu.close()


def _status(runs: list[LevelRun], summaries: list[LevelSummary]) -> RunStatus:
    """The worst that happened: Ctrl-C, then a level that served nothing, then a level cut
    short because the server stopped answering. Failed requests alone leave the run ok:
    they are its results, counted by type."""
    if any(r.interrupted for r in runs):
        return "interrupted"
    if any(s.requests_ok == 0 for s in summaries):
        return "failed"
    return "stopped" if any(r.stopped for r in runs) else "ok"


async def run_load(
    settings: LoadSettings,
    *,
    observer: Observer | None = None,
    command: list[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> LoadOutcome:
    """Calibrate the prompts, run every level, summarize, write the records and store them.
    ``warn`` hears what the user must know before the figures (a size not as asked)."""
    spec = settings.spec
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    options = settings.options
    if options.num_predict is None:
        options = options.model_copy(update={"num_predict": spec.output_tokens})
    entries = read_prompts(spec.prompts_file) if spec.prompts_file else []
    trace = read_trace(spec.trace_file) if spec.trace_file else None
    if trace is not None:
        entries = trace.entries
    agent: dict[str, object] | None = None
    # the artifacts are read (and a bad path refused) before any server is asked
    workload = read_workload(spec.agent_paths, settings.options) if spec.agent_paths else None
    prompts = Prompts(
        settings.model,
        options,
        input_tokens=spec.input_tokens,
        nonce=session_tag() if spec.prompt_nonce else None,
        seed=spec.seed,
        entries=entries,
    )
    gpu = GpuProbe()
    async with create_backend(settings.endpoint) as backend, _closing(gpu):
        environment = {
            "client": client_machine(),
            "server": await server_snapshot(backend, settings.model),
            "gpu_telemetry": gpu.source,
        }
        # a backend that fixes load-time options at load (llama.cpp in-process) loads now,
        # with the run's options; every request then carries the same
        await load_for(backend, settings.model, options)
        if workload is not None:  # the calls chimera run would send this model (its size)
            prompts.entries, agent = await agent_entries(workload, backend, settings.model)
        plan = make_plan(spec)
        async with _telemetry(settings, backend.url, gpu) as probes:
            raised = None
            if prompts.needs_calibration:
                prompts.calibration = await calibrate(backend, prompts)
                raised = prompts.raised_sizes()
                if raised is not None and warn is not None:  # once: sizes not as asked
                    warn(raised.note)
            runs, summaries = await execute_plan(
                backend, prompts, spec, plan, observer,
                trace=trace.offsets_s if trace else (), probes=probes,
            )  # fmt: skip
        url = backend.url
        environment["server_after"] = await server_snapshot(backend, settings.model)
    records = [rec for r in runs for rec in r.records]
    status = _status(runs, summaries)
    report = LoadReport(
        chimera_version=__version__,
        started_at=started_at,
        backend=settings.endpoint.kind,
        url=url,
        model=settings.model,
        settings=settings.model_dump(mode="json"),
        environment=environment,
        prompts={
            "source": "agent workload"
            if agent
            else str(spec.trace_file or spec.prompts_file or "synthetic"),
            "agent": agent,
            "input_tokens_target": None if prompts.entries else spec.input_tokens,
            "output_tokens_target": options.num_predict,
            "nonce": spec.prompt_nonce,
            "calibration": prompts.calibration.as_dict() if prompts.needs_calibration else None,
            "input_tokens_raised": raised.as_dict() if raised is not None else None,
        },
        levels=summaries,
        find_max=plan.result() if isinstance(plan, FindMaxPlan) else None,
        status=status,
    )
    outcome = LoadOutcome(report, records)
    if settings.output_dir is not None:
        path = write_jsonl(settings.output_dir / RECORDS_NAME, records)
        report.records_path = str(path)
        outcome.files.append(path)
        if settings.csv:
            out = settings.output_dir
            outcome.files.append(
                write_csv(out / "levels.csv", [level_csv_row(x) for x in summaries])
            )
            outcome.files.append(write_csv(out / "requests.csv", [request_row(r) for r in records]))
    if settings.store:
        from chimera.store.db import default_db_path

        report.run_id = record_load_run(
            settings.db or default_db_path(),
            label=settings.label,
            command=command,
            settings=report.settings,
            system=environment,
            records=records,
            summaries=summaries,
            status=status,
            started_at=started_at,
        )
    if settings.output_dir is not None and settings.html:
        from chimera.render.load import write_load_html  # matplotlib only when asked

        outcome.files.extend(write_load_html(report, records, settings.output_dir))
    if settings.output_dir is not None:
        outcome.files.append(
            write_json(settings.output_dir / REPORT_NAME, report.model_dump(mode="json"))
        )
    return outcome
