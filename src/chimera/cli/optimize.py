"""``chimera optimize``: Optuna-guided search for the fastest options, best point with its CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    Progress,
    TaskID,
)
from rich.table import Table

from chimera.app.optimize import run_optimize
from chimera.backends.base import EndpointSettings
from chimera.bench.grid import option_specs, parse_dimension
from chimera.bench.measure import DEFAULT_PROMPT
from chimera.bench.optimize import (
    BestPoint,
    OptimizeResult,
    OptimizeSettings,
    TrialRecord,
)
from chimera.cli import executor_flags as ex
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import progress_bar, run_async
from chimera.models.bundled import default_model
from chimera.stats import Summary

Spec = Annotated[str | None, typer.Option(metavar="LOW:HIGH|V1,V2")]


class TrialObserver:
    """A rich progress bar over the trials; each finished trial printed above it."""

    def __init__(
        self, progress: Progress, console: Console, objective: str, servers: int = 1
    ) -> None:
        self.progress = progress
        self.console = console
        self.objective = objective
        self.servers = servers  # with several, each trial says which one it ran on
        self.task: TaskID | None = None

    def start(self, trials: int) -> None:
        self.task = self.progress.add_task("starting", total=trials)

    def stage(self, text: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=escape(text))

    def trial_done(self, record: TrialRecord) -> None:
        obj = self.objective
        on = f" on {escape(record.endpoint)}" if self.servers > 1 and record.endpoint else ""
        if record.state == "complete":
            value = "" if record.value is None else f", objective {_objective(record.value, obj)}"
            self.console.print(
                f"trial {record.number}{on}: {escape(record.point)}: "
                f"{_num(record.decode_tokens_per_s)} tok/s, TTFT {_num(record.ttft_ms, 2)} ms"
                f"{value}"
            )
        else:
            self.console.print(
                f"[yellow]trial {record.number}{on}: {escape(record.point)} failed:[/] "
                f"{escape(record.error or 'no run succeeded')}"
            )
        if self.task is not None:
            self.progress.advance(self.task)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _objective(value: float, objective: str) -> str:
    return f"{value:,.4f}" if objective == "mix" else _num(value, 2 if objective == "ttft" else 1)


def _spread(s: Summary | None, digits: int = 1) -> str:
    if s is None:
        return "-"
    if s.std is None or s.ci_low is None or s.ci_high is None:
        return f"{s.mean:,.{digits}f} (n=1: no spread or CI; raise --runs)"
    return (
        f"{s.mean:,.{digits}f} ± {s.std:,.{digits}f} sd, 95% CI "
        f"[{s.ci_low:,.{digits}f}, {s.ci_high:,.{digits}f}], n={s.n}"
    )


def _best_lines(best: BestPoint, objective: str) -> list[str]:
    lines = [f"  options: {escape(best.point)}"]
    trials = ", ".join(str(n) for n in best.trials)
    if best.objective is not None and objective == "mix":
        lines.append(f"  objective: {_spread(best.objective, 4)}")
    lines.append(f"  decode tokens/s: {_spread(best.decode_tokens_per_s)}")
    lines.append(f"  TTFT ms: {_spread(best.ttft_ms, 2)}")
    lines.append(f"  measured in trial(s) {trials}")
    return lines


def print_result(result: OptimizeResult, console: Console) -> None:
    table = Table(title=f"{len(result.trials)} trials", title_justify="left")
    for col in ("#", "point", "runs ok", "decode tok/s", "TTFT ms", "objective"):
        table.add_column(col, justify="left" if col == "point" else "right", no_wrap=True)
    for t in result.trials:
        table.add_row(
            str(t.number),
            escape(t.point),
            str(t.runs_ok),
            _num(t.decode_tokens_per_s),
            _num(t.ttft_ms, 2),
            "failed"
            if t.state == "failed"
            else ("-" if t.value is None else _objective(t.value, result.objective)),
        )
    console.print(table)
    console.print(f"objective: {escape(result.objective_text)}")
    if not result.best:
        console.print("[red]no trial succeeded[/]: see the errors above")
        return
    if result.objective == "pareto":
        console.print(f"Pareto front ({len(result.best)} points, fastest decode first):")
    else:
        console.print("best configuration:")
    for best in result.best:
        for line in _best_lines(best, result.objective):
            console.print(line)
    console.print(
        "note: the best of many noisy trials is optimistic; confirm it with `chimera sweep` "
        "at that point with more --runs, and `chimera compare`."
    )
    if result.run_id:
        console.print(f"recorded as run {result.run_id}")


@app.command()
def optimize(
    num_gpu: Spec = None,
    num_ctx: Spec = None,
    temperature: Annotated[str | None, typer.Option("--temperature", "--temp")] = None,
    num_thread: Spec = None,
    num_batch: Spec = None,
    top_p: Spec = None,
    top_k: Spec = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Any other option as NAME=LOW:HIGH or NAME=V1,V2."),
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Trial budget.")] = 20,
    runs: Annotated[int, typer.Option(min=1, help="Measured runs per trial.")] = 3,
    warmup: Annotated[int, typer.Option(min=0, help="Unmeasured calls per trial first.")] = 1,
    objective: Annotated[
        str, typer.Option(help="throughput (max decode tok/s), ttft (min), mix, or pareto.")
    ] = "throughput",
    weight: Annotated[
        float, typer.Option(min=0, max=1, help="mix: weight of throughput against TTFT.")
    ] = 0.5,
    sampler_seed: Annotated[int, typer.Option(help="Seed of the sampler (reproducible).")] = 0,
    num_predict: opt.NumPredict = None,
    seed: opt.Seed = None,
    prompt: Annotated[str, typer.Option(help="The prompt of every call.")] = DEFAULT_PROMPT,
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
    label: Annotated[str | None, typer.Option(help="Name of the search in the store.")] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record trials.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
) -> None:
    """Search the options for the fastest configuration (Optuna TPE, seeded).

    Ranges: --num-gpu 0:99 (integers), --temperature 0.1:1.0 (reals), --num-ctx 256,512,1024
    (choices); any option with -o NAME=SPEC. Several --url (or --endpoints FILE) run the
    trials in rounds, one per server; --executor ray runs them as Ray tasks (docs/scale.md).
    """
    if objective not in ("throughput", "ttft", "mix", "pareto"):
        raise typer.BadParameter("choose throughput, ttft, mix or pareto", param_hint="--objective")
    named = {
        "num_gpu": num_gpu,
        "num_ctx": num_ctx,
        "temperature": temperature,
        "num_thread": num_thread,
        "num_batch": num_batch,
        "top_p": top_p,
        "top_k": top_k,
    }
    runs_on, one_url, pool = ex.where(executor, ray_address, url, endpoints, same_endpoint)
    specs = option_specs(named, option)
    if not specs:
        raise typer.BadParameter(
            "give at least one option to search, e.g. --num-gpu 0:99", param_hint="options"
        )
    settings = OptimizeSettings(
        space=tuple(parse_dimension(name, text) for name, text in specs),
        options=opt.build_options("fixed options", None, num_predict=num_predict, seed=seed),
        trials=trials,
        runs=runs,
        warmup=warmup,
        objective=objective,
        weight=weight,
        seed=sampler_seed,
        model=model or default_model(backend),
        endpoint=opt.timeouts(connect_timeout, first_token_timeout, idle_timeout).applied(
            EndpointSettings(kind=backend, url=one_url, api_key_env=api_key_env)
        ),
        endpoints=pool,
        executor=runs_on,
        prompt=prompt,
        prompt_nonce=not keep_prompt_cache,
        label=label,
        db=db,
        store=not no_store,
    )
    names = [*(d.name for d in settings.space), *settings.options.set_options()]
    ex.check_pool_options(backend, pool, names)
    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)
    progress = progress_bar(err, quiet)
    with progress:
        result = run_async(
            run_optimize(
                settings,
                observer=TrialObserver(progress, err, objective, len(pool) or 1),
                command=sys.argv,
            )
        )
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        print_result(result, Console(highlight=False, soft_wrap=True))
    if result.status != "ok":
        raise typer.Exit(4)
