"""``chimera model tiny PATH``: write a tiny random-weight GGUF for demos and tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chimera.cli.app import app
from chimera.models import PRESETS, TinyModelSpec, write_spec

model_app = typer.Typer(
    name="model",
    help="Make model files Chimera can run without downloading weights.",
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
