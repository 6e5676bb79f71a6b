"""Per-call metrics from the client's stream clock and the server's own timings (pure)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from chimera.calls import CallMetrics, CallTotals, call_totals
from chimera.stats import percentile

__all__ = ["CallTotals", "ServerTimings", "StreamClock", "call_totals", "compute_metrics"]

NS_PER_MS = 1_000_000


@dataclass(slots=True)
class ServerTimings:
    """What a server reported about one call, in nanoseconds and tokens; None = not reported."""

    load_ns: int | None = None
    prompt_eval_ns: int | None = None
    eval_ns: int | None = None
    total_ns: int | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


class StreamClock:
    """Records when the request went out and when each non-empty chunk arrived, and when the
    answer proper began: the first chunk after any reasoning (``answer_ns``).

    Reasoning is text sent apart from the answer (``reasoning``) or a ``<think>...</think>``
    block at the start of the text (``content`` reads the text for it, a tag split over
    chunks included). Without reasoning the answer begins with the first chunk."""

    __slots__ = (
        "_head",
        "_state",
        "answer_ns",
        "chunk_ns",
        "end_ns",
        "first_ns",
        "reasoned",
        "start_ns",
    )

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.chunk_ns: list[int] = []
        self.end_ns: int | None = None
        self.answer_ns: int | None = None  # the answer's first chunk, after any reasoning
        self.first_ns: int | None = None  # the first content chunk (not reasoning)
        self.reasoned = False
        self._state = "start"  # start -> think -> after, or start -> answer
        self._head = ""  # the text not yet decided on (start), or the tail to find </think>

    @property
    def unanswered(self) -> bool:
        """Reasoning came and no answer text after it (so far)."""
        return self.reasoned and self.answer_ns is None

    def reasoning(self, t_ns: int) -> None:
        """A chunk of reasoning sent apart from the answer: a token, not the answer."""
        self.chunk_ns.append(t_ns)
        if self.answer_ns is None:
            self.reasoned = True

    def content(self, t_ns: int, text: str) -> None:
        """A chunk of the text: a token, and perhaps the answer's first."""
        self.chunk_ns.append(t_ns)
        if self.first_ns is None:
            self.first_ns = t_ns
        if self.answer_ns is None:
            self._read(t_ns, text)

    def _read(self, t_ns: int, text: str) -> None:
        self._head += text
        if self._state == "start":
            head = self._head.lstrip()
            if head.startswith(THINK_OPEN):
                self._state, self._head, self.reasoned = "think", head[len(THINK_OPEN) :], True
            elif not head or THINK_OPEN.startswith(head):
                return  # nothing yet, or a tag's start: undecided
            elif self.reasoned:  # reasoning came apart: the answer's first text
                self._state = "after"
            else:
                self.answer_ns = self.first_ns  # no reasoning: the first chunk
                return
        if self._state == "think":
            end = self._head.find(THINK_CLOSE)
            if end < 0:
                self._head = self._head[-len(THINK_CLOSE) :]
                return
            self._state, self._head = "after", self._head[end + len(THINK_CLOSE) :]
        if self._head.strip():
            self.answer_ns = t_ns
        else:
            self._head = ""


def compute_metrics(
    clock: StreamClock, server: ServerTimings, done_reason: str | None
) -> CallMetrics:
    """Combine client and server measurements into CallMetrics.

    Server figures win where present; where absent, what the stream allows is derived and
    listed in ``estimated``; what cannot be derived stays None.
    """
    estimated: list[str] = []
    times = clock.chunk_ns
    m = CallMetrics(done_reason=done_reason, chunks=len(times))
    if times:
        m.ttft_ms = (times[0] - clock.start_ns) / NS_PER_MS
    if clock.answer_ns is not None:
        m.ttfot_ms = (clock.answer_ns - clock.start_ns) / NS_PER_MS
    elif not clock.reasoned:  # no reasoning seen (or chunks stamped without their text)
        m.ttfot_ms = m.ttft_ms
    if clock.end_ns is not None:
        m.e2e_ms = (clock.end_ns - clock.start_ns) / NS_PER_MS
    if len(times) >= 2:
        gaps = sorted((b - a) / NS_PER_MS for a, b in itertools.pairwise(times))
        m.itl_ms_mean = sum(gaps) / len(gaps)
        m.itl_ms_p50 = percentile(gaps, 50)
        m.itl_ms_p99 = percentile(gaps, 99)

    def ms(ns: int | None) -> float | None:
        return None if ns is None else ns / NS_PER_MS

    m.load_ms = ms(server.load_ns)
    m.prompt_eval_ms = ms(server.prompt_eval_ns)
    m.eval_ms = ms(server.eval_ns)
    m.server_total_ms = ms(server.total_ns)
    m.prompt_tokens = server.prompt_tokens

    m.output_tokens = server.output_tokens
    if m.output_tokens is None and times:
        m.output_tokens = len(times)  # one chunk per token is how every streaming server sends
        estimated.append("output_tokens")

    if m.eval_ms is not None and m.eval_ms > 0 and m.output_tokens is not None:
        m.decode_tokens_per_s = m.output_tokens / (m.eval_ms / 1000.0)
    elif len(times) >= 2:
        # Decode seen from the client: the gaps after the first token, one token each.
        # Chunks that arrived in one packet show no decode time: nothing can be said then.
        span_s = (times[-1] - times[0]) / 1e9
        if span_s > 0:
            m.decode_tokens_per_s = (len(times) - 1) / span_s
            estimated.append("decode_tokens_per_s")
            if m.eval_ms is None:
                m.eval_ms = span_s * 1000.0
                estimated.append("eval_ms")

    if m.prompt_eval_ms is not None and m.prompt_eval_ms > 0 and m.prompt_tokens is not None:
        m.prefill_tokens_per_s = m.prompt_tokens / (m.prompt_eval_ms / 1000.0)
    m.estimated = estimated
    return m
