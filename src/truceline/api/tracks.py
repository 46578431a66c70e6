"""Tracks over HTTP: ``POST /tracks``, a batch of the caller's state vectors (JSON or CSV), and
``GET /tracks``, the live picture with a short trail per track (the map's layer)."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import is_csv_media_type
from truceline.api.responses import Out
from truceline.api.security import CALLER, FILERS, PARTICIPANTS, endpoint, service_of
from truceline.errors import FormatError
from truceline.service import picture_view, tracks
from truceline.service.auth import Principal

router = APIRouter(tags=["tracks"])

STATE_EXAMPLE = {
    "id": "4b1814",
    "time": 1499673600.0,
    "lat": 48.85,
    "lon": 2.35,
    "alt_m": 3048.0,
    "alt_ref": "W84",
    "velocity": 210.0,
    "heading": 90.0,
    "vertrate": 0.0,
    "onground": False,
    "callsign": "SWR123",
}


class TracksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Items are free objects here: a row that does not fit is refused alone (202), not the batch.
    states: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=tracks.MAX_STATES,
        description=(
            "State vectors: `id` (1-64 of A-Z a-z 0-9 . _ : -), `time` (epoch seconds), `lat`, `lon`, "
            "`alt_m` (null only on the ground), `alt_ref` (W84 | AMSL | AGL | pressure), `velocity` "
            "(m/s), `heading` (degrees true), `vertrate` (m/s up), optional `onground`, `callsign`, "
            "`party` (the caller's own name only)."
        ),
    )


class RefusalOut(Out):
    index: int = Field(description="The row's index in the batch, from 0 (CSV: data rows).")
    field: str
    reason: str


class IngestedOut(Out):
    accepted: int
    refused: list[RefusalOut]


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": TracksIn.model_json_schema(),
                "example": {"states": [STATE_EXAMPLE]},
            },
            "text/csv": {"schema": {"type": "string", "description": "OpenSky state-vector columns."}},
        },
    }
}


@endpoint(
    router, "POST", "/tracks", FILERS, status_code=202, operation_id="submit_tracks", openapi_extra=_BODY
)
async def submit_tracks(request: Request, principal: Principal = CALLER) -> IngestedOut:
    """Report the caller's tracks (JSON `{"states": [...]}` or `text/csv`); bad rows are refused alone."""
    body = await request.body()
    picture = request.app.state.picture
    now = service_of(request).clock()
    if is_csv_media_type(request.headers.get("content-type", "")):
        result = await run_in_threadpool(tracks.submit_csv, picture, principal, body, now)
    else:
        result = await run_in_threadpool(tracks.submit_json, picture, principal, _states(body), now)
    return IngestedOut(accepted=result.accepted, refused=RefusalOut.many(result.refused))


def _states(body: bytes) -> list[Any]:
    """The rows of a JSON batch, checked against ``TracksIn`` (an object with a non-empty list
    of objects): a body of another shape is a 422 naming the member; each row's own fields
    are the service's to check, row by row."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(f"is not JSON: {error}", field="body") from None
    try:
        return TracksIn.model_validate(document).states
    except PydanticValidationError as error:
        raise RequestValidationError(error.errors()) from None


class LiveTrackOut(Out):
    """A live track: its latest state and its last positions."""

    id: str
    party: str
    callsign: str = Field(description="Empty when the party reports none.")
    time: float = Field(description="Epoch seconds of the latest state.")
    lat: float
    lon: float
    alt_m: float | None = Field(description="Null on the ground without an altitude.")
    alt_ref: str = Field(description="W84 | AMSL | AGL | pressure")
    velocity: float = Field(description="Ground speed, m/s.")
    heading: float = Field(description="Degrees true.")
    vertrate: float
    onground: bool
    trail: list[list[float]] = Field(
        description=f"The last positions `[time, lon, lat]`, oldest first (at most {tracks.TRAIL_POINTS}, "
        "the latest included)."
    )


def _live_out(live: tracks.LiveTrack) -> LiveTrackOut:
    t = live.track
    ref = t.altitude_reference
    return LiveTrackOut(
        id=t.id, party=t.party, callsign=live.callsign, time=t.time_s, lat=t.lat, lon=t.lon,
        alt_m=None if math.isnan(t.altitude_m) else t.altitude_m,
        alt_ref=tracks.PRESSURE if ref is None else ref.value,
        velocity=t.ground_speed_mps, heading=t.track_deg, vertrate=t.vertical_rate_mps, onground=t.on_ground,
        trail=[list(p) for p in live.trail],
    )


@endpoint(router, "GET", "/tracks", PARTICIPANTS, operation_id="list_tracks")
async def list_tracks(request: Request, principal: Principal = CALLER) -> list[LiveTrackOut]:
    """The live tracks the caller may see (need-to-know, as `GET /picture`: docs/operations.md,
    "TAK out"), each reported within the picture's age, with party, callsign, heading and its
    last positions (a short trail), by id. A party sees its own tracks, another party's only
    when it concerns it (a subject of an alert it was told of, or within reach of its own);
    guarantors, observers and admins see every track."""
    service = service_of(request)
    found = await run_in_threadpool(picture_view.live_tracks_for, service, request.app.state.picture,
                                    principal, service.clock(), request.app.state.live.settings.detection)
    return [_live_out(t) for t in found]


__all__ = ["router"]
