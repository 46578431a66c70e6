"""A worker's picture must hold every report of the stream: a message its consumer skipped is
read from ``TRACKS`` by number before the next one is taken, and one delivered again (after
the consumer was recreated) is dropped (``Worker._in_order``). On the real NATS server."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from test_bus_leases import NATS_URL, _reachable

from truceline.bus.tracks import MSG_ID_HEADER, ensure_stream, subject_of
from truceline.bus.workers import Worker
from truceline.domain.clock import utc_now
from truceline.service.register import open_register
from truceline.service.service import Service

pytestmark = pytest.mark.skipif(not _reachable() and not os.environ.get("CI"), reason="no NATS")


def test_messages_the_consumer_skipped_are_read_from_the_stream_in_order(tmp_path: Path) -> None:
    service = Service(open_register(f"sqlite:///{tmp_path / 'g.db'}", utc_now))
    worker = Worker(NATS_URL, service, "gaps", group=f"test_{uuid.uuid4().hex[:10]}")
    tag = uuid.uuid4().hex[:10]
    subject = subject_of(f"gap-{tag}")  # no such party: only the envelope's order matters here

    async def scenario() -> None:
        import nats
        from nats.js.api import DeliverPolicy

        nc = await nats.connect(NATS_URL)
        try:
            js = worker._js = nc.jetstream()
            await ensure_stream(js)
            acks = [await js.publish(subject, f"body {k}".encode(), headers={MSG_ID_HEADER: f"{tag}-{k}"})
                    for k in range(4)]
            sub = await js.subscribe(subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
            delivered = [await sub.next_msg(timeout=5) for _ in range(4)]
            (first,) = await worker._in_order(delivered[0])
            assert (first.data, first.stream_seq) == (b"body 0", acks[0].seq)
            # Messages 1 and 2 never reached the worker: the 4th brings them, in the stream's order
            # (with whatever other subjects' messages lie between, as the worker's own consumer of
            # every subject would have had them).
            taken = await worker._in_order(delivered[3])
            assert [d.stream_seq for d in taken] == list(range(acks[0].seq + 1, acks[3].seq + 1))
            assert [d.data for d in taken if d.subject == subject] == [b"body 1", b"body 2", b"body 3"]
            assert all(d.headers.get(MSG_ID_HEADER) for d in taken if d.subject == subject)
            assert await worker._in_order(delivered[2]) == []  # delivered again: taken already
            # The next message of the subject, with nothing else published between, comes alone.
            await js.publish(subject, b"body 4", headers={MSG_ID_HEADER: f"{tag}-4"})
            taken = await worker._in_order(await sub.next_msg(timeout=5))
            assert [d.data for d in taken if d.subject == subject] == [b"body 4"]
        finally:
            await nc.close()

    asyncio.run(scenario())
    service.engine.dispose()

