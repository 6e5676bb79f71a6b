"""``chimera sweep``: measure every point of an option grid, N runs each; resumable."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    Progress,
    TaskID,
)
from rich.table import Table

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings
from chimera.bench.grid import Grid, Point, option_specs
from chimera.bench.measure import DEFAULT_PROMPT, RunOutcome
from chimera.bench.sweep import SweepResult, SweepSettings
from chimera.bench.sweeplog import CSV_NAME
from chimera.cli import executor_flags as ex
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import progress_bar, run_async
from chimera.ingest.settings import load_settings
from chimera.models.bundled import default_model


def _values(text: str, *names: str) -> Any:
    """A list-valued option flag: the values of one dimension of the grid."""
    return typer.Option(*names, metavar="V1,V2,...", help=text)


class ProgressObserver:
    """A rich progress bar with ETA on stderr; failed runs are printed above it."""

    def __init__(self, progress: Progress, console: Console) -> None:
        self.progress = progress
        self.console = console
        self.task: TaskID | None = None

    def start(self, total: int, done: int) -> None:
        self.task = self.progress.add_task("starting", total=total, completed=done)
        if done:
            self.console.print(f"resuming: {done} of {total} runs already done")

    def stage(self, text: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=escape(text))

    def advance(self, point: Point, run_index: int, outcome: RunOutcome) -> None:
        if outcome.status != "ok":
            self.console.print(
                f"[yellow]run {run_index} at {escape(point.key)} failed:[/] "
                f"{escape(outcome.error or '')}"
            )
        if self.task is not None:
            self.progress.advance(self.task)


def _spread(mean: object, sd: object, digits: int) -> str:
    if mean is None or mean == "":
        return "-"
    text = f"{float(str(mean)):,.{digits}f}"
    return text if sd is None or sd == "" else f"{text} ± {float(str(sd)):,.{digits}f}"


def print_result(result: SweepResult, console: Console) -> None:
    table = Table(title=f"sweep: {len(result.summary)} points", title_justify="left")
    table.add_column("point", no_wrap=True)
    servers = len({str(row.get("endpoint") or "") for row in result.summary}) > 1
    if servers:
        table.add_column("endpoint", no_wrap=True)
    for col in ("ok/runs", "decode tok/s ± sd", "TTFT ms ± sd"):
        table.add_column(col, justify="right")
    for row in result.summary:
        cells = [escape(str(row["point"]))]
        if servers:
            cells.append(escape(str(row.get("endpoint") or "")))
        table.add_row(
            *cells,
            f"{row['completed_runs']}/{row['total_runs']}",
            _spread(row["decode_tokens_per_s_mean"], row["decode_tokens_per_s_std"], 1),
            _spread(row["ttft_ms_mean"], row["ttft_ms_std"], 2),
        )
    console.print(table)
    console.print(
        f"{result.measured} runs measured, {result.skipped} already done, {result.failed} failed"
    )
    if result.failed:
        _print_failures(result, console)
    console.print(f"wrote {escape(str(result.csv_path))} and {escape(str(result.summary_path))}")
    if result.run_id:
        console.print(f"recorded as run {result.run_id}")


def _print_failures(result: SweepResult, console: Console, shown: int = 3) -> None:
    """Why runs failed: each distinct reason once, with how many runs it failed."""
    reasons = Counter(
        str(row.get("error") or "no reason recorded")
        for row in result.rows
        if row.get("status") != "ok"
    )
    if result.status == "failed":
        console.print("[bold red]every run failed[/]: nothing was measured")
    for reason, n in reasons.most_common(shown):
        console.print(f"  {n} failed: {escape(reason)}")
    if len(reasons) > shown:
        console.print(f"  and {len(reasons) - shown} other reasons (see the error column)")


@app.command()
def sweep(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Agent mode: the artifacts the agent analyses at each point."),
    ] = None,
    num_gpu: Annotated[str | None, _values("Layers offloaded to the GPU, e.g. 20,28,36.")] = None,
    num_ctx: Annotated[str | None, _values("Context windows, e.g. 2048,4096,8192.")] = None,
    temperature: Annotated[
        str | None, _values("Temperatures, e.g. 0.6,0.8.", "--temperature", "--temp")
    ] = None,
    num_thread: Annotated[str | None, _values("CPU threads, e.g. 4,8.")] = None,
    num_batch: Annotated[str | None, _values("Prompt batch sizes, e.g. 256,512.")] = None,
    top_p: Annotated[str | None, _values("top_p values.")] = None,
    top_k: Annotated[str | None, _values("top_k values.")] = None,
    repeat_penalty: Annotated[str | None, _values("repeat_penalty values.")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="Any other option as NAME=V1,V2,... (repeatable), e.g. -o min_p=0.05,0.1.",
        ),
    ] = None,
    num_predict: opt.NumPredict = None,
    seed: opt.Seed = None,
    runs: Annotated[int, typer.Option(min=1, help="Measured runs per point.")] = 3,
    warmup: Annotated[
        int, typer.Option(min=0, help="Unmeasured calls per point first (model load).")
    ] = 1,
    mode: Annotated[
        str,
        typer.Option(
            help="generate: a fixed prompt per run (throughput); agent: one agent run per run."
        ),
    ] = "generate",
    prompt: Annotated[
        str,
        typer.Option(
            help="Generate mode's prompt (default: a fixed question of about 40 words).",
            show_default=False,
        ),
    ] = DEFAULT_PROMPT,
    keep_prompt_cache: opt.KeepPromptCache = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="Model (default gemma3:latest; llamacpp: a GGUF path or a bundled model, "
            "default smollm2)."
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help=f"A backend kind: {opt.KINDS}.")] = "ollama",
    url: ex.Urls = None,
    endpoints: ex.EndpointsFile = None,
    same_endpoint: ex.SameEndpoint = False,
    executor: ex.Executor = "local",
    ray_address: ex.RayAddress = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key (openai).")
    ] = None,
    persona: Annotated[str, typer.Option(help="Agent mode: the persona.")] = "insight",
    personas: Annotated[Path | None, typer.Option(help="TOML file of personas.")] = None,
    label: Annotated[str | None, typer.Option(help="Name of the sweep in the store.")] = None,
    config: Annotated[Path | None, typer.Option(help="Agent mode: ingestion settings.")] = None,
    output_dir: Annotated[
        Path, typer.Option(help="Where sweep.csv and sweep_summary.csv go (resumes there).")
    ] = Path("chimera_sweep"),
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Discard an earlier sweep in --output-dir.")
    ] = False,
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the sweep.")] = False,
    html: Annotated[
        bool, typer.Option("--html", help="Also write sweep.html with heatmaps and plots.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
) -> None:
    """Measure every combination of option values, N runs each, into a tidy CSV.

    Each option takes a list: --num-ctx 256,512,1024 --num-gpu 60,80 (any option with
    -o NAME=V1,V2). Re-running with the same --output-dir skips the runs already done.
    Several --url (or --endpoints FILE) spread the points over servers; --executor ray runs
    them as Ray tasks (docs/scale.md).
    """
    if mode not in ("generate", "agent"):
        raise typer.BadParameter("choose generate or agent", param_hint="--mode")
    if paths and mode != "agent":
        raise typer.BadParameter("files are only read in --mode agent", param_hint="PATHS")
    runs_on, one_url, pool = ex.where(executor, ray_address, url, endpoints, same_endpoint)
    named = {
        "num_gpu": num_gpu,
        "num_ctx": num_ctx,
        "temperature": temperature,
        "num_thread": num_thread,
        "num_batch": num_batch,
        "top_p": top_p,
        "top_k": top_k,
        "repeat_penalty": repeat_penalty,
    }
    settings = SweepSettings(
        grid=Grid.parse(option_specs(named, option)),
        options=opt.build_options("fixed options", None, num_predict=num_predict, seed=seed),
        runs=runs,
        warmup=warmup,
        mode=mode,
        model=model or default_model(backend),
        endpoint=opt.timeouts(connect_timeout, first_token_timeout, idle_timeout).applied(
            EndpointSettings(kind=backend, url=one_url, api_key_env=api_key_env)
        ),
        endpoints=pool,
        executor=runs_on,
        prompt=prompt,
        prompt_nonce=not keep_prompt_cache,
        output_dir=output_dir,
        fresh=fresh,
        paths=list(paths or []),
        persona=persona,
        persona_file=personas,
        label=label,
        ingest=load_settings(config),
        db=db,
        store=not no_store,
    )
    # options the backend cannot set are a usage error now, not failed runs later
    ex.check_pool_options(backend, pool, [*settings.grid.names, *settings.options.set_options()])
    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)
    console = Console(highlight=False, soft_wrap=True)
    progress = progress_bar(err, quiet)
    try:
        with progress:
            result = run_async(
                run_sweep(settings, observer=ProgressObserver(progress, err), command=sys.argv)
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted: the finished runs are in {escape(str(output_dir / CSV_NAME))}; "
            "run the same command again to resume"
        )
        raise
    print_result(result, console)
    if html:
        from chimera.render.sweep import write_sweep_html  # matplotlib only when asked

        for path in write_sweep_html(result):
            console.print(f"wrote {escape(str(path))}")
    if result.status != "ok":
        raise typer.Exit(4)
