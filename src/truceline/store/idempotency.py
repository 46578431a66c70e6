"""Idempotency keys (``Idempotency-Key`` on a POST): the first answer to each, per party,
kept 24 h so that a resend gets that answer instead of doing the write again.

Not a projection (kept by ``log rebuild``). One table shared by every server process on the
database: a resend that lands on another process is answered the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from truceline.store.database import metadata

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("party_id", String(64), primary_key=True),  # "" for a request without a token
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of method, target and body
    Column("created_ms", BigInteger, nullable=False),
    # NULL while the first request is still being answered:
    Column("status", Integer),
    Column("headers", JSON),
    Column("body", LargeBinary),
)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """A key's row: ``status`` None while the first request is still in progress."""

    fingerprint: str
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes


def claim(
    conn: Connection, party_id: str, key: str, fingerprint: str, now_ms: int, keep_ms: int
) -> StoredAnswer | None:
    """Claim ``key`` for ``party_id``: None if it was free (the caller answers the request,
    then ``record``s or ``release``s it); else the row already there. The party's rows
    older than ``keep_ms`` go first. Requires ``conn`` in a transaction of its own."""
    conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.party_id == party_id, idempotency_keys.c.created_ms < now_ms - keep_ms
        )
    )
    try:
        with conn.begin_nested():
            conn.execute(
                insert(idempotency_keys).values(
                    party_id=party_id, key=key, fingerprint=fingerprint, created_ms=now_ms
                )
            )
    except IntegrityError:
        row = conn.execute(select(idempotency_keys).where(*_the_key(party_id, key))).one()
        headers = [(str(name), str(value)) for name, value in row.headers or []]
        return StoredAnswer(row.fingerprint, row.status, headers, bytes(row.body or b""))
    return None


def _the_key(party_id: str, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return idempotency_keys.c.party_id == party_id, idempotency_keys.c.key == key


def record(
    conn: Connection, party_id: str, key: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Keep the first answer to ``key``."""
    conn.execute(
        update(idempotency_keys)
        .where(*_the_key(party_id, key))
        .values(status=status, headers=[list(h) for h in headers], body=body)
    )


def release(conn: Connection, party_id: str, key: str) -> None:
    """Forget a claim whose request failed (a 5xx, a crash): a resend may try again."""
    conn.execute(delete(idempotency_keys).where(*_the_key(party_id, key)))
