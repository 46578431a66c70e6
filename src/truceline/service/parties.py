"""Parties and their bearer tokens: register one (the CLI's ``party add`` and POST
/parties), revoke one, rotate its token (``party revoke``, ``party rotate-token``, and
POST /parties/{id}/revoke, /rotate-token). Each is one ledger entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from truceline.domain.clock import to_ms
from truceline.domain.party import Party
from truceline.errors import ConflictError, NotFoundError, ValidationError
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service.auth import OPERATOR, new_party_id, new_token, party_draft, token_hash
from truceline.service.register import Committer, Register
from truceline.store import parties as store

MAX_REASON_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Registration:
    """A party just registered, and its bearer token: shown this once, only its SHA-256 is kept."""

    party: Party
    token: str


def add_party(
    committer: Committer,
    name: str,
    role: str = "party",
    language: str = "en",
    request_key: str | None = None,
    author: str = OPERATOR,
    uss_manager: str | None = None,
) -> Registration:
    """Register a party; returns it with its bearer token (only the token's SHA-256 is kept).

    ``committer``: the server's ``Service``, or for the CLI the ``Register`` alone (a
    party's registration reads no zone or operation). ``author``: the admin party that
    registers it, or the operator (the CLI). Raises ValidationError naming the field,
    ConflictError for a name already registered. ``uss_manager``: the party's F3548
    ``reference.manager`` alias (docs/formats.md), if its USS names it otherwise.
    """

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Registration]:
        new = party_draft(
            conn, new_party_id(to_ms(now)), name, role, language, request_key, author, uss_manager
        )
        return [new.draft], Registration(new.party, new.token)

    return committer.commit(build)


@dataclass(frozen=True, slots=True)
class PartyRef:
    """A registered party, as revoke and rotate-token name it."""

    id: str
    name: str


def manager_parties(register: Register) -> Callable[[str], str | None]:
    """A lookup from an F3548 ``reference.manager`` to the party it names (its
    ``uss_manager`` alias, else its name; None: no such party), for ``import``."""

    def lookup(manager: str) -> str | None:
        with register.engine.connect() as conn:
            return store.manager_party(conn, manager)

    return lookup


def find_party(conn: Connection, ident: str) -> PartyRef:
    """The party whose id, else whose name, is ``ident``; NotFoundError naming ``party``."""
    row = store.party_by(conn, id=ident) or store.party_by(conn, name=ident)
    if row is not None:
        return PartyRef(row.id, row.name)
    raise NotFoundError(f"no party with the id or name {ident!r}", field="party")


def revoked_ids(conn: Connection) -> set[str]:
    """The ids of the parties revoked so far."""
    return store.revoked_ids(conn)


def revoke_party(
    committer: Committer, ident: str, reason: str | None = None, author: str = OPERATOR
) -> PartyRef:
    """Revoke a party (by id or name): one ``party.revoked`` entry; from its commit on, the
    party's token gets 401 (``revoked``) on every server of the database. ConflictError
    if it is revoked already; ValidationError for a reason over MAX_REASON_CHARS."""
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS):
        raise ValidationError(f"must be text of at most {MAX_REASON_CHARS} characters", field="reason")

    def build(conn: Connection, _now: datetime) -> tuple[list[EntryDraft], PartyRef]:
        party = find_party(conn, ident)
        if store.is_revoked(conn, party.id):
            raise ConflictError(f"party {party.name} is revoked already", field="party")
        payload: dict[str, Any] = {"party_id": party.id}
        if reason:
            payload["reason"] = reason
        return [EntryDraft(EntryType.PARTY_REVOKED, author, payload)], party

    return committer.commit(build)


def rotate_token(committer: Committer, ident: str, author: str = OPERATOR) -> tuple[PartyRef, str]:
    """Give a party (by id or name) a new bearer token, returned this once: one
    ``party.token_rotated`` entry holding its SHA-256; the old token gets 401 from the
    commit on. ConflictError for a revoked party."""

    def build(conn: Connection, _now: datetime) -> tuple[list[EntryDraft], tuple[PartyRef, str]]:
        party = find_party(conn, ident)
        if store.is_revoked(conn, party.id):
            raise ConflictError(f"party {party.name} is revoked: it gets no new token", field="party")
        token = new_token()
        payload = {"party_id": party.id, "token_hash": token_hash(token)}
        draft = EntryDraft(EntryType.PARTY_TOKEN_ROTATED, author, payload)
        return [draft], (party, token)

    return committer.commit(build)
