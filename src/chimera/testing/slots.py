"""Parallel slots with a prompt cache each, routed as llama-server and Ollama's runner route.

A slot remembers the tokens its last request left in its cache. A new request takes the free
slot whose cache shares the longest prefix with its prompt; with no shared prefix, the least
recently used free slot (with unlimited slots: the lowest free index, a fresh one if none is
free). With every slot busy, requests wait first in, first out (``OLLAMA_NUM_PARALLEL``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field


def common_prefix(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """How many leading items ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class Claim:
    """A slot taken for one request."""

    index: int
    cached: int  # leading prompt tokens already in the slot's cache
    queue_ns: int  # time spent waiting for the slot; exactly 0 when none was needed


@dataclass(slots=True)
class _Slot:
    index: int
    tokens: Sequence[Hashable] = ()
    last_used: int = -1
    busy: bool = False


@dataclass(slots=True)
class SlotTable:
    """``size`` slots (0 = as many as there are requests); ``route`` = match prompts to caches.

    Without ``route`` a request takes the lowest free slot and nothing is compared, so the
    table costs next to nothing when no cache is modelled.
    """

    size: int
    route: bool = False
    _slots: list[_Slot] = field(default_factory=list)
    _free: list[int] = field(default_factory=list)  # a heap of free indices
    _waiters: deque[asyncio.Future[int]] = field(default_factory=deque)
    _clock: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self._slots = [_Slot(i) for i in range(self.size)]
        self._free = list(range(self.size))

    @property
    def unlimited(self) -> bool:
        return self.size == 0

    async def acquire(self, prompt: Sequence[Hashable] = ()) -> Claim:
        """Take the best free slot for ``prompt``, waiting in line if none is free."""
        if self._waiters or not (self._free or self.unlimited):
            return await self._wait(prompt)
        slot = self._take(self._pick(prompt))
        return Claim(slot.index, self._cached(slot, prompt), 0)

    def release(self, index: int, tokens: Sequence[Hashable] = ()) -> None:
        """The request on slot ``index`` ended; ``tokens`` is what its cache now holds."""
        slot = self._slots[index]
        slot.tokens = tokens if self.route else ()
        slot.last_used = next(self._clock)
        self._hand_on(slot)

    def cached_tokens(self, index: int) -> Sequence[Hashable]:
        return self._slots[index].tokens

    def _hand_on(self, slot: _Slot) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot.index)  # stays busy: the waiter owns it now
                return
        slot.busy = False
        heapq.heappush(self._free, slot.index)

    async def _wait(self, prompt: Sequence[Hashable]) -> Claim:
        started = time.perf_counter_ns()
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            index = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._hand_on(self._slots[waiter.result()])  # handed a slot while cancelled
            else:
                self._waiters.remove(waiter)
            raise
        slot = self._slots[index]
        return Claim(index, self._cached(slot, prompt), time.perf_counter_ns() - started)

    def _pick(self, prompt: Sequence[Hashable]) -> int:
        """The index of the free slot a request for ``prompt`` takes (may be a new one)."""
        if not self._free:
            self._slots.append(_Slot(len(self._slots)))
            return len(self._slots) - 1
        if not self.route:
            return self._free[0]
        free = [self._slots[i] for i in self._free]
        best = max(free, key=lambda s: (common_prefix(s.tokens, prompt), -s.last_used))
        if common_prefix(best.tokens, prompt) > 0:
            return best.index
        if self.unlimited:
            return self._free[0]
        return min(free, key=lambda s: s.last_used).index

    def _take(self, index: int) -> _Slot:
        if self._free and self._free[0] == index:
            heapq.heappop(self._free)
        elif index in self._free:
            self._free.remove(index)
            heapq.heapify(self._free)
        slot = self._slots[index]
        slot.busy = True
        return slot

    def _cached(self, slot: _Slot, prompt: Sequence[Hashable]) -> int:
        return common_prefix(slot.tokens, prompt) if self.route else 0
