"""The live picture over HTTP: ``POST /picture/scan`` (a replay server's step, docs/tactical.md)."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.responses import Out
from truceline.api.security import CALLER, FILERS, endpoint
from truceline.errors import ConflictError
from truceline.service.auth import Principal
from truceline.service.replay_clock import RecordingPicture, scan_at

router = APIRouter(tags=["tracks"])


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: float = Field(description="The recording step's time, epoch seconds: not before the newest report "
                      "nor the previous scan.", examples=[1633608301.0])


class AlertEventOut(Out):
    change: str = Field(description="opened | updated | closed")
    alert_id: str
    kind: str = Field(description="conflict | incursion | nonconformance")
    subject: list[str] = Field(description="The track ids, and a zone or operation id.")
    stage: str
    at_s: float
    last_seen_s: float


class ScanOut(Out):
    at_s: float
    tracks: int
    findings: int
    events: list[AlertEventOut]


@endpoint(router, "POST", "/picture/scan", FILERS, operation_id="scan_picture",
          responses={409: {"description": "Not a replay server, or a time before the newest report or the "
                                          "previous scan (problem+json)."}})
async def scan_picture(body: ScanIn, request: Request, principal: Principal = CALLER) -> ScanOut:
    """Scan a replay server's picture at a recording step's time (TRUCELINE_SCAN_CLOCK=tracks only)."""
    picture = request.app.state.picture
    if not isinstance(picture, RecordingPicture):
        raise ConflictError("this server scans at its own clock (TRUCELINE_SCAN_CLOCK=wall): a feeder "
                            "cannot step it", field="at")
    result = await run_in_threadpool(scan_at, request.app.state.live, picture, body.at)
    events = [
        AlertEventOut(change=e.change.value, alert_id=e.alert_id, kind=e.finding.kind.value,
                      subject=list(e.finding.subject), stage=e.finding.stage, at_s=e.at_s,
                      last_seen_s=e.last_seen_s)
        for e in result.events
    ]
    return ScanOut(at_s=body.at, tracks=result.tracks, findings=result.findings, events=events)


__all__ = ["router"]
