"""In-process notification that new events were committed.

The live stream waits here instead of polling the database: a commit (in any thread)
calls ``publish``, and every waiting stream (on the server's event loop) wakes and reads
its new rows from the events table. The events table stays the truth, so a stream that
missed a wake-up (or reconnects) loses nothing: it reads from its last event id. A NATS
JetStream adapter would publish the same wake-ups across processes.
"""

from __future__ import annotations

import asyncio
import threading


class Notifier:
    """Wake-ups for waiters on asyncio loops, published from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.generation = 0  # bumped on every publish: a waiter compares to see it missed one

    def publish(self, *_args: object) -> None:
        """Wake every waiter (callable from any thread; extra arguments are ignored so that
        it can subscribe to ``Service.subscribers`` directly)."""
        with self._lock:
            self.generation += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait(self, generation: int, timeout_s: float) -> int:
        """Wait until a publish after ``generation`` or ``timeout_s``; returns the current
        generation (equal to ``generation`` on a timeout)."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.generation != generation:
                return self.generation
            self._waiters.add(key)
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(key)
        return self.generation
