"""``chimera run``: an agent analyses the benchmark artifacts and writes its report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chimera.agent.endpoint import backend_choice
from chimera.app.run import RunSettings, run_session
from chimera.backends.base import check_options
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import run_async
from chimera.cli.ingest import default_paths
from chimera.ingest.settings import load_settings
from chimera.models.bundled import default_model


@app.command()
def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to analyse (default: ./reports and ./csv_data)."),
    ] = None,
    persona: Annotated[
        str, typer.Option(help="insight, collector, or one from --personas.")
    ] = "insight",
    personas: Annotated[
        Path | None, typer.Option(help="TOML file with [personas.NAME] tables.")
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Report title (default: Chimera <persona>).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Model (default gemma3:latest; llamacpp: a GGUF path or a bundled model, "
            "default smollm2)."
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="auto (Ollama if it answers and has the model, else offline), or a backend "
            f"kind: {opt.KINDS}."
        ),
    ] = "auto",
    url: Annotated[
        str | None, typer.Option(help="Server URL (default: OLLAMA_HOST or localhost:11434).")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key (openai backend).")
    ] = None,
    num_gpu: opt.NumGpu = None,
    num_ctx: opt.NumCtx = None,
    temperature: opt.Temperature = None,
    top_p: opt.TopP = None,
    top_k: opt.TopK = None,
    repeat_penalty: opt.RepeatPenalty = None,
    num_predict: opt.NumPredict = None,
    seed: opt.Seed = None,
    option: opt.ExtraOptions = None,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
    analysis_shape: opt.AnalysisShapeOpt = opt.AnalysisShape.auto,
    report_mode: opt.ReportModeOpt = opt.ReportMode.auto,
    runs: Annotated[int, typer.Option(min=1, help="Repeat the whole workflow N times.")] = 1,
    output_dir: Annotated[Path, typer.Option(help="Where report.md and metrics.json go.")] = Path(
        "chimera_reports"
    ),
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
    config: Annotated[Path | None, typer.Option(help="Ingestion settings (TOML).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    html: Annotated[
        bool, typer.Option("--html", help="Also write report.html and the plots (PNG).")
    ] = False,
) -> None:
    """Analyse benchmark artifacts with an LLM agent and write a fact-checked report."""
    choice = backend_choice(backend)
    options = opt.build_options(
        "inference options",
        option,
        num_gpu=num_gpu,
        num_ctx=num_ctx,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        repeat_penalty=repeat_penalty,
        num_predict=num_predict,
        seed=seed,
    )
    if choice != "auto":  # options the backend cannot set: a usage error before ingest
        check_options(choice, options.set_options())
    settings = RunSettings(
        paths=paths or default_paths(Path.cwd()),
        persona=persona,
        persona_file=personas,
        label=label,
        model=model or default_model(choice),
        backend=choice,
        url=url,
        api_key_env=api_key_env,
        options=options,
        runs=runs,
        output_dir=output_dir,
        db=db,
        store=not no_store,
        ingest=load_settings(config),
        html=html,
        timeouts=opt.timeouts(connect_timeout, first_token_timeout, idle_timeout),
        command=sys.argv,
        analysis_shape=analysis_shape.value,
        report_mode=report_mode.value,
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)
    console = Console(highlight=False, soft_wrap=True)
    with err.status("starting", spinner="dots") as status:

        def on_event(msg: str) -> None:
            status.update(escape(msg))
            if not msg.startswith("run ") and msg != "ingest":
                err.print(f"[yellow]note:[/] {escape(msg)}")

        outcome = run_async(run_session(settings, on_event))
    for r in outcome.runs:
        state = "[green]ok[/]" if r.status == "ok" else f"[red]failed[/]: {escape(r.error or '')}"
        grounded = (
            f", {r.factcheck.grounded_ratio:.0%} of numbers grounded"
            if r.factcheck and r.factcheck.grounded_ratio is not None
            else ""
        )
        quality = f", quality {r.quality.total:.0f}/100" if r.quality else ""
        console.print(
            f"{escape(r.spec.label)} on {r.backend} ({escape(r.spec.model)}): "
            f"{state} in {r.timings.total_s:.2f}s{grounded}{quality}"
        )
    for f in outcome.files:
        console.print(f"wrote {escape(str(f))}")
    if outcome.run_id:
        console.print(f"recorded as run {outcome.run_id}")
    if not outcome.ok:
        raise typer.Exit(4)
