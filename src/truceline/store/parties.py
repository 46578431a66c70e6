"""Parties' rows: the parties, their request-signing keys, revocations and retired tokens.

Reads return frozen dataclasses; writers run inside the caller's transaction (the
register's ``party.registered`` projection and the projector's revocations and rotations).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from truceline.domain.party import Party
from truceline.store.schema import parties, party_request_keys, party_revocations, retired_tokens


@dataclass(frozen=True, slots=True)
class PartyRow:
    """A registered party as the tables hold it (``role`` as stored: a ``Role`` value)."""

    id: str
    name: str
    role: str
    language: str
    uss_manager: str | None = None


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """The party a token hash admits, with the key that signs its requests, if any."""

    party: PartyRow
    token_hash: str
    request_key: str | None


@dataclass(frozen=True, slots=True)
class RetiredToken:
    party_name: str
    reason: str  # revoked | rotated
    party_revoked: bool  # the party is revoked now (whatever retired this token)


_ROW = (parties.c.id, parties.c.name, parties.c.role, parties.c.language, parties.c.uss_manager)


def party_rows(conn: Connection) -> list[PartyRow]:
    """Every party, by id."""
    rows = conn.execute(select(*_ROW).order_by(parties.c.id))
    return [PartyRow(r.id, r.name, r.role, r.language, r.uss_manager) for r in rows]


def party_by(
    conn: Connection, *, id: str | None = None, name: str | None = None, uss_manager: str | None = None
) -> PartyRow | None:
    """The party with that id (or that name, or that F3548 ``uss_manager`` alias), if any."""
    if id is not None:
        column, value = parties.c.id, id
    elif name is not None:
        column, value = parties.c.name, name
    else:
        column, value = parties.c.uss_manager, uss_manager
    row = conn.execute(select(*_ROW).where(column == value)).first()
    return None if row is None else PartyRow(row.id, row.name, row.role, row.language, row.uss_manager)


def manager_party(conn: Connection, manager: str) -> str | None:
    """The name of the party that an F3548 ``reference.manager`` names: the party whose
    ``uss_manager`` alias it is, else the party of that name; None if neither."""
    row = party_by(conn, uss_manager=manager) or party_by(conn, name=manager)
    return None if row is None else row.name


def token_holder(conn: Connection, digest: str) -> TokenHolder | None:
    """The party whose current token hashes to ``digest``."""
    row = conn.execute(
        select(parties, party_request_keys.c.request_key)
        .select_from(parties.outerjoin(party_request_keys, party_request_keys.c.party_id == parties.c.id))
        .where(parties.c.token_hash == digest)
    ).first()
    if row is None:
        return None
    party = PartyRow(row.id, row.name, row.role, row.language, row.uss_manager)
    return TokenHolder(party, row.token_hash or "", row.request_key)


def retired_token(conn: Connection, digest: str) -> RetiredToken | None:
    """Why the token hashing to ``digest`` admits no one any more, if it admitted someone once."""
    row = conn.execute(
        select(retired_tokens.c.reason, parties.c.name, party_revocations.c.party_id.label("revoked"))
        .select_from(
            retired_tokens.join(parties, parties.c.id == retired_tokens.c.party_id).outerjoin(
                party_revocations, party_revocations.c.party_id == retired_tokens.c.party_id
            )
        )
        .where(retired_tokens.c.token_hash == digest)
    ).first()
    return None if row is None else RetiredToken(row.name, row.reason, row.revoked is not None)


def revoked_ids(conn: Connection) -> set[str]:
    """The ids of the parties revoked so far."""
    return set(conn.execute(select(party_revocations.c.party_id)).scalars())


def is_revoked(conn: Connection, party_id: str) -> bool:
    query = select(party_revocations.c.party_id).where(party_revocations.c.party_id == party_id)
    return conn.execute(query).first() is not None


# --- the projector's writes -------------------------------------------------------------


def save_party(
    conn: Connection, party: Party, public_key: str | None = None, token_hash: str | None = None
) -> None:
    conn.execute(
        insert(parties).values(
            id=party.id,
            name=party.name,
            role=str(party.role),
            language=party.language,
            uss_manager=party.uss_manager,
            public_key=public_key,
            token_hash=token_hash,
        )
    )


def load_parties(conn: Connection) -> list[Party]:
    rows = conn.execute(select(parties).order_by(parties.c.id))
    return [Party(r.id, r.name, r.role, r.language, r.uss_manager) for r in rows]



def request_key_of(conn: Connection, party_id: str) -> str | None:
    """The key that signs the party's requests (base64 raw Ed25519), if it registered one."""
    return conn.execute(
        select(party_request_keys.c.request_key).where(party_request_keys.c.party_id == party_id)
    ).scalar_one_or_none()


def add_request_key(conn: Connection, party_id: str, request_key: str) -> None:
    conn.execute(insert(party_request_keys).values(party_id=party_id, request_key=request_key))


def add_revocation(conn: Connection, party_id: str, reason: str | None, seq: int, time_ms: int) -> None:
    conn.execute(
        insert(party_revocations).values(party_id=party_id, reason=reason, seq=seq, time_ms=time_ms)
    )


def retire_token(conn: Connection, party_id: str, reason: str, new_hash: str | None, seq: int) -> None:
    """Move the party's current token hash to ``retired_tokens`` (``reason``: revoked or
    rotated) and put ``new_hash`` (None: no token at all) in its place."""
    old = conn.execute(select(parties.c.token_hash).where(parties.c.id == party_id)).scalar()
    if old is not None:
        conn.execute(insert(retired_tokens).values(token_hash=old, party_id=party_id, reason=reason, seq=seq))
    conn.execute(update(parties).where(parties.c.id == party_id).values(token_hash=new_hash))
