"""Commit wake-ups between server processes over NATS JetStream (``TRUCELINE_BUS=nats://…``).

Several ``truceline serve`` processes on one database each hold their own in-process
``Notifier``; a commit in one must wake the streams open on the others. The bridge
publishes each commit's last sequence number on ``truceline.events`` (kept in the
JetStream stream ``TRUCELINE`` for an hour, so an operator can see the traffic) and wakes
the local notifier for every message it receives. The events table stays the truth: a
lost wake-up only delays delivery to the next keep-alive, it never loses an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from truceline.bus.notify import Notifier

SUBJECT = "truceline.events"
STREAM = "TRUCELINE"

_log = logging.getLogger("truceline.bus")


class NatsBridge:
    def __init__(self, url: str, notifier: Notifier, subject: str = SUBJECT) -> None:
        self.url = url
        self.notifier = notifier
        self.subject = subject
        self._nc: Any = None
        self._js: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Connect, make sure the stream exists, and subscribe (on the running loop)."""
        import nats
        from nats.js.api import StreamConfig

        self._loop = asyncio.get_running_loop()
        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        config = StreamConfig(name=STREAM, subjects=[self.subject], max_age=3600.0)
        try:
            await self._js.add_stream(config)
        except Exception:  # it exists with another configuration: use it as it is
            _log.info("JetStream stream %s exists; using it", STREAM)
        await self._nc.subscribe(self.subject, cb=self._received)

    async def _received(self, _message: Any) -> None:
        self.notifier.publish()

    def publish(self, entries: list[Any]) -> None:
        """Subscriber of ``Service.subscribers`` (called from any thread after a commit)."""
        if self._js is None or self._loop is None or self._loop.is_closed():
            return
        data = json.dumps({"seq": entries[-1].seq if entries else None}).encode()
        future = asyncio.run_coroutine_threadsafe(self._js.publish(self.subject, data), self._loop)
        future.add_done_callback(_log_failure)

    async def stop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
            self._js = None


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        _log.warning("NATS publish failed: %s", future.exception())
