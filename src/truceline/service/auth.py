"""Parties' access: bearer tokens (stored as SHA-256 only), roles, and signed requests.

A party registered through the service gets a random bearer token, shown once; the ledger
and the parties table keep only its SHA-256. An admin may revoke a party or rotate its
token (``party.revoked``, ``party.token_rotated``): the old token's hash moves to
``retired_tokens``, so a refusal can say why. A party may also hold a *request key*: an
Ed25519 public key with which it signs every request that changes state (RFC 9421,
``truceline.service.request_signatures``). That key is deliberately not the ledger's
``public_key`` (the author key of ``truceline.ledger.entries``): an author key must sign
the entry itself, whose sequence number and time only the log assigns, which a remote
client cannot do. The signed request is kept in the entry's payload instead, so the
party's own signature over what it asked stays in the log (non-repudiation by the party
itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from truceline.domain.ids import uuid7
from truceline.domain.party import ALL_ROLES, LANGUAGES, SIGNING_ROLES, Party, Role
from truceline.domain.text import check_party_name
from truceline.errors import AuthError, ConflictError, ForbiddenError, RevokedError, ValidationError
from truceline.ledger.canonical import b64decode, b64encode
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.ledger.keys import public_key_from_raw
from truceline.store import parties as store

__all__ = ["ALL_ROLES", "SIGNING_ROLES"]  # (re-exported: the role groups live in domain/party.py)

# What an AuthError names: the token (the api says which header carried it).
TOKEN_FIELD = "token"
OPERATOR = "operator"  # author of entries the register makes on its own (as register.OPERATOR)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe; prefixed so that a leaked token is recognisable in a scan."""
    return "tl_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """The party a request is made by."""

    id: str
    name: str
    role: Role
    language: str
    request_key: str | None = None


def principal_for_token(conn: Connection, token: str | None) -> Principal:
    """The party holding ``token``; AuthError without a token or with an unknown one."""
    if not token:
        raise AuthError("a bearer token is required", field=TOKEN_FIELD)
    digest = token_hash(token)
    holder = store.token_holder(conn, digest)
    # compare_digest on the hash: the lookup is by an indexed equality anyway, this keeps the
    # intent explicit should the lookup ever change.
    if holder is None or not hmac.compare_digest(holder.token_hash, digest):
        _refuse_retired(conn, digest)
        raise AuthError("unknown bearer token", field=TOKEN_FIELD)
    party = holder.party
    return Principal(party.id, party.name, Role(party.role), party.language, holder.request_key)


def party_principal(conn: Connection, party_id: str) -> Principal | None:
    """The party ``party_id`` as a Principal (with its request key), None if there is no such
    party or it is revoked: for a caller authenticated otherwise than by a token (a signed
    NATS message)."""
    party = store.party_by(conn, id=party_id)
    if party is None or store.is_revoked(conn, party_id):
        return None
    key = store.request_key_of(conn, party_id)
    return Principal(party.id, party.name, Role(party.role), party.language, key)


def _refuse_retired(conn: Connection, digest: str) -> None:
    """RevokedError if ``digest`` is a token that admitted a party once."""
    row = store.retired_token(conn, digest)
    if row is None:
        return
    if row.party_revoked:  # also an older, rotated token of a party revoked since
        raise RevokedError(f"party {row.party_name} has been revoked", field=TOKEN_FIELD)
    raise RevokedError(
        f"this token of party {row.party_name} was replaced by a new one (party rotate-token)",
        field=TOKEN_FIELD,
    )


def require_role(principal: Principal, roles: tuple[str, ...]) -> None:
    if principal.role.value not in roles:
        raise ForbiddenError(
            f"role {principal.role.value!r} may not do this; allowed: {', '.join(roles)}", field="role"
        )


def check_request_key(value: str | None) -> str | None:
    if value is None:
        return None
    raw = b64decode(value, field="request_key", size=32)
    try:
        public_key_from_raw(raw)
    except ValueError as exc:
        raise ValidationError(f"not an Ed25519 public key: {exc}", field="request_key") from None
    return b64encode(raw)


@dataclass(frozen=True, slots=True)
class PartyDraft:
    """A new party's ``party.registered`` draft, with the party and its bearer token (the
    entry holds only the token's SHA-256)."""

    party: Party
    token: str
    draft: EntryDraft


def party_draft(
    conn: Connection,
    party_id: str,
    name: str,
    role: str,
    language: str,
    request_key: str | None,
    author: str,
    uss_manager: str | None = None,
) -> PartyDraft:
    """Validate a new party and draft its ``party.registered`` entry. ``uss_manager``: the
    F3548 ``reference.manager`` its USS writes; one name maps to one party, so it may be
    neither another party's alias nor another party's name (nor may ``name`` be an alias)."""
    if not isinstance(name, str):
        raise ValidationError("must be a string", field="name")
    check_party_name(name, "name")
    if language not in LANGUAGES:
        raise ValidationError(
            f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}", field="language"
        )
    if uss_manager is not None:
        if not isinstance(uss_manager, str):
            raise ValidationError("must be a string", field="uss_manager")
        check_party_name(uss_manager, "uss_manager")
    party = Party(party_id, name, role, language, uss_manager)
    if store.party_by(conn, name=name) is not None:
        raise ConflictError(f"a party named {name!r} is already registered", field="name")
    aliased = store.party_by(conn, uss_manager=name)
    if aliased is not None:
        raise ConflictError(f"{name!r} is the uss_manager of party {aliased.name!r}", field="name")
    if uss_manager is not None and uss_manager != name:
        holder = store.party_by(conn, uss_manager=uss_manager) or store.party_by(conn, name=uss_manager)
        if holder is not None:
            raise ConflictError(f"{uss_manager!r} already names party {holder.name!r}", field="uss_manager")
    token = new_token()
    payload: dict[str, Any] = {
        "party_id": party.id,
        "name": party.name,
        "role": party.role.value,
        "language": party.language,
        "token_hash": token_hash(token),
    }
    key = check_request_key(request_key)
    if key is not None:
        payload["request_key"] = key
    if uss_manager is not None:
        payload["uss_manager"] = uss_manager
    return PartyDraft(party, token, EntryDraft(EntryType.PARTY_REGISTERED, author, payload))


def new_party_id(now_ms: int) -> str:
    return uuid7(now_ms)
