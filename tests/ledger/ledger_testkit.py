"""Helpers shared by the ledger tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.ledger import EntryDraft
from truceline.ledger.canonical import b64encode
from truceline.ledger.keys import raw_public_key

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def registration(party_id: str, key: Ed25519PrivateKey, author: str = "admin") -> EntryDraft:
    public_key = b64encode(raw_public_key(key.public_key()))
    return EntryDraft(
        "party.registered", author, {"party_id": party_id, "name": party_id, "public_key": public_key}
    )


def sample_drafts(blue: Ed25519PrivateKey) -> list[EntryDraft]:
    """A small scenario: a keyed party, unsigned system entries, non-ASCII text."""
    return [
        registration("blue", blue),
        EntryDraft("party.registered", "admin", {"party_id": "red", "name": "Красные"}),
        EntryDraft("zone.proposed", "blue", {"zone_id": "z1", "note": 'line\u2028sep, "quoted"'}, blue),
        EntryDraft("zone.signed", "red", {"zone_id": "z1", "version": 1}),
        EntryDraft("message.sent", "system", {"to": ["blue", "red"], "text": "زون"}),
        EntryDraft("zone.activated", "blue", {"zone_id": "z1"}, blue),
    ]
