"""Projection tables of the service: zone negotiations, operation history, the hotline, and
the event feed behind the live stream.

Every row here is written by ``truceline.service.projection.project`` from one ledger entry,
so ``truceline log rebuild`` recreates them exactly. Keys are natural (ids, ledger sequence
numbers) rather than database counters: a counter would not restart identically on
PostgreSQL after a rebuild, a sequence number does.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from truceline.store.database import metadata

# Per party: the Ed25519 key that signs its HTTP request bodies (see docs/api.md).
party_request_keys = Table(
    "party_request_keys",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("request_key", String(64), nullable=False),
)

# Parties revoked (``party.revoked``): their tokens get 401 from then on.
party_revocations = Table(
    "party_revocations",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("reason", Text),
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

# Tokens that no longer admit anyone, kept (as SHA-256, like the parties table) so that a
# refusal can say why: "revoked" (the party was) or "rotated" (a new token replaced it).
retired_tokens = Table(
    "retired_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("party_id", String(64), nullable=False),
    Column("reason", String(16), nullable=False),  # revoked | rotated
    Column("seq", BigInteger, nullable=False),
)

zone_negotiations = Table(
    "zone_negotiations",
    metadata,
    Column("zone_id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("proposer", String(64), nullable=False),  # party id
    Column("proposer_name", String(200), nullable=False),
    Column("required", JSON, nullable=False),  # sorted party names whose signature is needed
    # proposed | active | rejected | withdrawn | expired
    Column("state", String(16), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("active_version", Integer),
    # The end of the time window of the version in force (or proposed): when it expires.
    Column("ends_ms", BigInteger),
    Column("seq", BigInteger, nullable=False),  # last entry that changed it
)

zone_versions = Table(
    "zone_versions",
    metadata,
    Column("zone_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("hash", String(64), nullable=False),  # SHA-256 hex of the RFC 8785 zone record
    Column("record", JSON, nullable=False),
    Column("author", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

zone_signatures = Table(
    "zone_signatures",
    metadata,
    Column("zone_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# One row per negotiation step (an entry): proposed, counter_proposed, signed, rejected, ...
zone_steps = Table(
    "zone_steps",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("zone_id", String(200), nullable=False, index=True),
    Column("step", String(32), nullable=False),
    Column("party_id", String(64)),
    Column("version", Integer),
    Column("reason", Text),
    Column("time_ms", BigInteger, nullable=False),
)

operation_history = Table(
    "operation_history",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("operation_id", String(200), nullable=False, index=True),
    Column("step", String(16), nullable=False),  # filed | updated | refused | cancelled
    Column("version", Integer, nullable=False),
    Column("party", String(200), nullable=False),  # party name
    Column("record", JSON),
    Column("conflicts", JSON, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("thread_id", String(64), nullable=False, index=True),
    Column("in_reply_to", String(64)),
    Column("sender", String(64)),  # party id; null for the register itself
    Column("recipients", JSON, nullable=False),  # party ids
    Column("priority", String(16), nullable=False),
    Column("body", JSON, nullable=False),  # truceline.i18n.body_to_json
    Column("about", JSON),  # {"kind": "zone"|"operation"|"conflict"|"message", "id": ...}
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("recipient", String(64), primary_key=True),
    Column("priority", String(16), nullable=False),
    Column("deadline_ms", BigInteger, nullable=False),
    Column("acked_ms", BigInteger),
    Column("escalations", Integer, nullable=False),
    # False for escalation notices themselves: they are acknowledged, never escalated again.
    Column("escalate", Boolean, nullable=False),
    Index("ix_deliveries_due", "acked_ms", "deadline_ms"),
    Index("ix_deliveries_recipient", "recipient"),
)

# The live feed: one row per (entry, recipient); id = seq * EVENTS_PER_ENTRY + k, so ids grow
# with the log and a rebuild gives the same ids (the stream's Last-Event-ID stays valid).
events = Table(
    "events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # message | escalated | acknowledged
    Column("message_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Index("ix_events_recipient_id", "recipient", "id"),
)
EVENTS_PER_ENTRY = 4096

SERVICE_TABLES = (
    events,
    deliveries,
    messages,
    operation_history,
    zone_steps,
    zone_signatures,
    zone_versions,
    zone_negotiations,
    party_request_keys,
    party_revocations,
    retired_tokens,
)

# Not a projection (so not in SERVICE_TABLES, and kept by ``log rebuild``): the nonces of
# signed requests (RFC 9421 ``nonce``) each party has used, so that a request sent twice is
# refused, by any process and after a restart. ``created_s`` is the signature's own
# ``created``: a row whose ``created`` is older than the accepted window can be pruned,
# since a replay of it would be refused as stale anyway.
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("nonce", String(200), primary_key=True),
    Column("created_s", BigInteger, nullable=False),
)
