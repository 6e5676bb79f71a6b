"""Inference options as command-line flags, shared by the commands that run LLM calls."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from chimera.backends.base import Timeouts, known_kinds
from chimera.options import InferenceOptions

# The backend kinds, from the registry (the one list), for help texts.
KINDS = ", ".join(known_kinds())

NumGpu = Annotated[int | None, typer.Option("--num-gpu", help="Layers offloaded to the GPU.")]
NumCtx = Annotated[int | None, typer.Option("--num-ctx", help="Context window, tokens.")]
Temperature = Annotated[float | None, typer.Option("--temperature", "--temp")]
TopP = Annotated[float | None, typer.Option("--top-p")]
TopK = Annotated[int | None, typer.Option("--top-k")]
RepeatPenalty = Annotated[float | None, typer.Option("--repeat-penalty")]
NumPredict = Annotated[int | None, typer.Option("--num-predict", help="Max output tokens.")]
Seed = Annotated[int | None, typer.Option("--seed")]
KeepPromptCache = Annotated[
    bool,
    typer.Option(
        "--keep-prompt-cache",
        help="Send the same prompt in every measured run, so a server's prompt cache may skip "
        "its prefill (to measure what the cache is worth). Default: each measured run's prompt "
        "starts with a unique line.",
    ),
]


ConnectTimeout = Annotated[
    float | None,
    typer.Option("--connect-timeout", min=0.001, help="Seconds to connect to a server (10)."),
]
FirstTokenTimeout = Annotated[
    float | None,
    typer.Option(
        "--first-token-timeout",
        min=0.001,
        help="Seconds to the first token, model load and prefill included (600).",
    ),
]
IdleTimeout = Annotated[
    float | None,
    typer.Option(
        "--idle-timeout", min=0.001, help="Seconds a stream may go silent between chunks (120)."
    ),
]


def timeouts(connect: float | None, first_token: float | None, idle: float | None) -> Timeouts:
    """The timeout flags as ``Timeouts`` (unset ones keep the endpoint's defaults)."""
    return Timeouts(
        connect_timeout_s=connect, first_token_timeout_s=first_token, idle_timeout_s=idle
    )


class AnalysisShape(StrEnum):
    auto = "auto"
    json = "json"
    lines = "lines"


class ReportMode(StrEnum):
    auto = "auto"
    compose = "compose"
    full = "full"


AnalysisShapeOpt = Annotated[
    AnalysisShape,
    typer.Option(
        "--analysis-shape",
        help="How the model answers the analysis: json (a schema the server enforces, fact ids "
        "as an enum, or a grammar in-process) or lines ('[F3] statement'); auto: json for a "
        "model under 1B parameters, else lines.",
    ),
]
ReportModeOpt = Annotated[
    ReportMode,
    typer.Option(
        "--report-mode",
        help="compose (Chimera lays out the report, the model writes the summary) or full (the "
        "model writes every section); auto: compose for a model under 1B parameters (the "
        "server's card or the name says), else full.",
    ),
]
ExtraOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-o",
        help="Any other option as NAME=VALUE (repeatable), e.g. -o num_batch=256 -o stop=END.",
    ),
]


def build_options(where: str, extra: list[str] | None, **named: Any) -> InferenceOptions:
    """Options from named flags plus ``NAME=VALUE`` pairs; invalid ones give one ConfigError."""
    values: dict[str, Any] = {k: v for k, v in named.items() if v is not None}
    for pair in extra or []:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--option")
        name = name.strip().replace("-", "_")
        values[name] = [raw] if name == "stop" else raw
    return InferenceOptions.parse(values, where=where)
