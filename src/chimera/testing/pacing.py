"""Sleeping until absolute deadlines, corrected for how late the event loop wakes up.

An event loop's timers wake late: epoll and libuv count in whole milliseconds and the kernel
adds slack (0.1% of a long sleep). Measured here, a 200 ms sleep ends 0.2 to 1 ms late, which
would show up in every TTFT a client measures. The pacer learns the mean lateness of its own
wake-ups and asks for that much less, so tokens leave on time on average; it never asks for
more than ``MAX_BIAS_S`` less, so no token leaves more than that early.
"""

from __future__ import annotations

import asyncio
import time

MAX_BIAS_S = 0.001
_GAIN = 0.1  # weight of one wake-up in the running estimate of lateness


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Pacer:
    """Sleeps until deadlines on ``time.monotonic()``; one per server, shared by its requests."""

    def __init__(self) -> None:
        self.bias_s = 0.0

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic() - self.bias_s
        if delay <= 0:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        handle = loop.call_later(delay, _wake, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
        late = time.monotonic() - deadline
        self.bias_s = min(MAX_BIAS_S, max(0.0, self.bias_s + _GAIN * late))
