"""One request of a load run as measured: when it was due and sent, its timings and outcome."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from chimera.errors import BackendError, ServerHTTPError
from chimera.load.spec import LoadLevel

Status = Literal["ok", "failed", "cancelled"]


@dataclass(slots=True)
class RequestRecord:
    """Times in seconds from the level's start (``*_s``) or milliseconds (``*_ms``); None =
    not known. ``sent_s`` is when the generator dispatched the request, ``queue_ms`` the wait
    from there until its first byte went out (a free connection, a TCP connect), ``ttft_ms``
    and ``e2e_ms`` run from that first byte (the backend's socket clock)."""

    index: int
    level: int
    warmup: bool
    status: Status = "failed"
    error_type: str | None = None
    error: str | None = None
    scheduled_s: float | None = None  # open loop: when the schedule said to send it
    sent_s: float = 0.0
    done_s: float = 0.0
    queue_ms: float | None = None
    ttft_ms: float | None = None
    ttfot_ms: float | None = None  # the answer's first token, after any reasoning
    e2e_ms: float | None = None
    itl_ms: list[float] = field(default_factory=list)  # every gap between chunks
    tpot_ms: float | None = None  # (e2e - ttft) / (output tokens - 1)
    output_tokens: int | None = None
    prompt_tokens: int | None = None
    load_ms: float | None = None
    prompt_eval_ms: float | None = None
    eval_ms: float | None = None
    server_total_ms: float | None = None
    done_reason: str | None = None
    chunks: int = 0
    estimated: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        """In the level's figures: measured (not warm-up) and finished (not cancelled)."""
        return not self.warmup and self.status != "cancelled"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def error_type(exc: BaseException) -> str:
    """A short, stable name for a failure: ``http_500``, ``stream_cut``, ``empty_response``,
    ``server_unreachable``, ``first_token_timeout``, ..."""
    if isinstance(exc, ServerHTTPError):
        return f"http_{exc.status}"
    name = type(exc).__name__
    # "Error" goes where the rest names the failure (StreamCutError: stream_cut); a one-word
    # rest keeps it (StreamError, the server's error event mid-stream: stream_error)
    rest = name.removesuffix("Error")
    if isinstance(exc, BackendError) and re.search(r".[A-Z]", rest):
        name = rest
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(slots=True)
class LevelRun:
    """What one level produced: every request's record and the generator's own figures."""

    index: int
    level: LoadLevel
    records: list[RequestRecord] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the event loop thread's CPU time over the level
    loop_lag_ms: list[float] = field(default_factory=list)
    stopped: str | None = None  # why dispatching stopped early (a dead server)
    interrupted: bool = False
    t0_ns: int = 0  # the level's start, perf_counter_ns (one clock for every process)
    telemetry: list[dict[str, Any]] = field(default_factory=list)  # server samples, t_s
