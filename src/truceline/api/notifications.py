"""Humanitarian notification over HTTP: notify a site or a movement, read each party's state,
acknowledge or dispute a version, the board-of-inquiry status question, the HXL export."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import NOT_BLANK, STORABLE
from truceline.api.operations import ConflictOut
from truceline.api.responses import Number, Out
from truceline.api.security import CALLER, EVERYONE, PARTICIPANTS, endpoint, service_of, signed_request
from truceline.domain.notification import LeadTimes, OnConflict, SiteType
from truceline.domain.party import NOTIFYING_ROLES
from truceline.errors import ValidationError
from truceline.geo.timewindow import require_utc
from truceline.service import notifications
from truceline.service.auth import Principal

router = APIRouter(tags=["notifications"])

NotificationId = Path(min_length=1, max_length=64, pattern=STORABLE)
HASH_PATTERN = r"^[0-9a-f]{64}$"
CSV_SCHEMA = {"type": "string"}


class GeometryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["Point", "LineString"] = Field(description="Point: a site; LineString: a movement's route.")
    coordinates: list[Any] = Field(
        description="[lon, lat] for a Point; a list of [lon, lat] waypoints for a LineString.",
        max_length=1000,
    )


class NotificationPropertiesIn(BaseModel):
    """The properties of a site (Point) or a movement (LineString); docs/humanitarian.md."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    organisation: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    site_type: SiteType | None = Field(default=None, description="A site's kind.")
    protection_radius_m: Number | None = Field(default=None, description="A site's protection radius.")
    valid_from: str | None = Field(default=None, description="RFC 3339: a site's start.")
    valid_to: str | None = Field(default=None, description="RFC 3339: a site's end; absent: standing.")
    departure: str | None = Field(default=None, description="RFC 3339: a movement's departure.")
    arrival: str | None = Field(default=None, description="RFC 3339: a movement's arrival.")
    waypoint_times: list[str] | None = Field(
        default=None, max_length=1000, description="RFC 3339 time of each waypoint (or departure, arrival)."
    )
    corridor_m: Number | None = Field(default=None, description="A movement's corridor half-width.")
    time_margin_s: int | None = Field(default=None, description="Seconds before and after each part's time.")
    vehicles: int | None = None
    markings: str | None = Field(default=None, max_length=10_000, pattern=STORABLE)
    emergency: bool | None = Field(default=None, description="A 24 h lead time instead of 48 h.")
    ceiling_m: Number | None = Field(default=None, description="Top of the protected band (m AMSL).")
    priority: Literal["routine", "high", "urgent"] | None = None
    acknowledge_within_s: int | None = Field(default=None, description="Each party's deadline (seconds).")
    on_conflict: OnConflict | None = Field(default=None, description="warn (default) or refuse filings.")
    parties: list[str] | None = Field(
        default=None, max_length=100, description="Only these parties (names); absent: every party concerned."
    )


class NotificationIn(BaseModel):
    """A GeoJSON Feature (RFC 7946): a site (Point) or a movement (LineString)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Feature"]
    geometry: GeometryIn
    properties: NotificationPropertiesIn
    id: str | None = Field(default=None, description="Ignored: the register names the notification.")


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hash: str = Field(pattern=HASH_PATTERN, description="The version: its entry's leaf hash (hex).")


class DisputeIn(VersionIn):
    reason: str = Field(min_length=1, max_length=10_000, pattern=NOT_BLANK)


class WarningOut(Out):
    field: str
    message: str


class NotificationCreatedOut(Out):
    id: str
    version: int
    hash: str = Field(description="Hex SHA-256 leaf hash of the entry: the version parties acknowledge.")
    kind: Literal["site", "movement"]
    recipients: list[str] = Field(description="The parties it was delivered to (names).")
    message_id: str = Field(description="The hotline message that delivered it.")
    warnings: list[WarningOut] = Field(description="A notification later than the lead time, and the like.")
    conflicts: list[ConflictOut] = Field(description="Operations already filed that it meets.")
    messages: list[str] = Field(description="The hotline messages telling those conflicts.")


class PartyStateOut(Out):
    party: str
    state: Literal["delivered", "acknowledged", "disputed"]
    version: int | None = Field(description="The version acknowledged or disputed.")
    hash: str | None
    at: str | None = Field(description="RFC 3339: when it answered (delivered: when it was told).")
    reason: str | None
    deadline: str | None = Field(default=None, description="RFC 3339: the hotline delivery's deadline.")
    escalations: int = 0


class NotificationOut(Out):
    id: str
    kind: Literal["site", "movement"]
    name: str
    organisation: str
    notifier: str
    version: int
    hash: str
    seq: int = Field(description="The notification entry's index in the log.")
    notified_at: str
    on_conflict: Literal["warn", "refuse"]
    start: str | None
    end: str | None
    status: Literal["delivered", "partly_acknowledged", "acknowledged", "disputed"]
    feature: dict[str, Any] = Field(description="The notification as a GeoJSON Feature.")
    parties: list[PartyStateOut]


class ResponseOut(Out):
    id: str
    party: str
    state: Literal["acknowledged", "disputed"]
    version: int
    hash: str
    at: str | None


class StatusPartyOut(Out):
    party: str
    state: Literal["delivered", "acknowledged", "disputed"]
    version: int | None
    hash: str | None
    at: str | None
    reason: str | None
    current_version_acknowledged: bool = Field(description="It had acknowledged the version then in force.")
    proof: dict[str, Any] | None = Field(description="Inclusion proof of its response entry (RFC 9162).")


class StatusNotificationOut(Out):
    id: str
    kind: Literal["site", "movement"]
    name: str
    organisation: str
    notifier: str
    version: int
    hash: str
    notified_at: str
    feature: dict[str, Any]
    proof: dict[str, Any] = Field(description="Inclusion proof of the notification entry.")
    parties: list[StatusPartyOut]


class StatusOut(Out):
    at: str
    lon: Number
    lat: Number
    radius_m: Number
    tree_size: int
    sth: dict[str, Any] = Field(description="The signed tree head every proof leads to.")
    notifications: list[StatusNotificationOut]


def _leads(request: Request) -> LeadTimes:
    return getattr(request.app.state, "notice_leads", None) or notifications.DEFAULT_LEADS


@endpoint(router, "POST", "/notifications", NOTIFYING_ROLES, status_code=201, operation_id="notify")
async def notify(
    body: NotificationIn, request: Request, principal: Principal = CALLER
) -> NotificationCreatedOut:
    """Notify a site (Point) or a movement (LineString) to every party concerned; each gets a
    hotline message to acknowledge. Late notification is accepted with a warning."""
    feature = body.model_dump(exclude_none=True)
    feature["properties"] = body.properties.model_dump(exclude_none=True)
    result = await run_in_threadpool(
        notifications.submit, service_of(request), principal, feature, _leads(request),
        signed_request(request),
    )  # fmt: skip
    return NotificationCreatedOut.of(result)


@endpoint(router, "GET", "/notifications", EVERYONE, operation_id="list_notifications")
async def list_all(request: Request, principal: Principal = CALLER) -> list[NotificationOut]:
    """The notifications the caller may see, oldest first, with each party's state."""
    found = await run_in_threadpool(notifications.list_notifications, service_of(request), principal)
    return NotificationOut.many(found)


