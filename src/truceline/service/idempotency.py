"""Idempotent POSTs for the HTTP layer (``api.idempotency`` reads the header): the first
answer to a party's key is kept ``KEEP_MS`` in the store every server process shares; the
api decides what to send, the store keeps the rows, this module holds the transactions."""

from __future__ import annotations

from truceline.domain.clock import to_ms
from truceline.service.service import Service
from truceline.store import idempotency as store
from truceline.store.idempotency import StoredAnswer

KEEP_MS = 24 * 3600 * 1000

__all__ = ["KEEP_MS", "StoredAnswer", "claim", "record", "release"]


def claim(service: Service, party_id: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """Claim ``key`` for a request of ``fingerprint``; None when it is new (answer it, then
    ``record`` or ``release``), else what was kept for it (``status`` None while the first is answered)."""
    with service.engine.begin() as conn:
        return store.claim(conn, party_id, key, fingerprint, to_ms(service.clock()), KEEP_MS)


def record(
    service: Service, party_id: str, key: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Keep the first answer to ``key``."""
    with service.engine.begin() as conn:
        store.record(conn, party_id, key, status, headers, body)


def release(service: Service, party_id: str, key: str) -> None:
    """Forget ``key`` (its answer is not kept, so a resend may succeed)."""
    with service.engine.begin() as conn:
        store.release(conn, party_id, key)
