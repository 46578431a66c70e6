"""The nonces of signed requests: claimed once per party, pruned once stale."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import IntegrityError

from truceline.store.schema import request_nonces


def claim_nonce(conn: Connection, party_id: str, nonce: str, created_s: int, prune_before_s: int) -> bool:
    """Record that ``party_id`` used ``nonce``; False if it already had (a replay).

    Requires ``conn`` to be in a transaction of its own (a refused insert spoils a
    PostgreSQL transaction): the insert runs in a savepoint, so a replay leaves the
    transaction usable. The party's rows created before ``prune_before_s`` go first.
    """
    conn.execute(
        delete(request_nonces).where(
            request_nonces.c.party_id == party_id, request_nonces.c.created_s < prune_before_s
        )
    )
    try:
        with conn.begin_nested():
            conn.execute(insert(request_nonces).values(party_id=party_id, nonce=nonce, created_s=created_s))
    except IntegrityError:
        return False
    return True
