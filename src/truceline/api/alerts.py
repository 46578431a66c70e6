"""The open live alerts: ``GET /alerts``, what the map draws before the stream tells it more
(a conflict between two tracks as a line, an incursion on its zone)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from truceline.api.security import CALLER, PARTICIPANTS, endpoint, service_of
from truceline.api.stream import AlertOut
from truceline.service import tracks
from truceline.service.auth import Principal

router = APIRouter(tags=["tracks"])


@endpoint(router, "GET", "/alerts", PARTICIPANTS, operation_id="list_alerts")
async def list_alerts(request: Request, principal: Principal = CALLER) -> list[AlertOut]:
    """The live alerts still open that the caller was told of (guarantors, observers and the
    admin: every one), oldest first, as the stream's alert events carry them."""
    found = await run_in_threadpool(tracks.open_alerts, service_of(request), principal)
    return AlertOut.many(found)


__all__ = ["router"]
