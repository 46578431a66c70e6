"""Incidents: observers' reports (GeoJSON Features) filed exactly once with a receipt; their
states (verify, dispute, withdraw); queries, per-zone statistics and exports (CSV with
ACLED's column names, GeoJSON)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from truceline.api.edge import NOT_BLANK, STORABLE
from truceline.api.log import TreeHeadOut
from truceline.api.responses import Number, Out
from truceline.api.security import CALLER, EVERYONE, endpoint, service_of, signed_request
from truceline.config import IncidentSettings, load_incident_settings
from truceline.domain.clock import to_ms
from truceline.domain.incident import Category, Grade, State
from truceline.domain.party import DISPUTING_ROLES, REPORTING_ROLES, VERIFYING_ROLES
from truceline.errors import ValidationError
from truceline.io.fields import parse_rfc3339
from truceline.io.incidents import feature_collection, write_csv
from truceline.ledger.canonical import b64encode
from truceline.ledger.keys import fingerprint
from truceline.service import incidents
from truceline.service.auth import Principal

router = APIRouter(tags=["incidents"])

# An incident id is a UUIDv7: only such a segment routes to /incidents/{incident_id}, so
# that /incidents/batch is its own path (GET there is a 405, not "no incident 'batch'").
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class _IncidentIdConvertor(Convertor[str]):
    regex = _UUID

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("incident", _IncidentIdConvertor())
ONE = "/incidents/{incident_id:incident}"  # the path of one incident
IncidentId = Path(min_length=36, max_length=36, pattern=f"^{_UUID}$")
ZoneId = Path(min_length=1, max_length=200, pattern=STORABLE)
MAX_LIST = 10_000


def settings_of(request: Request) -> IncidentSettings:
    settings = getattr(request.app.state, "incident_settings", None)
    return settings if settings is not None else load_incident_settings()


class IncidentFeatureIn(BaseModel):
    """A report: a GeoJSON Feature whose properties are the report's fields (docs/incidents.md)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [36.2, 35.1]},
                    "properties": {
                        "instance_id": "uuid:6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f",
                        "observed_start": "2017-07-10T08:00:00Z",
                        "bearing_deg": 157.5,
                        "distance_min_m": 1000,
                        "distance_max_m": 4500,
                        "category": "shelling",
                        "observation": "heard",
                        "count": [3, 5],
                        "fatalities": None,
                        "description": "Three to five impacts heard south-south-east",
                        "language": "en",
                    },
                }
            ]
        },
    )
    type: Literal["Feature"]
    id: Annotated[str, Field(strict=True)] | Annotated[int, Field(strict=True)] | None = None
    bbox: list[Annotated[float, Field(strict=True)]] | None = None
    geometry: dict[str, Any] = Field(description="A GeoJSON Point or Polygon (lon, lat).")
    properties: dict[str, Any] = Field(description="The report's fields (docs/incidents.md).")


class IncidentBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    features: list[dict[str, Any]] = Field(
        min_length=1, max_length=incidents.MAX_BATCH, description="Report Features, each filed on its own."
    )


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=incidents.MAX_REASON_CHARS, pattern=NOT_BLANK)


class OptionalReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, min_length=1, max_length=incidents.MAX_REASON_CHARS, pattern=NOT_BLANK)


class ZoneRelationOut(Out):
    zone_id: str
    relation: Literal["inside", "possibly_inside"] = Field(
        description="inside: the whole uncertainty area is in the zone; possibly_inside: it crosses "
        "the border."
    )


class CorroborationOut(Out):
    incident_id: str = Field(description="The other report.")
    gap_m: Number = Field(description="Distance between the two uncertainty areas (0: they meet).")
    gap_s: Number = Field(description="Time between the two observed ranges (0: they overlap).")


class ReceiptOut(Out):
    """An inclusion proof of the report's ledger entry with the entry and a signed tree head:
    keep it; `truceline log verify-receipt FILE` checks it offline (docs/incidents.md)."""

    format: Literal["truceline-receipt/1"]
    leaf_index: int
    tree_size: int
    entry: str = Field(description="The entry's canonical JSON text.")
    leaf_hash: str
    root_hash: str
    inclusion_path: list[str]
    sth: TreeHeadOut


class IncidentViewOut(Out):
    id: str
    instance_id: str
    reporter: str = Field(description="The reporting party's name.")
    state: State
    grade: Grade
    category: Category
    observation: str
    observed_start: str
    observed_end: str
    observed_span_s: Number
    longitude: Number = Field(description="A point inside the uncertainty area.")
    latitude: Number
    uncertainty_m: Number = Field(description="How far the uncertainty area reaches from that point.")
    zones: list[ZoneRelationOut]
    corroborations: list[CorroborationOut] = Field(description="Suggested by the register.")
    deprecated_id: str | None = Field(description="The instance this report replaces (an edit).")
    superseded_by: str | None = Field(description="The incident that replaced this one.")
    leaf_index: int = Field(description="Its incident.reported ledger entry.")
    reported_at: str
    report: dict[str, Any] = Field(description="The report as filed.")


