"""``chimera load``: hold a load on a server (closed or open loop) and measure every request."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chimera.app.load import LoadSettings, resolve_endpoint, run_load
from chimera.cli import executor_flags as ex
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import run_async
from chimera.cli.load_flags import Status, check_sources, plan_levels, validated
from chimera.errors import ConfigError
from chimera.load.report import LoadReport, RunStatus, render
from chimera.load.spec import LoadSpec, Warmup, parse_slo
from chimera.models.bundled import default_model

# 2 (bad settings) and 3 (no server) come from the errors raised before the run
EXIT_CODES: dict[RunStatus, int] = {"ok": 0, "failed": 4, "stopped": 5, "interrupted": 130}


@app.command()
def load(
    target: Annotated[
        str,
        typer.Argument(
            help="A server URL (its kind detected, or --backend) or a backend kind: ollama, "
            "openai, llamacpp (its default URL or in-process engine)."
        ),
    ],
    model: Annotated[
        str | None, typer.Option(help="Model (default gemma3:latest; llamacpp: smollm2).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="The kind of server at the URL: ollama or openai.")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key (openai).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Closed loop: C in flight.")
    ] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", "-r", help="Open loop: requests per second.")
    ] = None,
    arrival: Annotated[
        str, typer.Option(help="Open loop arrivals: constant, poisson or gamma.")
    ] = "poisson",
    burstiness: Annotated[
        float, typer.Option(help="Gamma shape: 1 = Poisson, <1 burstier, >1 steadier.")
    ] = 1.0,
    ramp: Annotated[
        bool,
        typer.Option(
            "--ramp",
            help="Rise to --concurrency or --rate over the warm-up and --duration (from one "
            "stream, or from 0 req/s).",
        ),
    ] = False,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Measured seconds per level.")
    ] = None,
    requests: Annotated[
        int | None,
        typer.Option("--requests", "-n", help="Measured requests per level (default 100)."),
    ] = None,
    warmup: Annotated[
        str, typer.Option(help="Left out of the figures: N requests, or seconds as 5s.")
    ] = "0",
    input_tokens: Annotated[
        int, typer.Option(min=1, help="Target prompt tokens (synthetic prompts).")
    ] = 128,
    output_tokens: Annotated[int, typer.Option(min=1, help="Max output tokens a request.")] = 128,
    prompts: Annotated[
        Path | None,
        typer.Option(help='JSONL of requests: {"prompt": ...} or {"messages": [...]}.'),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            help='Replay a JSONL trace at its timestamps: {"timestamp": S, "input_tokens": N, '
            '"output_tokens": M} or with "prompt"/"messages".'
        ),
    ] = None,
    agent_workload: Annotated[
        list[Path] | None,
        typer.Option(
            help="Send the prompts a chimera run sends (its analysis and report calls) over "
            "these artifacts; repeat for more paths."
        ),
    ] = None,
    keep_prompt_cache: opt.KeepPromptCache = False,
    slo: Annotated[
        str | None,
        typer.Option(help="Objectives for goodput, e.g. 'ttft_p99<=500ms,itl_p99<=50ms'."),
    ] = None,
    sweep: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Sweep: one stream, then --saturation-concurrency streams, then N open-loop "
            "rates evenly between the rates those two served.",
        ),
    ] = None,
    find_max: Annotated[
        bool,
        typer.Option(
            "--find-max",
            help="Search the highest rate meeting --slo: one stream, saturation, then "
            "bisection on the rate.",
        ),
    ] = False,
    saturation_concurrency: Annotated[
        int, typer.Option(min=1, help="Streams of the saturation level (--sweep, --find-max).")
    ] = 32,
    bisect_steps: Annotated[int, typer.Option(min=1, help="--find-max: bisection steps.")] = 5,
    repeats: Annotated[
        int, typer.Option(min=1, help="--find-max: runs per rate; a rate passes if all do.")
    ] = 1,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Generator processes a level is spread over (Ray actors with --executor ray); "
            "records merged exactly.",
        ),
    ] = 1,
    executor: ex.Executor = "local",
    ray_address: ex.RayAddress = None,
    seed: Annotated[int, typer.Option(help="Seed of the arrivals and the prompts' words.")] = 0,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
    temperature: opt.Temperature = None,
    option: opt.ExtraOptions = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
    csv: Annotated[
        bool, typer.Option("--csv", help="Also write levels.csv and requests.csv.")
    ] = False,
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics",
            help="Sample the server's Prometheus /metrics each second (llama.cpp's server, "
            "vLLM, SGLang): requests running and waiting, KV cache use.",
        ),
    ] = False,
    html: Annotated[
        bool,
        typer.Option("--html", help="Also write load.html: latency against load, a timeline."),
    ] = False,
    output_dir: Annotated[Path, typer.Option(help="Where requests.jsonl and load.json go.")] = Path(
        "chimera_load"
    ),
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
    label: Annotated[str | None, typer.Option(help="Name of the run in the store.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Hold a load on a server and measure each request: TTFT, ITL, TPOT, end to end.

    Closed loop with --concurrency C, or open loop with --rate R (--arrival constant, poisson
    or gamma with --burstiness); or --sweep N, --find-max with --slo, or --trace FILE.
    Bounded by --duration S or --requests N per level, after a --warmup left out of the
    figures.
    See docs/load.md.
    """
    if arrival not in ("constant", "poisson", "gamma"):
        raise ConfigError(f"--arrival: {arrival!r}; choose constant, poisson or gamma")
    strategy, levels = plan_levels(concurrency, rate, sweep, find_max, trace, arrival, burstiness)
    if ramp:
        if strategy != "fixed" or trace is not None:
            raise ConfigError("--ramp rises to a --concurrency or a --rate; it has no other use")
        if duration is None:
            raise ConfigError("--ramp needs --duration: the ramp rises over it")
        levels = tuple(lv.model_copy(update={"ramp": True}) for lv in levels)
    if find_max and slo is None:
        raise ConfigError("--find-max needs --slo, e.g. --slo 'ttft_p99<=500ms'")
    check_sources(prompts, trace, agent_workload)
    spec = validated(
        LoadSpec,
        strategy=strategy,
        levels=levels,
        arrival=arrival,
        burstiness=burstiness,
        sweep_rates=sweep or 5,
        saturation_concurrency=saturation_concurrency,
        bisect_steps=bisect_steps,
        repeats=repeats,
        workers=workers,
        executor=ex.where(executor, ray_address, None, None, False)[0],
        duration_s=duration,
        requests=requests
        if requests is not None or duration is not None or trace is not None
        else 100,
        warmup=Warmup.parse(warmup),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        prompts_file=prompts,
        trace_file=trace,
        agent_paths=tuple(agent_workload or ()),
        prompt_nonce=not keep_prompt_cache,
        seed=seed,
        slo=parse_slo(slo) if slo is not None else (),
    )
    if (workers > 1 or executor == "ray") and target == "llamacpp":
        raise ConfigError("--workers: the in-process engine runs in this process only")
    options = opt.build_options("inference options", option, temperature=temperature)
    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet or as_json)
    console = Console(highlight=False, soft_wrap=True)
    in_flight = max(concurrency or 0, saturation_concurrency, 1024)
    endpoint = run_async(
        resolve_endpoint(
            target,
            backend,
            api_key_env=api_key_env,
            max_connections=in_flight,
        )
    )
    endpoint = opt.timeouts(connect_timeout, first_token_timeout, idle_timeout).applied(endpoint)
    settings = LoadSettings(
        spec=spec,
        endpoint=endpoint,
        model=model or default_model(endpoint.kind),
        options=options,
        output_dir=output_dir,
        db=db,
        store=not no_store,
        csv=csv,
        html=html,
        metrics=metrics,
        label=label,
    )
    status = Status(err)
    with status.status:
        # a warning is said even with --quiet or --json: the figures are not what was asked
        warn = Console(stderr=True, highlight=False, soft_wrap=True)
        outcome = run_async(
            run_load(
                settings,
                observer=status,
                command=sys.argv,
                warn=lambda note: warn.print(f"warning: {note}", markup=False),
            )
        )
    report = outcome.report
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console.print(render(report))
        for path in outcome.files:
            console.print(f"wrote {escape(str(path))}")
        if report.run_id:
            console.print(f"recorded as run {report.run_id}")
    raise typer.Exit(_exit_code(report))


def _exit_code(report: LoadReport) -> int:
    """0 ok; 130 Ctrl-C, 4 a level served nothing, 5 a level stopped early because the
    server stopped answering (said on stderr even with --quiet: it is the outcome, not
    progress)."""
    outcome = Console(stderr=True, highlight=False)
    if report.status == "interrupted":
        outcome.print(
            "interrupted: the finished requests are recorded; those in flight are marked cancelled"
        )
    elif report.status == "stopped":
        stopped = next(s for s in report.levels if s.stopped)
        outcome.print(
            f"stopped: level {stopped.level} stopped early ({escape(stopped.stopped or '')}); "
            "the finished requests are recorded"
        )
    return EXIT_CODES[report.status]
