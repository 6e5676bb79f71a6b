"""``chimera probe``: what each server is, has and loads, and one short test call's metrics."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chimera.backends.base import EndpointSettings
from chimera.backends.ollama import default_url
from chimera.backends.probe import TEST_PROMPT, ProbeKind, ProbeResult, probe_all
from chimera.calls import CallMetrics
from chimera.cli import options as opt
from chimera.cli.app import app
from chimera.cli.common import run_async


def _gib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**30:.2f} GiB"


def _fmt(v: float | int | None, unit: str = "") -> str:
    if v is None:
        return "n/a"
    return f"{v:,.2f}{unit}" if isinstance(v, float) else f"{v:,}{unit}"


def metrics_table(m: CallMetrics) -> Table:
    """The metrics of one call, est. marking figures derived on the client."""
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for name, value in m.model_dump(exclude={"estimated"}).items():
        mark = " (est.)" if name in m.estimated else ""
        shown = value if isinstance(value, str) else _fmt(value)
        t.add_row(name, f"{shown}{mark}")
    return t


def print_result(console: Console, r: ProbeResult) -> None:
    state = "[green]reachable[/]" if r.reachable else "[red]unreachable[/]"
    console.print(
        f"[bold]{escape(r.url)}[/]  {r.kind or '?'}  {state}"
        + (f"  version {escape(r.version)}" if r.version else "")
    )
    if r.models:
        console.print(
            "  installed: "
            + ", ".join(
                escape(m.name) + (f" ({_gib(m.size_bytes)})" if m.size_bytes else "")
                for m in r.models
            )
        )
    if r.loaded is not None:
        console.print(
            "  loaded: "
            + (
                ", ".join(
                    f"{escape(m.name)} (size {_gib(m.size_bytes)}, VRAM {_gib(m.size_vram_bytes)}"
                    + (f", until {escape(m.expires_at)}" if m.expires_at else "")
                    + ")"
                    for m in r.loaded
                )
                or "none"
            )
        )
    if r.test_call:
        console.print(
            f"  test call to {escape(r.test_call.model)}: {escape(r.test_call.text.strip()[:80])!r}"
        )
        console.print(metrics_table(r.test_call.metrics))
    if r.error:
        console.print(f"  [red]error:[/] {escape(r.error)}")


@app.command()
def probe(
    urls: Annotated[
        list[str] | None,
        typer.Argument(help="Server URLs (default: OLLAMA_HOST or http://127.0.0.1:11434)."),
    ] = None,
    kind: Annotated[str, typer.Option(help="auto, ollama or openai.")] = "auto",
    model: Annotated[
        str | None, typer.Option(help="Model for the test call (default: the first installed).")
    ] = None,
    prompt: Annotated[str, typer.Option(help="Prompt of the test call.")] = TEST_PROMPT,
    num_predict: Annotated[int, typer.Option(min=1, help="Tokens to generate.")] = 16,
    no_test: Annotated[bool, typer.Option("--no-test", help="Skip the test generation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    connect_timeout: opt.ConnectTimeout = None,
    first_token_timeout: opt.FirstTokenTimeout = None,
    idle_timeout: opt.IdleTimeout = None,
) -> None:
    """Probe servers: reachable, version, models, loaded models, and a test call's metrics."""
    if kind not in ("auto", "ollama", "openai"):
        raise typer.BadParameter("choose auto, ollama or openai", param_hint="--kind")
    targets = urls or [default_url()]
    k: ProbeKind = kind  # type: ignore[assignment]
    results = run_async(
        probe_all(
            targets,
            k,
            model=model,
            prompt=prompt,
            num_predict=num_predict,
            settings=opt.timeouts(connect_timeout, first_token_timeout, idle_timeout).applied(
                EndpointSettings()
            ),
            test_call=not no_test,
        )
    )
    if as_json:
        out = {"servers": [_json_server(r) for r in results]}
        print(json.dumps(out, indent=2, default=str))
    else:
        console = Console(highlight=False, soft_wrap=True)
        for r in results:
            print_result(console, r)
    if any(not r.reachable or r.error for r in results):
        raise typer.Exit(3)


def _json_server(r: ProbeResult) -> dict[str, object]:
    d = r.model_dump(mode="json")
    if r.test_call is not None:
        call = d.pop("test_call")
        d["test_call"] = {"model": call["model"], "text": call["text"], **call["metrics"]}
    return d
