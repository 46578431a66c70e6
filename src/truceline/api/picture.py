"""The live picture over HTTP: ``GET /picture`` (what the caller may see: tracks, shapes, open
alerts; read by ``truceline tak``) and ``POST /picture/scan`` (a replay server's step,
docs/tactical.md)."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.responses import Out
from truceline.api.security import CALLER, FILERS, PARTICIPANTS, endpoint, service_of
from truceline.domain.clock import from_epoch_s
from truceline.errors import ConflictError
from truceline.service.auth import Principal
from truceline.service.picture_view import picture_for
from truceline.service.replay_clock import RecordingPicture, picture_time_s, scan_at

router = APIRouter(tags=["tracks"])


class PictureTrackOut(Out):
    id: str
    party: str
    own: bool = Field(description="The caller's own party's track (a TAK friend; every other is neutral).")
    callsign: str
    time_s: float
    lat: float
    lon: float
    hae_m: float | None = Field(description="Height above the WGS84 ellipsoid; null when not known "
                                "(pressure altitude, AGL).")
    alt_m: float | None
    alt_ref: str
    speed_mps: float
    course_deg: float
    on_ground: bool


class PictureShapeOut(Out):
    id: str
    kind: str = Field(description="zone | site | movement")
    name: str
    party: str
    ring: list[tuple[float, float]] = Field(description="(lon, lat) vertices; closed for a zone, a route "
                                            "for a movement; empty for a circle.")
    circle: tuple[float, float, float] | None = Field(description="(lon, lat, radius_m)")
    start_s: float | None
    end_s: float | None
    remarks: str


class PictureAlertOut(Out):
    id: str
    kind: str
    subject: list[str]
    stage: str
    lat: float
    lon: float
    opened_s: float
    last_seen_s: float


class PictureOut(Out):
    at_s: float
    viewer: str
    track_max_age_s: float
    tracks: list[PictureTrackOut]
    shapes: list[PictureShapeOut]
    alerts: list[PictureAlertOut]
    horizon_s: float


@endpoint(router, "GET", "/picture", PARTICIPANTS, operation_id="get_picture")
async def get_picture(request: Request, principal: Principal = CALLER) -> PictureOut:
    """The live picture the caller may see (need-to-know: docs/operations.md, "TAK out").

    Tracks (its own, and others' that concern it), active zones, humanitarian sites and
    movements in force, and the open alerts it was told of."""
    picture = request.app.state.picture
    service = service_of(request)
    now = service.clock()
    recorded = picture_time_s(picture) if isinstance(picture, RecordingPicture) else None
    if recorded is not None:
        now = from_epoch_s(recorded)  # a replay server's time is its recording's
    view = await run_in_threadpool(picture_for, service, picture, principal, now,
                                   request.app.state.live.settings.detection)
    return PictureOut.model_validate(view.to_json())


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: float = Field(description="The recording step's time, epoch seconds: not before the newest report "
                      "nor the previous scan.", examples=[1633608301.0])


class AlertEventOut(Out):
    change: str = Field(description="opened | updated | closed")
    alert_id: str
    kind: str = Field(description="conflict | incursion | nonconformance | proximity")
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
