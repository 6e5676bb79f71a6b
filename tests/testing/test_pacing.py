"""The pacer wakes on time on average and never more than MAX_BIAS_S early."""

from __future__ import annotations

import time

from chimera.testing.pacing import MAX_BIAS_S, Pacer


async def test_wakes_no_earlier_than_the_bias_allows() -> None:
    pacer = Pacer()
    for _ in range(20):
        deadline = time.monotonic() + 0.005
        await pacer.sleep_until(deadline)
        assert time.monotonic() >= deadline - MAX_BIAS_S
        assert 0.0 <= pacer.bias_s <= MAX_BIAS_S


async def test_a_past_deadline_returns_at_once() -> None:
    pacer = Pacer()
    started = time.monotonic()
    await pacer.sleep_until(started - 1.0)
    assert time.monotonic() - started < 0.05
    assert pacer.bias_s == 0.0  # nothing slept, nothing learned
