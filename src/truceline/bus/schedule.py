"""Ticks on a fixed grid of times, for the periodic loops (the live scan of ``serve`` and of
``truceline worker``).

Sleeping the interval after each tick stretches the period by the tick's own time: a 170 ms
scan every "2 s" then comes every 2.17 s, and a report waits up to that long for the scan
that finds it (bench/live.py measured p99 3.0 s against a goal of 2.2 s with 20,000 live
tracks). Here the next tick is due ``interval_s`` after the previous one was due; a tick that
ran past the next's time skips to the next time on the grid after now (no burst of ticks to
catch up).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable


async def fixed_rate(interval_s: float, *, monotonic: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> AsyncIterator[float]:
    """Yield (the time it was due) every ``interval_s`` > 0, on a grid from now."""
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"interval_s must be a positive number of seconds, got {interval_s!r}")
    due = monotonic() + interval_s
    while True:
        await sleep(max(0.0, due - monotonic()))
        yield due
        due += interval_s
        now = monotonic()
        if due <= now:
            due += (math.floor((now - due) / interval_s) + 1) * interval_s


__all__ = ["fixed_rate"]
