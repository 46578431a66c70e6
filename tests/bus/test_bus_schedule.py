"""The periodic loops tick on a fixed grid: a tick's own time does not stretch the period, and
a tick that overran skips to the next time on the grid (bus/schedule.py)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline.bus.schedule import fixed_rate


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def ticks(interval_s: float, work_s: list[float]) -> tuple[list[float], list[float]]:
    """The times each tick was due and ran, each tick taking its ``work_s``."""
    clock = FakeTime()
    start = clock.now
    due_times, ran = [], []

    async def run() -> None:
        beats = fixed_rate(interval_s, monotonic=clock.monotonic, sleep=clock.sleep)
        for work in work_s:
            due_times.append(await anext(beats) - start)
            ran.append(clock.now - start)
            clock.now += work

    asyncio.run(run())
    return due_times, ran


def test_a_tick_s_own_time_does_not_stretch_the_period() -> None:
    due, ran = ticks(2.0, [0.17] * 5)
    assert due == ran == [2.0, 4.0, 6.0, 8.0, 10.0]  # sleeping 2 s after each: 2, 4.17, 6.34, ...


def test_a_tick_that_overran_skips_to_the_next_time_on_the_grid() -> None:
    due, ran = ticks(2.0, [0.1, 4.5, 0.1, 0.1])
    assert due == [2.0, 4.0, 10.0, 12.0]  # the 2nd ran to 8.5: 6 and 8 are skipped, not caught up
    assert ran == due


@given(st.floats(0.05, 10.0), st.lists(st.floats(0.0, 30.0), min_size=1, max_size=30))
def test_ticks_are_on_the_grid_never_early_and_never_two_at_once(interval_s: float, work_s: list[float]
                                                                 ) -> None:
    due, ran = ticks(interval_s, work_s)
    for k, (d, r) in enumerate(zip(due, ran, strict=True)):
        assert r >= d - 1e-9  # never before it was due
        assert abs(d / interval_s - round(d / interval_s)) < 1e-6  # on the grid
        if k:
            assert due[k - 1] + interval_s <= d + 1e-9  # at least one interval apart
            assert d <= ran[k - 1] + work_s[k - 1] + interval_s + 1e-6  # no later than needed


def test_an_interval_that_is_no_positive_number_is_refused() -> None:
    async def first(interval_s: float) -> float:
        return await anext(fixed_rate(interval_s))

    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="interval_s"):
            asyncio.run(first(bad))
