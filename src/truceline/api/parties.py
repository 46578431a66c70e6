"""Parties: register one (admin), list them, and who am I."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import STORABLE
from truceline.api.responses import Out
from truceline.api.security import ADMINS, CALLER, EVERYONE, endpoint, service_of
from truceline.domain.text import MAX_ID_CHARS
from truceline.service.auth import Principal
from truceline.service.parties import add_party, revoke_party, revoked_ids, rotate_token
from truceline.service.service import Service

router = APIRouter(tags=["parties"])

# An id or, as the CLI takes it, a name.
PartyId = Path(min_length=1, max_length=MAX_ID_CHARS, pattern=STORABLE, description="The party's id or name.")
RoleName = Literal["admin", "party", "guarantor", "observer", "humanitarian", "auditor"]
LanguageName = Literal["ar", "zh-CN", "en", "fr", "de", "ja", "pt", "ru", "es", "uk"]


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: RoleName = "party"
    language: LanguageName = "en"
    request_key: str | None = Field(
        default=None,
        max_length=64,
        description="Base64 raw Ed25519 public key that signs the party's requests.",
    )
    uss_manager: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The name the party's USS writes as ASTM F3548 `reference.manager`, if not its name.",
    )


class PartyCreatedOut(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                    "name": "A",
                    "role": "party",
                    "language": "en",
                    "token": "tl_…",
                }
            ]
        }
    )
    id: str = Field(description="UUIDv7.")
    name: str
    role: RoleName
    language: str
    uss_manager: str | None = Field(description="Its F3548 `reference.manager` alias, if any.")
    token: str = Field(description="The bearer token, shown this once only.")


class RevokedOut(Out):
    id: str
    name: str
    revoked: bool


class TokenOut(Out):
    id: str
    name: str
    token: str = Field(description="The new bearer token, shown this once only.")


class PartyOut(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                    "name": "A",
                    "role": "party",
                    "language": "en",
                    "revoked": False,
                }
            ]
        }
    )
    id: str
    name: str
    role: RoleName
    language: str
    uss_manager: str | None = Field(description="Its F3548 `reference.manager` alias, if any.")
    revoked: bool


class MeOut(Out):
    id: str
    name: str
    role: RoleName
    language: str
    signs_requests: bool = Field(description="Whether the party holds a request key (RFC 9421).")


@endpoint(router, "POST", "/parties", ADMINS, status_code=201)
async def create_party(body: PartyIn, request: Request, principal: Principal = CALLER) -> PartyCreatedOut:
    """Register a party; the response holds its bearer token, shown this once only."""
    service = service_of(request)
    registered = await run_in_threadpool(
        add_party,
        service,
        body.name,
        body.role,
        body.language,
        body.request_key,
        principal.id,
        body.uss_manager,
    )
    party = registered.party
    return PartyCreatedOut(
        id=party.id,
        name=party.name,
        role=party.role.value,
        language=party.language,
        uss_manager=party.uss_manager,
        token=registered.token,
    )


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(
        default=None, max_length=2000, pattern=STORABLE, description="Why, kept in the ledger entry."
    )


@endpoint(router, "POST", "/parties/{party_id}/revoke", ADMINS, operation_id="revoke_party")
async def revoke(
    request: Request, party_id: str = PartyId, body: RevokeIn | None = None, principal: Principal = CALLER
) -> RevokedOut:
    """Revoke a party: a `party.revoked` entry; its token gets 401 (`revoked`) at once."""
    reason = body.reason if body is not None else None
    party = await run_in_threadpool(revoke_party, service_of(request), party_id, reason, principal.id)
    return RevokedOut(id=party.id, name=party.name, revoked=True)


@endpoint(router, "POST", "/parties/{party_id}/rotate-token", ADMINS, operation_id="rotate_party_token")
async def rotate(request: Request, party_id: str = PartyId, principal: Principal = CALLER) -> TokenOut:
    """Give a party a new bearer token (shown this once); the old one gets 401 at once."""
    party, token = await run_in_threadpool(rotate_token, service_of(request), party_id, principal.id)
    return TokenOut(id=party.id, name=party.name, token=token)


@endpoint(router, "GET", "/parties", EVERYONE)
async def list_parties(request: Request) -> list[PartyOut]:
    """Every registered party: id, name, role, language and whether it is revoked (never tokens)."""
    service = service_of(request)

    def read() -> list[PartyOut]:
        with service.read() as conn:
            revoked = revoked_ids(conn)
            return [
                PartyOut(
                    id=p.id,
                    name=p.name,
                    role=p.role.value,
                    language=p.language,
                    uss_manager=p.uss_manager,
                    revoked=p.id in revoked,
                )
                for p in Service.party_rows(conn)
            ]

    return await run_in_threadpool(read)


@endpoint(router, "GET", "/me", EVERYONE, operation_id="get_me")
async def me(principal: Principal = CALLER) -> MeOut:
    """The calling party."""
    return MeOut(
        id=principal.id,
        name=principal.name,
        role=principal.role.value,
        language=principal.language,
        signs_requests=principal.request_key is not None,
    )
