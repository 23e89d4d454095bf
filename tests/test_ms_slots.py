"""PrioritySlots: page reads go before queued $batch posts, and the bound on requests in flight always holds.

Pure asyncio, no network: the slots are the connector's own scheduling, exercised with real tasks on a real loop.
"""

from __future__ import annotations

import asyncio

import pytest

from connectors.microsoft.slots import PrioritySlots


async def _hold(slots: PrioritySlots, name: str, order: list[str], peak: list[int], *, urgent: bool,
                release: asyncio.Event) -> None:
    async with slots.slot(urgent=urgent):
        order.append(name)
        peak[0] = max(peak[0], slots.in_flight)
        await release.wait()


def test_an_urgent_waiter_overtakes_queued_bulk_ones_and_the_bound_holds() -> None:
    async def scenario() -> tuple[list[str], int]:
        slots = PrioritySlots(2)
        order: list[str] = []
        peak = [0]
        release = asyncio.Event()
        tasks = [asyncio.create_task(_hold(slots, f"batch{i}", order, peak, urgent=False, release=release))
                 for i in range(6)]
        await asyncio.sleep(0)  # batch0 and batch1 hold the two slots; batch2..5 queue
        tasks.append(asyncio.create_task(_hold(slots, "page", order, peak, urgent=True, release=release)))
        await asyncio.sleep(0)
        assert order == ["batch0", "batch1"] and slots.in_flight == 2
        release.set()
        await asyncio.gather(*tasks)
        assert slots.in_flight == 0
        return order, peak[0]

    order, peak = asyncio.run(scenario())
    assert order[2] == "page"  # first through once a slot is free, though it asked after four batches
    assert order[3:] == ["batch2", "batch3", "batch4", "batch5"]  # the rest in arrival order
    assert peak == 2


async def _cancel_second_of_three(*, cancel_after_handoff: bool) -> tuple[list[str], int]:
    """One slot: 'first' holds it, 'second' (urgent) and 'third' wait; 'second' is cancelled either while still
    queued or just after 'first' handed it the slot but before it ran. 'third' must get the slot either way."""
    slots = PrioritySlots(1)
    order: list[str] = []
    peak = [0]
    gate = asyncio.Event()
    first = asyncio.create_task(_hold(slots, "first", order, peak, urgent=False, release=gate))
    await asyncio.sleep(0)
    second = asyncio.create_task(_hold(slots, "second", order, peak, urgent=True, release=gate))
    third = asyncio.create_task(_hold(slots, "third", order, peak, urgent=False, release=gate))
    await asyncio.sleep(0)
    if cancel_after_handoff:
        gate.set()
        await asyncio.sleep(0)  # 'first' leaves and hands its slot to 'second', which has not run yet
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, third), 5)  # a lost slot would hang here
    assert slots.in_flight == 0
    return order, peak[0]


def test_a_cancelled_waiter_leaves_no_hole_and_takes_no_slot() -> None:
    assert asyncio.run(_cancel_second_of_three(cancel_after_handoff=False)) == (["first", "third"], 1)


def test_a_waiter_cancelled_just_as_it_is_handed_the_slot_passes_it_on() -> None:
    assert asyncio.run(_cancel_second_of_three(cancel_after_handoff=True)) == (["first", "third"], 1)


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)