class IncidentOut(IncidentViewOut):
    receipt: ReceiptOut


class StepOut(Out):
    seq: int
    step: str = Field(description="reported | corroborated | verified | disputed | withdrawn.")
    party: str | None
    reason: str | None
    at: str


class IncidentDetailOut(IncidentOut):
    steps: list[StepOut]


class BatchProblemOut(Out):
    type: str = Field(description="The problem type's slug (as urn:truceline:problem:<slug>).")
    detail: str
    field: str


class BatchItemOut(Out):
    index: int
    status: Literal[200, 201, 403, 404, 409, 422]
    incident: IncidentOut | None = None
    problem: BatchProblemOut | None = None


class CountsOut(Out):
    total: int = Field(description="Reports not withdrawn.")
    by_category: dict[str, int]
    by_state: dict[str, int]


class PeriodOut(Out):
    start: str
    inside: CountsOut
    possibly_inside: CountsOut


class TotalsOut(Out):
    inside: CountsOut
    possibly_inside: CountsOut


class ZoneStatsOut(Out):
    zone_id: str
    from_: str = Field(alias="from")
    to: str
    by: Literal["day", "week"]
    periods: list[PeriodOut]
    totals: TotalsOut
    access_denied_by_party: dict[str, int] = Field(description="By the party the report attributes it to.")
    disputed_by_party: dict[str, int] = Field(description="Reports disputed, by disputing party.")