@endpoint(
    router,
    "GET",
    "/notifications.csv",
    EVERYONE,
    operation_id="export_notifications_hxl",
    response_class=Response,
    responses={200: {"description": "HXL-tagged CSV", "content": {"text/csv": {"schema": CSV_SCHEMA}}}},
)
async def export_hxl(request: Request, principal: Principal = CALLER) -> Response:
    """The notifications as HXL-tagged CSV (#org+name, #loc+name, #geo+lat, #geo+lon, ...)."""
    text = await run_in_threadpool(notifications.hxl_export, service_of(request), principal)
    return Response(text, media_type="text/csv; charset=utf-8")


@endpoint(router, "GET", "/notifications/status", EVERYONE, operation_id="notification_status")
async def status(
    request: Request,
    at: str = Query(min_length=1, max_length=40, description="RFC 3339 with a timezone: the moment."),
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    radius_m: float = Query(0.0, ge=0, le=notifications.MAX_STATUS_RADIUS_M),
    principal: Principal = CALLER,
) -> StatusOut:
    """Which notified sites and movements were in force near a point at a time, which version
    each party had acknowledged by then, with the ledger proofs and the signed tree head."""
    try:
        moment = require_utc(datetime.fromisoformat(at), "at")
    except ValueError:
        raise ValidationError(f"not an RFC 3339 time: {at!r}", field="at") from None
    found = await run_in_threadpool(
        notifications.status, service_of(request), principal, moment, lon, lat, radius_m
    )
    return StatusOut.of(found)


@endpoint(router, "GET", "/notifications/{notification_id}", EVERYONE, operation_id="get_notification")
async def get_one(
    request: Request, notification_id: str = NotificationId, principal: Principal = CALLER
) -> NotificationOut:
    """One notification: its feature, version, and each party's state and time."""
    found = await run_in_threadpool(
        notifications.get_notification, service_of(request), principal, notification_id
    )
    return NotificationOut.of(found)


@endpoint(
    router, "POST", "/notifications/{notification_id}/acknowledge", PARTICIPANTS,
    operation_id="acknowledge_notification",
)  # fmt: skip
async def acknowledge(
    body: VersionIn, request: Request, notification_id: str = NotificationId, principal: Principal = CALLER
) -> ResponseOut:
    """Acknowledge the notification's current version, named by its hash (signed with the
    request when the party holds a request key)."""
    found = await run_in_threadpool(
        notifications.acknowledge, service_of(request), principal, notification_id, body.hash,
        signed_request(request),
    )  # fmt: skip
    return ResponseOut.of(found)


@endpoint(
    router, "POST", "/notifications/{notification_id}/dispute", PARTICIPANTS,
    operation_id="dispute_notification",
)  # fmt: skip
async def dispute(
    body: DisputeIn, request: Request, notification_id: str = NotificationId, principal: Principal = CALLER
) -> ResponseOut:
    """Dispute the current version with a reason ("coordinates wrong"); the notifier is told.
    A dispute is not a denial: the notification stands."""
    found = await run_in_threadpool(
        notifications.dispute, service_of(request), principal, notification_id, body.hash, body.reason,
        signed_request(request),
    )  # fmt: skip
    return ResponseOut.of(found)
