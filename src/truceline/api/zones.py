"""Zones: propose, counter-propose, sign, reject, withdraw; versions and diffs; the list of
negotiated and imported zones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import NOT_BLANK, STORABLE
from truceline.api.f3548 import FORMAT, ConstraintF3548, FormatName, f3548_answer, f3548_response, wants_f3548
from truceline.api.responses import Out
from truceline.api.security import (
    CALLER,
    NEGOTIATORS,
    PARTICIPANTS,
    endpoint,
    service_of,
    signed_request,
)
from truceline.domain.zone import ZoneKind
from truceline.io.fields import query_moment
from truceline.service import f3548, negotiation
from truceline.service.auth import Principal

router = APIRouter(tags=["zones"])

ZoneId = Path(min_length=1, max_length=200, pattern=STORABLE)
Document = dict[str, Any] | list[Any]


class ZoneProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Document = Field(
        description="A GeoJSON profile FeatureCollection holding one zone, or an ED-269 document of one zone."
    )
    signatories: list[Annotated[str, Field(pattern=STORABLE)]] = Field(
        default_factory=list, max_length=50, description="Names of the parties whose signature it needs."
    )


class ReadWarningOut(Out):
    """What the reader accepted but could not represent exactly, or left out
    (``truceline.io.features.ReadWarning``)."""

    where: str = Field(description='The document and the zone, e.g. `body: zone 0 (identifier "A")`.')
    field: str = Field(description="The member at issue, e.g. `applicability[0].dailyPeriod[0]`.")
    message: str = Field(description="What was done with it.")


class ZoneVersionOut(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"zone_id": "dz-north", "version": 2, "hash": "3f" * 32, "warnings": []}]
        }
    )
    zone_id: str
    version: int
    hash: str = Field(description="SHA-256 hex of the version's canonical record.")
    warnings: list[ReadWarningOut] = Field(
        description="What the ED-269 reader read conservatively or skipped; empty for GeoJSON."
    )


class ZoneProposalOut(ZoneVersionOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "zone_id": "dz-north",
                    "version": 1,
                    "hash": "3f" * 32,
                    "required": ["A", "B"],
                    "warnings": [],
                }
            ]
        }
    )
    required: list[str] = Field(description="Names of the parties whose signature activates it.")


_ZONE_EXAMPLE: dict[str, Any] = {
    "id": "dz-north",
    "kind": "de_escalation",
    "name": "Northern de-escalation zone",
    "proposer": "A",
    "required": ["A", "B"],
    "state": "active",
    "current_version": 2,
    "current_hash": "3f" * 32,
    "active_version": 2,
    "signed_current": ["A", "B"],
    "ends_at": None,
    "origin": "negotiated",
    "binds": ["A", "B"],
}


class ZoneOut(Out):
    """A zone as listed: its negotiation state, or an imported zone's."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ZONE_EXAMPLE]})
    id: str
    kind: ZoneKind
    name: str
    proposer: str | None = Field(description="The proposing party's name (an imported zone's party).")
    required: list[str] = Field(description="Names of the parties whose signatures activate it.")
    state: str = Field(description="proposed | active | rejected | withdrawn | expired.")
    current_version: int
    current_hash: str = Field(description="SHA-256 hex of the current version's canonical record.")
    active_version: int | None = Field(description="The version in force, if any.")
    signed_current: list[str] = Field(description="Who has signed the current version.")
    ends_at: str | None = Field(description="RFC 3339 end of its last volume; null: standing.")
    origin: Literal["negotiated", "imported"]
    binds: list[str] | Literal["all"] = Field(
        description='The parties that signed the version in force, or "all" for an imported zone.'
    )


class ZoneStepOut(Out):
    seq: int = Field(description="The step's ledger entry index.")
    step: str = Field(description="proposed | counter_proposed | signed | activated | rejected | withdrawn.")
    party: str | None
    version: int | None
    reason: str | None
    at: str = Field(description="RFC 3339.")


class ZoneDetailOut(ZoneOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_ZONE_EXAMPLE,
                    "steps": [
                        {"seq": 7, "step": "proposed", "party": "A", "version": 1, "reason": None,
                         "at": "2026-01-01T12:00:00Z"},
                    ],
                }
            ]
        }
    )
    steps: list[ZoneStepOut] = Field(description="The negotiation steps, oldest first (none if imported).")


