"""Tracks in over HTTP: ``POST /tracks``, a batch of the caller's state vectors (JSON or CSV)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import is_csv_media_type
from truceline.api.responses import Out
from truceline.api.security import CALLER, FILERS, endpoint, service_of
from truceline.errors import FormatError
from truceline.service import tracks
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


__all__ = ["router"]
