"""``chimera load``'s flags read into a plan: the load mode, its levels, the request source,
and the live counts shown while a level runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from rich.console import Console

from chimera.errors import ConfigError
from chimera.load.records import RequestRecord
from chimera.load.spec import LoadLevel

M = TypeVar("M", bound=BaseModel)


def validated(cls: type[M], **fields: Any) -> M:
    """``cls(**fields)``; a validation error becomes one ConfigError naming the field."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise ConfigError(f"{where}: {first['msg']}") from None


class Status:
    """Live counts on stderr while a level runs."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.ok = self.failed = 0
        self.status = console.status("calibrating prompts", spinner="dots")

    def __call__(self, rec: RequestRecord) -> None:
        if rec.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
        self.status.update(f"level {rec.level + 1}: {self.ok} ok, {self.failed} failed")


def plan_levels(
    concurrency: int | None,
    rate: float | None,
    sweep: int | None,
    find_max: bool,
    trace: Path | None,
    arrival: str,
    burstiness: float,
) -> tuple[str, tuple[LoadLevel, ...]]:
    """The strategy and the fixed levels from the load flags: exactly one load mode."""
    given = [
        flag
        for flag, value in (
            ("--concurrency", concurrency),
            ("--rate", rate),
            ("--sweep", sweep),
            ("--find-max", find_max or None),
            ("--trace", trace),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise ConfigError(
            "give one load: --concurrency C (closed loop), --rate R (open loop), --sweep N, "
            "--find-max or --trace FILE" + (f" (got {' and '.join(given)})" if given else "")
        )
    if sweep is not None:
        return "sweep", ()
    if find_max:
        return "find_max", ()
    if rate is not None and rate <= 0:
        raise ConfigError("--rate must be above 0 requests per second")
    level = validated(
        LoadLevel,
        concurrency=concurrency,
        rate_rps=rate,
        arrival=arrival,
        burstiness=burstiness,
        trace=trace is not None,
    )
    return "fixed", (level,)


def check_sources(
    prompts: Path | None, trace: Path | None, agent_workload: Sequence[Path] | None
) -> None:
    """One source of requests at most; the agent workload's paths exist (checked before the
    server is asked anything)."""
    sources = [f for f, v in (("--prompts", prompts), ("--trace", trace)) if v is not None]
    if len(sources) + bool(agent_workload) > 1:
        raise ConfigError(
            "give one source of requests: --prompts, --trace or --agent-workload (got "
            + " and ".join(sources + ["--agent-workload"] * bool(agent_workload))
            + ")"
        )
    for path in agent_workload or ():
        if not path.exists():
            raise ConfigError(f"--agent-workload: {path} does not exist")
