"""``chimera multiagent``: agents alone, then together; honest speedup, efficiency, contention."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from chimera.agent.endpoint import backend_choice
from chimera.agent.personas import load_personas
from chimera.app.multiagent import MultiAgentSettings, run_multiagent
from chimera.backends.base import check_options
from chimera.bench.concurrency import DEFAULT_CONTENTION_THRESHOLD, VALIDITY_TOLERANCE
from chimera.bench.progress import NullObserver, RichProgress
from chimera.bench.results import MultiAgentOutcome
from chimera.bench.scenarios import PRESETS, PresetName, load_scenario_file, preset_scenario
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import run_async
from chimera.cli.ingest import default_paths
from chimera.ingest.settings import load_settings
from chimera.models.bundled import default_model
from chimera.options import InferenceOptions


class _Keep(NullObserver):
    """Headless, but keeps the outcome for an interrupted session."""

    outcome: MultiAgentOutcome | None = None

    def session_finished(self, outcome: MultiAgentOutcome) -> None:
        self.outcome = outcome


def _options(prefix: str, extra: list[str] | None, values: dict[str, Any]) -> InferenceOptions:
    return opt.build_options(f"--{prefix}-* options", extra, **values)


def _print_outcome(console: Console, outcome: MultiAgentOutcome) -> None:
    for note in outcome.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    for r in outcome.records:
        fig = r.figures
        if fig is None:
            failed = ", ".join(f"{a.agent_id} ({a.error})" for a in r.agents if not a.ok)
            console.print(f"{r.name}: [red]failed[/]: {escape(failed)}")
            continue
        slow = ", ".join(f"{k} {v:.2f}x" for k, v in fig.slowdowns.items())
        flag = "[yellow]contention[/]" if fig.contention else "no contention"
        console.print(
            f"{r.name}: speedup {fig.concurrency_speedup:.3f}x, efficiency "
            f"{fig.efficiency_percent:.1f}%, wall {fig.wall_s:.2f}s vs alone "
            f"{fig.sequential_s:.2f}s, slowdown {escape(slow)}, {flag} "
            f"(legacy speedup {fig.legacy_concurrency_speedup:.3f}x)"
        )
        for reason in fig.invalid_reasons:
            console.print(f"  [red]INVALID, left out of the averages:[/] {escape(reason)}")
    figs = [r.figures for r in outcome.valid_runs if r.figures is not None]
    if len(figs) > 1:
        mean = sum(f.concurrency_speedup for f in figs) / len(figs)
        eff = sum(f.efficiency_percent for f in figs) / len(figs)
        console.print(f"mean of {len(figs)} runs: speedup {mean:.3f}x, efficiency {eff:.1f}%")
    if outcome.invalid_runs:
        console.print(
            f"[red]{outcome.invalid_runs} of {len(outcome.records)} runs had impossible "
            "figures[/] and were not averaged (see summary.md)"
        )
    if outcome.failed_runs:
        console.print(
            f"[red]{outcome.failed_runs} of {len(outcome.records)} runs failed[/] "
            f"({outcome.failed_agent_runs} agent runs)"
        )
    by_folder: dict[Path, list[str]] = {}
    for f in outcome.files:
        by_folder.setdefault(f.parent, []).append(f.name)
    for folder, names in by_folder.items():
        console.print(f"wrote {escape(str(folder))}/: {escape(', '.join(names))}")
    if outcome.run_id:
        console.print(f"recorded as run {outcome.run_id}")


@app.command()
def multiagent(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to analyse (default: ./reports and ./csv_data)."),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="baseline_vs_chimera (default), chimera_hetero or chimera_homo."),
    ] = None,
    scenario_file: Annotated[
        Path | None,
        typer.Option(help="TOML file with one [[agents]] table per agent (docs/multiagent.md)."),
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Measured runs.")] = 3,
    warmup: Annotated[
        int,
        typer.Option(
            min=0, help="Warm-up runs before them (they load the model), left out of the results."
        ),
    ] = 1,
    keep_prompt_cache: opt.KeepPromptCache = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="Model of every agent the scenario does not give one (default gemma3:latest; "
            "llamacpp: a GGUF path or a bundled model, default smollm2)."
        ),
    ] = None,
    output_dir: Annotated[Path, typer.Option(help="Where run_N/ and summary.* go.")] = Path(
        "chimera_multiagent"
    ),
    collector_ollama_url: Annotated[
        str | None,
        typer.Option(help="Server of agent A (default: OLLAMA_HOST or localhost:11434)."),
    ] = None,
    insight_ollama_url: Annotated[
        str | None,
        typer.Option(help="Server of agent B (default: OLLAMA_HOST or localhost:11434)."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="auto (Ollama if it answers and has the model, else offline), or a backend "
            f"kind: {opt.KINDS}."
        ),
    ] = "auto",
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the API key (openai).")
    ] = None,
    chimera_num_gpu: Annotated[int | None, typer.Option()] = None,
    chimera_num_ctx: Annotated[int | None, typer.Option()] = None,
    chimera_temperature: Annotated[float | None, typer.Option()] = None,
    chimera_top_p: Annotated[float | None, typer.Option()] = None,
    chimera_top_k: Annotated[int | None, typer.Option()] = None,
    chimera_repeat_penalty: Annotated[float | None, typer.Option()] = None,
    chimera_option: Annotated[
        list[str] | None, typer.Option(help="Any other chimera option, NAME=VALUE (repeatable).")
    ] = None,
    chimera2_num_gpu: Annotated[int | None, typer.Option()] = None,
    chimera2_num_ctx: Annotated[int | None, typer.Option()] = None,
    chimera2_temperature: Annotated[float | None, typer.Option()] = None,
    chimera2_top_p: Annotated[float | None, typer.Option()] = None,
    chimera2_top_k: Annotated[int | None, typer.Option()] = None,
    chimera2_repeat_penalty: Annotated[float | None, typer.Option()] = None,
    chimera2_option: Annotated[
        list[str] | None, typer.Option(help="Any other chimera2 option, NAME=VALUE.")
    ] = None,
    max_in_flight: Annotated[
        int | None,
        typer.Option(min=1, help="At most N calls out at once per endpoint (default: no limit)."),
    ] = None,
    contention_threshold: Annotated[
        float,
        typer.Option(min=1.0, help="Flag contention when an agent is this much slower together."),
    ] = DEFAULT_CONTENTION_THRESHOLD,
    validity_tolerance: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.99,
            help="Timing noise allowed before a run is called impossible (efficiency above "
            "100% or an agent faster together than alone by more than this fraction).",
        ),
    ] = VALIDITY_TOLERANCE,
    preload: Annotated[
        bool, typer.Option(help="Load each agent's model with a 1-token call before run 1.")
    ] = True,
    personas: Annotated[
        Path | None, typer.Option(help="TOML file with [personas.NAME] tables.")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the runs.")] = False,
    config: Annotated[Path | None, typer.Option(help="Ingestion settings (TOML).")] = None,
    html: Annotated[
        bool, typer.Option("--html", help="Also write summary.html with plots.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
) -> None:
    """Run agents alone, then together: speedup, efficiency and contention, honestly measured."""
    choice = backend_choice(backend)
    chimera = _options(
        "chimera",
        chimera_option,
        {
            "num_gpu": chimera_num_gpu,
            "num_ctx": chimera_num_ctx,
            "temperature": chimera_temperature,
            "top_p": chimera_top_p,
            "top_k": chimera_top_k,
            "repeat_penalty": chimera_repeat_penalty,
        },
    )
    chimera2 = _options(
        "chimera2",
        chimera2_option,
        {
            "num_gpu": chimera2_num_gpu,
            "num_ctx": chimera2_num_ctx,
            "temperature": chimera2_temperature,
            "top_p": chimera2_top_p,
            "top_k": chimera2_top_k,
            "repeat_penalty": chimera2_repeat_penalty,
        },
    )
    known = load_personas(personas)
    if scenario_file is not None:
        if scenario is not None:
            raise typer.BadParameter(
                "give --scenario or --scenario-file, not both", param_hint="--scenario"
            )
        if chimera.set_options() or chimera2.set_options():
            raise typer.BadParameter(
                "with --scenario-file, set each agent's options in the file",
                param_hint="--chimera-*",
            )
        spec = load_scenario_file(
            scenario_file, known, model=model, backend=choice, api_key_env=api_key_env
        )  # an agent with no model anywhere gets its own backend's default
    else:
        name = scenario or "baseline_vs_chimera"
        if name not in PRESETS:
            raise typer.BadParameter(f"choose {', '.join(PRESETS)}", param_hint="--scenario")
        preset: PresetName = name
        spec = preset_scenario(
            preset,
            model=model or default_model(choice),
            chimera=chimera,
            chimera2=chimera2,
            collector_url=collector_ollama_url,
            insight_url=insight_ollama_url,
            backend=choice,
            api_key_env=api_key_env,
        )
    for agent in spec.agents:  # options an agent's backend cannot set: a usage error now
        if agent.backend != "auto":
            check_options(agent.backend, agent.options.set_options())
    given = opt.timeouts(connect_timeout, first_token_timeout, idle_timeout)
    # a scenario file's agent and file keys win over the flags, as for model and backend
    spec = spec.model_copy(update={"agents": tuple(a.with_timeouts(given) for a in spec.agents)})
    settings = MultiAgentSettings(
        paths=paths or default_paths(Path.cwd()),
        scenario=spec,
        runs=runs,
        warmup=warmup,
        prompt_nonce=not keep_prompt_cache,
        output_dir=output_dir,
        max_in_flight=max_in_flight,
        contention_threshold=contention_threshold,
        validity_tolerance=validity_tolerance,
        preload=preload,
        db=db,
        store=not no_store,
        ingest=load_settings(config),
        command=sys.argv,
    )
    console = Console(highlight=False, soft_wrap=True)
    live = not quiet and sys.stdout.isatty()
    observer: RichProgress | _Keep = RichProgress() if live else _Keep()
    try:
        if isinstance(observer, RichProgress):
            with observer:
                outcome = run_async(run_multiagent(settings, observer))
        else:
            outcome = run_async(run_multiagent(settings, observer))
    except KeyboardInterrupt:
        partial = observer.outcome
        if partial is None:
            raise
        _print_outcome(console, partial)
        console.print(
            f"[yellow]interrupted[/]: {len(partial.records)} of {partial.runs_planned} runs "
            "finished; their files and the summary are written"
        )
        raise typer.Exit(130) from None
    _print_outcome(console, outcome)
    if html:
        from chimera.render.multiagent import write_multiagent_html  # matplotlib when asked

        for path in write_multiagent_html(outcome):
            console.print(f"wrote {escape(str(path))}")
    if not outcome.ok:
        raise typer.Exit(4)
