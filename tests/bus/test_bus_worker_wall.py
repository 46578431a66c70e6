"""A worker on the wall clock (the default): it takes every shard when alone, scans every
interval at the wall clock, and commits the conflict of two parties' tracks published over
NATS (the real server; the tracks are stamped with the wall clock, as a gateway's are)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_bus_leases import NATS_URL, _reachable

from truceline.bus.nats import SUBJECT as EVENTS_SUBJECT
from truceline.bus.tracks import publish_batch
from truceline.bus.workers import Worker, bucket_names
from truceline.domain.clock import utc_now
from truceline.ledger.keys import raw_public_key
from truceline.service.parties import add_party
from truceline.service.partition import N_SHARDS
from truceline.service.register import open_register
from truceline.service.service import Service

pytestmark = pytest.mark.skipif(not _reachable() and not os.environ.get("CI"), reason="no NATS")
KM_PER_DEG_LAT = 111.2


def test_a_lone_worker_on_the_wall_clock_commits_the_conflict(tmp_path: Path) -> None:
    service = Service(open_register(f"sqlite:///{tmp_path / 'w.db'}", utc_now))
    keys = {p: Ed25519PrivateKey.generate() for p in "AB"}
    ids = {p: add_party(service, p, request_key=base64.b64encode(raw_public_key(k.public_key())).decode())
           .party.id for p, k in keys.items()}
    group = f"test_{uuid.uuid4().hex[:10]}"
    worker = Worker(NATS_URL, service, "solo", group=group, scan_interval_s=0.3, renew_s=0.2)

    def opened() -> list[dict[str, object]]:
        with service.engine.connect() as conn:
            return [e.payload for e in service.ledger.entries(conn) if e.type == "alert.opened"]

    async def scenario() -> tuple[int, list[dict[str, object]]]:
        import nats

        running = asyncio.create_task(worker.run())
        for _ in range(200):  # bounded: alone, it takes every shard
            if len(worker.progress.shards) == N_SHARDS:
                break
            await asyncio.sleep(0.05)
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        woken: list[bytes] = []

        async def wake_up(message: Any) -> None:
            woken.append(message.data)

        await nc.subscribe(EVENTS_SUBJECT, cb=wake_up)
        found: list[dict[str, object]] = []
        for _ in range(100):  # bounded: published until the scan finds it
            now = time.time()
            for party, lat, heading in (("A", 35.0, 0.0), ("B", 35.0 + 20 / KM_PER_DEG_LAT, 180.0)):
                state = {"id": f"{party.lower()}1", "time": now, "lat": lat, "lon": 36.0, "alt_m": 3000.0,
                         "alt_ref": "AMSL", "velocity": 200.0, "heading": heading, "vertrate": 0.0}
                body = json.dumps({"states": [state]}).encode()
                await publish_batch(js, ids[party], keys[party], body, f"test-{uuid.uuid4()}")
            await asyncio.sleep(0.2)
            found = opened()
            if found:
                break
        for _ in range(50):  # bounded: the wake-up follows the commit
            if woken:
                break
            await asyncio.sleep(0.1)
        wakes.extend(woken)
        shards = len(worker.progress.shards)
        await nc.close()
        worker.stop()
        await asyncio.wait_for(running, 15)
        return shards, found

    wakes: list[bytes] = []
    try:
        shards, found = asyncio.run(scenario())
    finally:
        async def drop() -> None:
            import nats

            nc = await nats.connect(NATS_URL)
            for bucket in bucket_names(group):
                await nc.jetstream().delete_key_value(bucket)
            await nc.close()

        asyncio.run(drop())
        service.engine.dispose()
    assert shards == N_SHARDS
    assert [(p["kind"], p["subject"]) for p in found] == [("conflict", ["a1", "b1"])]
    assert abs(float(found[0]["at_s"]) - time.time()) < 600  # scanned at the wall clock, not 1970
    # The servers' streams were woken by the commit (bus/nats.py), not left to their keep-alive.
    assert wakes and all(json.loads(w)["seq"] is not None for w in wakes)