class ZoneVersionRecordOut(Out):
    version: int
    hash: str = Field(description="SHA-256 hex of the version's canonical record.")
    author: str = Field(description="The party that proposed it (`operator` for an imported zone).")
    proposed_at: str | None = Field(description="RFC 3339; null for an imported zone.")
    seq: int | None = Field(description="The ledger entry index; null for an imported zone.")
    signed_by: list[str]
    zone: dict[str, Any] = Field(description="The zone record of this version (docs/formats.md).")


class DiffFeaturePropertiesOut(Out):
    change: Literal["added", "removed"]
    area_km2: float | int
    zone: str
    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")


class DiffFeatureOut(Out):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any] = Field(description="A GeoJSON geometry.")
    properties: DiffFeaturePropertiesOut


class DiffPropertiesOut(Out):
    zone: str
    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    added_km2: float | int
    removed_km2: float | int


class ZoneDiffOut(Out):
    """A GeoJSON FeatureCollection of the area added and the area removed."""

    type: Literal["FeatureCollection"]
    features: list[DiffFeatureOut]
    properties: DiffPropertiesOut


class SignOut(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"zone_id": "dz-north", "version": 2, "signed": 2, "required": 2, "active": True}]
        }
    )
    zone_id: str
    version: int
    signed: int = Field(description="How many of the required parties have signed this version.")
    required: int = Field(description="How many signatures activate it.")
    active: bool = Field(description="Whether this signature activated the zone.")


class RejectOut(Out):
    zone_id: str
    version: int
    state: Literal["rejected"]


class WithdrawOut(Out):
    zone_id: str
    state: Literal["withdrawn"]


class ZoneVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Document = Field(
        description="The new version of the zone (same id), GeoJSON profile or ED-269."
    )


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000)
    hash: str = Field(
        min_length=64,
        max_length=64,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 hex of the version's canonical record.",
    )


class RejectIn(SignIn):
    reason: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


@endpoint(router, "POST", "/zones", NEGOTIATORS, status_code=201, operation_id="propose_zone")
async def propose(body: ZoneProposalIn, request: Request, principal: Principal = CALLER) -> ZoneProposalOut:
    """Propose a zone (version 1), naming the signatories it needs besides the proposer.
    `warnings` lists what an ED-269 document held that was read conservatively or skipped."""
    answer = await run_in_threadpool(
        negotiation.propose,
        service_of(request),
        principal,
        body.document,
        body.signatories,
        signed_request(request),
    )
    return ZoneProposalOut.of(answer)


# The map's time slider: a moment with its offset (a naive time would be read in no zone).
ZONES_AT = Query(
    None,
    max_length=64,
    description="RFC 3339 with an offset: the zones as the register knew them then, those with a "
    "volume in force then, each with its versions, signatures and state of then.",
)


@endpoint(router, "GET", "/zones", PARTICIPANTS)
async def list_zones(
    request: Request,
    state: Literal["proposed", "active", "rejected", "withdrawn", "expired"] | None = Query(None),
    at: str | None = ZONES_AT,
) -> list[ZoneOut]:
    """Every zone, negotiated or imported by the operator, with its state, versions in play,
    signatures, `origin` (negotiated | imported) and `binds`: the parties that signed the
    version in force, or "all" (an imported zone binds every party it restricts). `at`: the
    picture of that moment (docs/api.md, "The time slider"): the zones the register knew of
    then whose version in force then (else the current one then) has a volume in force then,
    each with the state, versions, signatures and `binds` it had then; a zone proposed later
    is absent. An imported zone has no history here: its windows alone decide."""
    moment = query_moment(at, "at")
    return ZoneOut.many(await run_in_threadpool(negotiation.list_zones, service_of(request), state, moment))


