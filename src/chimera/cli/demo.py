"""``chimera demo``: the main job on its embedded defaults (see chimera.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chimera.cli.app import app
from chimera.cli.common import run_async
from chimera.demo import DemoSettings, run_demo


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(help="Where everything goes.")] = Path("chimera_demo"),
    backend: Annotated[
        str, typer.Option(help="llamacpp (in-process, no server) or ollama.")
    ] = "llamacpp",
    size: Annotated[
        str | None,
        typer.Option(
            help="llamacpp: a random-weight model instead of the real one (its text is noise): "
            "tiny (fast) or small (112 MB, a GPU-like pace)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="llamacpp: a GGUF path or bundled model (default smollm2, the bundled "
            "SmolLM2-135M-Instruct); ollama: the model (default gemma3:latest)."
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="ollama: the server URL.")] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="Run store (default: CHIMERA_DB or the user data directory)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Sweep a real model (the bundled SmolLM2), have two agents analyse the sweep concurrently,
    and write the reports, the summary and the HTML pages."""
    if backend not in ("llamacpp", "ollama"):
        raise typer.BadParameter("choose llamacpp or ollama", param_hint="--backend")
    if size not in (None, "tiny", "small"):
        raise typer.BadParameter("choose tiny or small", param_hint="--size")
    settings = DemoSettings.model_validate(
        {
            "output_dir": output_dir,
            "backend": backend,
            "size": size,
            "model": model,
            "url": url,
            "db": db,
        }
    )
    console = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)
    outcome = run_async(run_demo(settings, lambda msg: err.print(f"• {escape(msg)}")))
    sweep = outcome.sweep
    console.print(
        f"\nSweep: {len(sweep.summary)} points x {settings.sweep_runs} runs on "
        f"{escape(outcome.model)}, {sweep.failed} failed."
    )
    for r in outcome.multiagent.records:
        f = r.figures
        if f is None:
            console.print(f"{r.name}: agents failed: {', '.join(r.failed_agents)}")
            continue
        console.print(
            f"{r.name}: speedup {f.concurrency_speedup:.2f}x, efficiency "
            f"{f.efficiency_percent:.0f}% over {f.agents} agents"
            + (f"; contention: {', '.join(f.contended_agents)}" if f.contention else "")
            + f" (legacy figure {f.legacy_concurrency_speedup:.2f}x)"
        )
    console.print("\nFiles:")
    width = max(len(k) for k in outcome.files)
    for name, path in outcome.files.items():
        console.print(f"  {name:<{width}}  {escape(str(path))}")
    console.print(f"\n{escape(outcome.note)}")
    if not outcome.ok:
        raise typer.Exit(4)
