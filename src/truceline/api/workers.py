"""``GET /workers``: who scans which part of the world, and how far behind (bus/workers.py).

Any authenticated party may read it: which worker owns which shard of cells, and how far
each is behind, say nothing about a party's tracks or operations (need-to-know is about
those), and a duty officer of any party must be able to see that detection for an area is
late. The same figures are in ``/metrics`` (``truceline_worker_*``).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import Field

from truceline.api.responses import Out
from truceline.api.security import CALLER, EVERYONE, endpoint
from truceline.bus.workers import WorkersView
from truceline.domain.clock import from_epoch_s
from truceline.service.auth import Principal

router = APIRouter(tags=["workers"])


class WorkerOut(Out):
    name: str
    alive: bool = Field(description="Its heartbeat is younger than the lease time (3 s) and it did not stop.")
    clock: str = Field(description="wall, or tracks (scans at the newest report's time: replays).")
    shards: list[int] = Field(description="The lease shards it scanned at its last step.")
    scanned_at: datetime | None = Field(description="The scan time of its last step.")
    heartbeat: datetime
    pending_messages: int = Field(description="Messages of the TRACKS stream not yet delivered to it.")
    behind_s: float | None = Field(
        description="How far its last scan is behind: the newest report it took minus the newest it "
        "scanned (tracks clock), or the wall clock minus the newest it scanned (wall clock)."
    )
    open_alerts: int = Field(description="The open alerts it carries.")
    steps: int


class ShardOut(Out):
    shard: int = Field(description="A lease shard: the 1-degree cells c with (c * 2654435761 mod 2^32) "
                       "mod 32 equal to it, c = row * 360 + column from 90 S, 180 W (docs/operations.md).")
    owner: str
    expires: datetime
    expired: bool


class WorkersOut(Out):
    mode: str = Field(description="in-process: `serve` scans itself; nats: workers share the scan.")
    group: str | None
    workers: list[WorkerOut]
    shards: list[ShardOut]


@endpoint(router, "GET", "/workers", EVERYONE, operation_id="list_workers")
async def list_workers(request: Request, principal: Principal = CALLER) -> WorkersOut:
    """Each worker's shards and lag, and each shard's lease (owner, expiry)."""
    reader = request.app.state.workers
    if reader is None:
        return WorkersOut(mode="in-process", group=None, workers=[], shards=[])
    view: WorkersView = await reader.refresh()
    return WorkersOut(mode="nats", group=reader.group, workers=[
        WorkerOut(name=w.name, alive=w.alive(view.read_at_s), clock=w.clock, shards=list(w.shards),
                  scanned_at=None if w.scanned_s is None else from_epoch_s(w.scanned_s),
                  heartbeat=from_epoch_s(w.heartbeat_s), pending_messages=w.pending, behind_s=w.behind_s,
                  open_alerts=len(w.carried), steps=w.steps)
        for w in view.workers
    ], shards=[
        ShardOut(shard=lease.shard, owner=lease.owner, expires=from_epoch_s(lease.expires_s),
                 expired=lease.expires_s < view.read_at_s)
        for lease in view.leases
    ])


__all__ = ["router"]
