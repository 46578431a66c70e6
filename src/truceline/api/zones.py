"""Zones: propose, counter-propose, sign, reject, withdraw; versions and diffs; the list of
negotiated and imported zones."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.security import (
    CALLER,
    NEGOTIATORS,
    PARTICIPANTS,
    endpoint,
    service_of,
    signed_request,
)
from truceline.service import negotiation
from truceline.service.auth import Principal

router = APIRouter(tags=["zones"])

ZoneId = Path(min_length=1, max_length=200)
Document = dict[str, Any] | list[Any]


class ZoneProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Document = Field(
        description="A GeoJSON profile FeatureCollection holding one zone, or an ED-269 document of one zone."
    )
    signatories: list[str] = Field(
        default_factory=list, max_length=50, description="Names of the parties whose signature it needs."
    )


class ReadWarningOut(BaseModel):
    """What the reader accepted but could not represent exactly, or left out
    (``truceline.io.features.ReadWarning``)."""

    where: str = Field(description='The document and the zone, e.g. `body: zone 0 (identifier "A")`.')
    field: str = Field(description="The member at issue, e.g. `applicability[0].dailyPeriod[0]`.")
    message: str = Field(description="What was done with it.")


class ZoneVersionOut(BaseModel):
    zone_id: str
    version: int
    hash: str = Field(description="SHA-256 hex of the version's canonical record.")
    warnings: list[ReadWarningOut] = Field(
        description="What the ED-269 reader read conservatively or skipped; empty for GeoJSON."
    )


class ZoneProposalOut(ZoneVersionOut):
    required: list[str] = Field(description="Names of the parties whose signature activates it.")


class ZoneVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Document = Field(
        description="The new version of the zone (same id), GeoJSON profile or ED-269."
    )


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000)
    hash: str = Field(
        min_length=64, max_length=64, description="SHA-256 hex of the version's canonical record."
    )


class RejectIn(SignIn):
    reason: str = Field(min_length=1, max_length=2000)


@endpoint(router, "POST", "/zones", NEGOTIATORS, status_code=201)
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
    return ZoneProposalOut.model_validate(answer)


@endpoint(router, "GET", "/zones", PARTICIPANTS)
async def list_zones(
    request: Request,
    state: Literal["proposed", "active", "rejected", "withdrawn", "expired"] | None = Query(None),
) -> list[dict[str, Any]]:
    """Every zone, negotiated or imported by the operator, with its state, versions in play,
    signatures, `origin` (negotiated | imported) and `binds`: the parties that signed the
    version in force, or "all" (an imported zone binds every party it restricts)."""
    return await run_in_threadpool(negotiation.list_zones, service_of(request), state)


@endpoint(router, "GET", "/zones/{zone_id}", PARTICIPANTS)
async def get_zone(request: Request, zone_id: str = ZoneId) -> dict[str, Any]:
    """One zone with its negotiation steps."""
    return await run_in_threadpool(negotiation.get_zone, service_of(request), zone_id)


@endpoint(router, "GET", "/zones/{zone_id}/versions", PARTICIPANTS)
async def versions(request: Request, zone_id: str = ZoneId) -> list[dict[str, Any]]:
    """Every version of a zone: number, hash, author, signatures and the zone record."""
    return await run_in_threadpool(negotiation.versions, service_of(request), zone_id)


@endpoint(router, "POST", "/zones/{zone_id}/versions", NEGOTIATORS, status_code=201)
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
    return ZoneVersionOut.model_validate(answer)


@endpoint(router, "GET", "/zones/{zone_id}/diff", PARTICIPANTS)
async def diff(
    request: Request,
    zone_id: str = ZoneId,
    from_version: int = Query(alias="from", ge=1, le=1_000_000),
    to_version: int = Query(alias="to", ge=1, le=1_000_000),
) -> dict[str, Any]:
    """The area added and removed between two versions: GeoJSON features with
    `change` (added | removed) and `area_km2`."""
    return await run_in_threadpool(negotiation.diff, service_of(request), zone_id, from_version, to_version)


@endpoint(router, "POST", "/zones/{zone_id}/sign", NEGOTIATORS)
async def sign(
    body: SignIn, request: Request, zone_id: str = ZoneId, principal: Principal = CALLER
) -> dict[str, Any]:
    """Sign the current version (by number and hash). The last required signature activates the zone."""
    return await run_in_threadpool(
        negotiation.sign,
        service_of(request),
        principal,
        zone_id,
        body.version,
        body.hash,
        signed_request(request),
    )


@endpoint(router, "POST", "/zones/{zone_id}/reject", NEGOTIATORS)
async def reject(
    body: RejectIn, request: Request, zone_id: str = ZoneId, principal: Principal = CALLER
) -> dict[str, Any]:
    """Reject the current version, with a reason (kept as written)."""
    return await run_in_threadpool(
        negotiation.reject,
        service_of(request),
        principal,
        zone_id,
        body.version,
        body.hash,
        body.reason,
        signed_request(request),
    )


@endpoint(router, "POST", "/zones/{zone_id}/withdraw", NEGOTIATORS)
async def withdraw(request: Request, zone_id: str = ZoneId, principal: Principal = CALLER) -> dict[str, Any]:
    """Withdraw a zone (its proposer only)."""
    return await run_in_threadpool(
        negotiation.withdraw, service_of(request), principal, zone_id, signed_request(request)
    )