def _moment(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time, or a date (its UTC midnight)."""
    if value is None:
        return None
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"must be a date or an RFC 3339 date-time, got {value!r}", field=name
            ) from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parse_rfc3339(value, error=lambda m: ValidationError(m, field=name))


def _filter(
    zone: str | None, since: str | None, until: str | None, category: str | None, state: str | None
) -> incidents.Filter:
    start, end = _moment(since, "since"), _moment(until, "until")
    return incidents.Filter(
        zone_id=zone,
        since_ms=None if start is None else to_ms(start),
        until_ms=None if end is None else to_ms(end),
        category=category,
        state=state,
    )


TextQuery = Annotated[str | None, Query(max_length=200, pattern=STORABLE)]
CategoryQuery = Annotated[Category | None, Query()]
StateQuery = Annotated[State | None, Query()]


_RESEND = {200: {"model": IncidentOut, "description": "A resend: the first answer; nothing written."}}


@endpoint(router, "POST", "/incidents", REPORTING_ROLES, status_code=201, operation_id="report_incident",
          responses=_RESEND)  # fmt: skip
async def report(
    body: IncidentFeatureIn, request: Request, response: Response, principal: Principal = CALLER
) -> IncidentOut:
    """File a report (a GeoJSON Feature). 201 with its receipt; the same `instance_id` with
    the same content again: 200 and the first answer, nothing written; with other content: 409."""
    filed = await run_in_threadpool(
        incidents.report,
        service_of(request),
        principal,
        {"type": "Feature", "geometry": body.geometry, "properties": body.properties},
        settings_of(request),
        signed_request(request),
    )
    if not filed.created:
        response.status_code = 200
    return IncidentOut.of(filed.answer)


@endpoint(router, "POST", "/incidents/batch", REPORTING_ROLES, operation_id="report_incidents")
async def report_batch(
    body: IncidentBatchIn, request: Request, principal: Principal = CALLER
) -> list[BatchItemOut]:
    """File several reports, each on its own (an offline device's queue); one answer per item,
    in order, with the status it would get alone."""
    answers = await run_in_threadpool(
        incidents.report_batch,
        service_of(request),
        principal,
        body.features,
        settings_of(request),
        signed_request(request),
    )
    return BatchItemOut.many(answers)


class ReceiptKeyOut(Out):
    """The key that signs receipts' tree heads, for a device to pin while it is online."""

    public_key: str = Field(description="Base64 of the log's raw 32-byte Ed25519 public key.")
    fingerprint: str = Field(description="How people name it: sha256: and 32 hex digits.")


@endpoint(router, "GET", "/incidents/receipt-key", EVERYONE, operation_id="get_receipt_key")
async def receipt_key(request: Request) -> ReceiptKeyOut:
    """The log's public key, to check receipts offline (as `truceline log public-key` prints it).

    Any caller may read it: an observer cannot read /log/sth, yet must pin the key at login
    so that a receipt signed by another key (a stand-in server) fails on the device."""
    raw = service_of(request).ledger.public_key
    return ReceiptKeyOut(public_key=b64encode(raw), fingerprint=fingerprint(raw))


@endpoint(router, "GET", "/incidents", EVERYONE)
async def list_incidents(
    request: Request,
    zone: TextQuery = None,
    since: TextQuery = None,
    until: TextQuery = None,
    category: CategoryQuery = None,
    state: StateQuery = None,
) -> list[IncidentViewOut]:
    """Reports, oldest observation first: `zone` (attributed to it), observed between `since`
    and `until` (RFC 3339 or a date), `category`, `state`."""
    where = _filter(zone, since, until, category, state)
    found = await run_in_threadpool(incidents.list_incidents, service_of(request), where, MAX_LIST)
    return IncidentViewOut.many(found)


@endpoint(router, "GET", "/incidents.csv", EVERYONE, operation_id="export_incidents_csv",
          response_class=Response,
          responses={200: {"description": "CSV (RFC 4180) with ACLED's column names first, then Truceline's.",
                           "content": {"text/csv": {"schema": {"type": "string"}}}}})  # fmt: skip
async def export_csv(
    request: Request,
    zone: TextQuery = None,
    since: TextQuery = None,
    until: TextQuery = None,
    category: CategoryQuery = None,
    state: StateQuery = None,
) -> Response:
    """The reports as CSV: ACLED's columns (`event_id_cnty`, `event_date`, ... `timestamp`)
    where one exists, then Truceline's (`truceline_...`). Same filters as GET /incidents."""
    where = _filter(zone, since, until, category, state)
    found = await run_in_threadpool(incidents.list_incidents, service_of(request), where, MAX_LIST)
    return Response(write_csv(found), media_type="text/csv; charset=utf-8")


@endpoint(router, "GET", "/incidents.geojson", EVERYONE, operation_id="export_incidents_geojson",
          response_class=Response,
          responses={200: {"description": "A GeoJSON FeatureCollection (RFC 7946).",
                           "content": {"application/geo+json": {"schema": {"type": "object"}}}}})  # fmt: skip
async def export_geojson(
    request: Request,
    zone: TextQuery = None,
    since: TextQuery = None,
    until: TextQuery = None,
    category: CategoryQuery = None,
    state: StateQuery = None,
) -> Response:
    """The reports as a GeoJSON FeatureCollection, each geometry as filed. Same filters as
    GET /incidents."""
    import json

    where = _filter(zone, since, until, category, state)
    found = await run_in_threadpool(incidents.list_incidents, service_of(request), where, MAX_LIST)
    return Response(json.dumps(feature_collection(found)), media_type="application/geo+json")


@endpoint(router, "GET", ONE, EVERYONE)
async def get_incident(request: Request, incident_id: str = IncidentId) -> IncidentDetailOut:
    """One report with its receipt, grade, zones, corroborations and every step."""
    return IncidentDetailOut.of(
        await run_in_threadpool(incidents.get_incident, service_of(request), incident_id)
    )


@endpoint(router, "POST", ONE + "/dispute", DISPUTING_ROLES, operation_id="dispute_incident")
async def dispute(
    body: ReasonIn, request: Request, incident_id: str = IncidentId, principal: Principal = CALLER
) -> IncidentDetailOut:
    """Dispute another's report, with a reason (kept as written)."""
    answer = await run_in_threadpool(
        incidents.dispute, service_of(request), principal, incident_id, body.reason, signed_request(request)
    )
    return IncidentDetailOut.of(answer)


@endpoint(router, "POST", ONE + "/verify", VERIFYING_ROLES, operation_id="verify_incident")
async def verify(
    request: Request,
    body: OptionalReasonIn | None = None,
    incident_id: str = IncidentId,
    principal: Principal = CALLER,
) -> IncidentDetailOut:
    """Verify another's report (an observer or a guarantor); its grade becomes verified."""
    reason = None if body is None else body.reason
    answer = await run_in_threadpool(
        incidents.verify, service_of(request), principal, incident_id, reason, signed_request(request)
    )
    return IncidentDetailOut.of(answer)


@endpoint(router, "POST", ONE + "/withdraw", REPORTING_ROLES, operation_id="withdraw_incident")
async def withdraw(
    request: Request,
    body: OptionalReasonIn | None = None,
    incident_id: str = IncidentId,
    principal: Principal = CALLER,
) -> IncidentDetailOut:
    """Withdraw one's own report (final)."""
    reason = None if body is None else body.reason
    answer = await run_in_threadpool(
        incidents.withdraw, service_of(request), principal, incident_id, reason, signed_request(request)
    )
    return IncidentDetailOut.of(answer)


@endpoint(router, "GET", "/zones/{zone_id}/incidents/stats", EVERYONE, operation_id="zone_incident_stats")
async def zone_stats(
    request: Request,
    zone_id: str = ZoneId,
    from_: str = Query(alias="from", max_length=40, pattern=STORABLE, description="RFC 3339 or a date."),
    to: str = Query(max_length=40, pattern=STORABLE, description="RFC 3339 or a date (exclusive)."),
    by: Literal["day", "week"] = Query("day"),
) -> ZoneStatsOut:
    """Counts of the reports attributed to the zone, per day or week (UTC), by category and
    state, inside and possibly inside; access denials per party and disputes per party."""
    start, end = _moment(from_, "from"), _moment(to, "to")
    assert start is not None and end is not None
    found = await run_in_threadpool(incidents.zone_stats, service_of(request), zone_id, start, end, by)
    return ZoneStatsOut.of(found)