@endpoint(
    router,
    "GET",
    "/zones/{zone_id}",
    PARTICIPANTS,
    responses=f3548_response(ConstraintF3548, "an ASTM F3548 Constraint"),
)
async def get_zone(
    request: Request, zone_id: str = ZoneId, format: FormatName | None = FORMAT
) -> ZoneDetailOut:
    """One zone with its negotiation steps. As F3548 (`?format=f3548` or
    `Accept: application/vnd.astm.f3548+json`): a Constraint of the version in force (else
    the current one); 422 when it does not fit F3548 (no end time; AGL without a terrain
    model). A band in another reference than W84 is written widened outward, each such volume
    named in a `Truceline-Altitude-Conversion` header line."""
    service = service_of(request)
    if wants_f3548(request, format):
        base_url = str(request.base_url).rstrip("/")
        view = await run_in_threadpool(f3548.constraint_of, service, zone_id, base_url)
        return f3548_answer(ConstraintF3548, view)  # type: ignore[return-value]
    return ZoneDetailOut.of(await run_in_threadpool(negotiation.get_zone, service, zone_id))


@endpoint(router, "GET", "/zones/{zone_id}/versions", PARTICIPANTS, operation_id="list_zone_versions")
async def versions(request: Request, zone_id: str = ZoneId) -> list[ZoneVersionRecordOut]:
    """Every version of a zone: number, hash, author, signatures and the zone record."""
    found = await run_in_threadpool(negotiation.versions, service_of(request), zone_id)
    return ZoneVersionRecordOut.many(found)


@endpoint(
    router,
    "POST",
    "/zones/{zone_id}/versions",
    NEGOTIATORS,
    status_code=201,
    operation_id="counter_propose_zone",
)
async def counter_propose(
    body: ZoneVersionIn, request: Request, zone_id: str = ZoneId, principal: Principal = CALLER
) -> ZoneVersionOut:
    """Counter-propose: a new version (border, altitudes or times) by a required signatory."""
    answer = await run_in_threadpool(
        negotiation.counter_propose,
        service_of(request),
        principal,
        zone_id,
        body.document,
        signed_request(request),
    )
    return ZoneVersionOut.of(answer)


@endpoint(router, "GET", "/zones/{zone_id}/diff", PARTICIPANTS, operation_id="diff_zone_versions")
async def diff(
    request: Request,
    zone_id: str = ZoneId,
    from_version: int = Query(alias="from", ge=1, le=1_000_000),
    to_version: int = Query(alias="to", ge=1, le=1_000_000),
) -> ZoneDiffOut:
    """The area added and removed between two versions: GeoJSON features with
    `change` (added | removed) and `area_km2`."""
    found = await run_in_threadpool(negotiation.diff, service_of(request), zone_id, from_version, to_version)
    return ZoneDiffOut.of(found)


@endpoint(router, "POST", "/zones/{zone_id}/sign", NEGOTIATORS, operation_id="sign_zone")
async def sign(
    body: SignIn, request: Request, zone_id: str = ZoneId, principal: Principal = CALLER
) -> SignOut:
    """Sign the current version (by number and hash). The last required signature activates the zone."""
    answer = await run_in_threadpool(
        negotiation.sign,
        service_of(request),
        principal,
        zone_id,
        body.version,
        body.hash,
        signed_request(request),
    )
    return SignOut.of(answer)


@endpoint(router, "POST", "/zones/{zone_id}/reject", NEGOTIATORS, operation_id="reject_zone")
async def reject(
    body: RejectIn, request: Request, zone_id: str = ZoneId, principal: Principal = CALLER
) -> RejectOut:
    """Reject the current version, with a reason (kept as written)."""
    answer = await run_in_threadpool(
        negotiation.reject,
        service_of(request),
        principal,
        zone_id,
        body.version,
        body.hash,
        body.reason,
        signed_request(request),
    )
    return RejectOut.of(answer)


@endpoint(router, "POST", "/zones/{zone_id}/withdraw", NEGOTIATORS, operation_id="withdraw_zone")
async def withdraw(request: Request, zone_id: str = ZoneId, principal: Principal = CALLER) -> WithdrawOut:
    """Withdraw a zone (its proposer only)."""
    answer = await run_in_threadpool(
        negotiation.withdraw, service_of(request), principal, zone_id, signed_request(request)
    )
    return WithdrawOut.of(answer)
