"""``GET /workers`` and the workers' gauges of ``/metrics``: the shards' owners and expiry, and
each worker's lag, read from the buckets the workers write (the real NATS server; the
buckets written here as a worker writes them)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest
from api_kit import World, running_server, sqlite_url
from test_api_nats import NATS_URL, _reachable

from truceline.api.app import create_app
from truceline.bus.leases import Leases, lease_bucket
from truceline.bus.workers import WorkerStatus, bucket_names
from truceline.service.partition import N_SHARDS
from truceline.service.worker_detection import Carried

pytestmark = pytest.mark.skipif(
    not _reachable() and not os.environ.get("CI"), reason=f"no NATS server at {NATS_URL}"
)


async def _write(group: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    lease_name, status_name = bucket_names(group)
    await Leases(await lease_bucket(js, lease_name), "w1", N_SHARDS, ttl_s=600.0).cycle(N_SHARDS)
    statuses = await lease_bucket(js, status_name)
    now = time.time()
    carried = (Carried("01940000-0000-7000-8000-000000000000", ("conflict", "a", "b"), 1.0, 1.0, "los"),)
    await statuses.put("w1", WorkerStatus("w1", now, "tracks", 1633613700.0, tuple(range(N_SHARDS)), 7, 1.5,
                                          42, carried=carried).to_json())
    await statuses.put("w0", WorkerStatus("w0", now - 60, "tracks", 1633613600.0, (), 0, None, 3).to_json())
    await nc.close()


async def _drop(group: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    for bucket in bucket_names(group):
        await nc.jetstream().delete_key_value(bucket)
    await nc.close()


def test_the_owners_and_the_lag_of_the_workers(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    world.add("A")
    group = f"test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_write(group))
    app = create_app(world.service, clock, tick_interval_s=None, bus_url=NATS_URL, workers_group=group)
    try:
        with running_server(app) as url:
            shown = httpx.get(url + "/workers", headers=world.auth("A"), timeout=10).json()
            anonymous = httpx.get(url + "/workers", timeout=10)
            metrics = httpx.get(url + "/metrics", timeout=10).text
    finally:
        asyncio.run(_drop(group))
        world.close()
    assert anonymous.status_code == 401
    assert (shown["mode"], shown["group"]) == ("nats", group)
    assert [(s["shard"], s["owner"], s["expired"]) for s in shown["shards"]] == [
        (shard, "w1", False) for shard in range(N_SHARDS)]
    w0, w1 = shown["workers"]
    assert (w1["name"], w1["alive"], w1["pending_messages"], w1["behind_s"], w1["open_alerts"]) == (
        "w1", True, 7, 1.5, 1)
    assert w1["scanned_at"] == "2021-10-07T13:35:00Z" and len(w1["shards"]) == N_SHARDS
    assert (w0["name"], w0["alive"], w0["behind_s"]) == ("w0", False, None)  # its heartbeat is a minute old
    assert 'truceline_worker_pending_messages{worker="w1"} 7.0' in metrics
    assert 'truceline_worker_behind_seconds{worker="w1"} 1.5' in metrics
    assert f'truceline_worker_shards{{worker="w1"}} {float(N_SHARDS)}' in metrics
    assert 'truceline_worker_alive{worker="w0"} 0.0' in metrics
    assert "truceline_shards_unowned 0.0" in metrics


def test_an_in_process_server_says_so(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    world.add("A")
    app = create_app(world.service, clock, tick_interval_s=None)
    try:
        with running_server(app) as url:
            shown = httpx.get(url + "/workers", headers=world.auth("A"), timeout=10).json()
    finally:
        world.close()
    assert shown == {"mode": "in-process", "group": None, "workers": [], "shards": []}
