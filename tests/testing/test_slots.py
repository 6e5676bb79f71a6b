"""Slot routing: longest cached prefix, else least recently used; FIFO when all are busy."""

from __future__ import annotations

import asyncio

import pytest

from chimera.testing.slots import SlotTable, common_prefix


def test_common_prefix() -> None:
    assert common_prefix("abcd", "abxy") == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix((), [1]) == 0


async def test_a_prompt_goes_to_the_slot_that_cached_its_prefix() -> None:
    table = SlotTable(2, route=True)
    a, b = await table.acquire("ab"), await table.acquire("xy")
    assert (a.index, b.index, a.cached, b.cached) == (0, 1, 0, 0)
    table.release(a.index, "abcd")
    table.release(b.index, "xyz")
    again = await table.acquire("xyzw")
    assert (again.index, again.cached) == (1, 3)
    other = await table.acquire("abq")
    assert (other.index, other.cached) == (0, 2)


async def test_without_a_shared_prefix_the_least_recently_used_slot() -> None:
    table = SlotTable(3, route=True)
    claims = [await table.acquire(p) for p in ("a", "b", "c")]
    for claim, tokens in zip(claims, ("a", "b", "c"), strict=True):
        table.release(claim.index, tokens)  # slot 0 used longest ago
    assert (await table.acquire("z")).index == 0


async def test_unlimited_slots_take_the_lowest_free_index() -> None:
    table = SlotTable(0, route=True)
    claims = [await table.acquire("p") for _ in range(3)]
    assert [c.index for c in claims] == [0, 1, 2]
    table.release(1, "q")
    table.release(0, "r")
    assert (await table.acquire("z")).index == 0  # no shared prefix: the lowest free
    assert (await table.acquire("qq")).index == 1  # a shared prefix wins


async def test_without_routing_nothing_is_cached() -> None:
    table = SlotTable(1)
    claim = await table.acquire("abc")
    table.release(claim.index, "abc")
    assert (await table.acquire("abc")).cached == 0


async def test_busy_slots_queue_first_in_first_out() -> None:
    table = SlotTable(1, route=True)
    first = await table.acquire("a")
    order: list[str] = []

    async def wait(name: str) -> None:
        claim = await table.acquire(name)
        order.append(name)
        assert claim.queue_ns > 0
        table.release(claim.index, name)

    waiting = [asyncio.create_task(wait(n)) for n in ("b", "c")]
    await asyncio.sleep(0.01)
    table.release(first.index, "a")
    await asyncio.gather(*waiting)
    assert order == ["b", "c"]


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    table = SlotTable(1)
    first = await table.acquire()
    second = asyncio.create_task(table.acquire())
    third = asyncio.create_task(table.acquire())
    await asyncio.sleep(0)
    table.release(first.index)  # handed to the second, which is cancelled before it runs
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert (await asyncio.wait_for(third, 1)).index == 0
