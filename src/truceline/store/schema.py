"""Every table of the register, on one ``metadata``: the ledger's, the register's
projections (parties, zones, operations, volumes, cells, conflicts) and the service's
projections (negotiations, operation history, the hotline, the live feed), and the nonces.

One module, importing nothing of truceline, so that every store module (and Alembic) takes
its tables from here without an import cycle. Plain types only: the same schema runs on
SQLite and PostgreSQL.

## The ledger

The ledger's tables: entries (exact bytes), perfect-subtree hashes, the head, party keys,
the log's own public key.

Declared on the shared ``metadata`` so ``create_schema`` builds them with the rest; plain
types only, so the same schema runs on SQLite and PostgreSQL.

## Projections

Tables that answer queries: parties, zones, operations, their volumes and the cell table.

They are projections: everything here can be rebuilt from the ledger. Volumes keep their
shape as the JSON record of ``truceline.domain.codec`` (exact round trip) and also their
altitudes and times as plain columns, so a query can filter before decoding. The cell
table is an ordinary (cell id, volume id) table so that any SQL engine indexes it alike.

Projection tables of the service: zone negotiations, operation history, the hotline, and
the event feed behind the live stream.

Every row here is written by ``truceline.service.projection.project`` from one ledger entry,
so ``truceline log rebuild`` recreates them exactly. Keys are natural (ids, ledger sequence
numbers) rather than database counters: a counter would not restart identically on
PostgreSQL after a rebuild, a sequence number does.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

# Every table is declared on this one MetaData, so that ``create_schema`` builds the whole
# schema on SQLite and PostgreSQL alike.
metadata = MetaData()

# --- the ledger -------------------------------------------------------------------------

# One row per entry. ``canonical`` holds the RFC 8785 bytes exactly as hashed into the
# tree; the other columns copy fields out of it for queries and are never hashed.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("author", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("canonical", LargeBinary, nullable=False),
)

# Hash of every perfect subtree (level, index) = leaves [index * 2**level, (index+1) * 2**level),
# written as leaves arrive (level 0 = leaf hashes), so roots and proofs are O(log n) reads.
# One integer key, node = level * 2**56 + index (see NODE_LEVEL_SHIFT), so that a proof's
# nodes are fetched by one IN list over the primary key.
NODE_LEVEL_SHIFT = 56
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

# A single row (id = 1): the current tree size and root. Appenders lock it (SELECT ... FOR
# UPDATE on PostgreSQL) so concurrent appends queue instead of racing for a sequence number.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
)

# The key each party currently holds, as its latest party.registered entry set it
# (derivable from the entries; kept so that an append need not scan the log).
ledger_party_keys = Table(
    "ledger_party_keys",
    metadata,
    Column("party_id", String(200), primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
)

# A single row (id = 1): the log's public key (raw Ed25519), written with the first append;
# a log older than this table gets it with its next append, once entry 0's receipt is found
# to verify with the appender's key (``recorded_at_size``: the log's size then). A process
# holding another key refuses to write, rather than sign entries no verifier would accept.
ledger_log_key = Table(
    "ledger_log_key",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("recorded_at_size", BigInteger, nullable=False),
)

LEDGER_TABLES = (ledger_entries, ledger_nodes, ledger_head, ledger_party_keys, ledger_log_key)

# --- the register's projections ---------------------------------------------------------

parties = Table(
    "parties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("public_key", String(64)),  # base64 raw Ed25519, when the party signs its entries
    Column("token_hash", String(128)),  # SHA-256 of the bearer token; the token is never stored
    # The name its USS gives as F3548 ``reference.manager`` (docs/formats.md), if it differs.
    Column("uss_manager", String(200)),  # unique among parties: the register checks it
)

zones = Table(
    "zones",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("party", String(200)),
    Column("rule", JSON, nullable=False),
    Column("state", String(32), nullable=False, default="active"),
)

operations = Table(
    "operations",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("party", String(200), nullable=False),
    Column("activity", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("priority", Integer),  # F3548 priority; null: none given
)

volumes = Table(
    "volumes",
    metadata,
    # A natural key (owner, index), so a rebuild from the ledger gives identical rows.
    Column("owner_kind", String(16), primary_key=True),  # "zone" or "operation"
    Column("owner_id", String(200), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("shape", JSON, nullable=False),
    Column("altitude_lower_m", Float(53), nullable=False),
    Column("altitude_upper_m", Float(53), nullable=False),
    Column("altitude_reference", String(8), nullable=False),
    Column("time_start", String(40), nullable=False),
    Column("time_end", String(40)),
    # geo.shapes.shape_bounds of the shape, so start-up needs no geometry to index it (null
    # in rows written before revision 0008: computed when read)
    Column("min_lon", Float(53)),
    Column("min_lat", Float(53)),
    Column("max_lon", Float(53)),
    Column("max_lat", Float(53)),
    # the time window's weekly schedule (domain.codec.schedule_to_record); null: the whole
    # window (and in rows written before revision 0008)
    Column("schedule", JSON),
    # geo.pair_discs.shape_discs of the shape: a centre and the radii of a disc inside it and
    # one around it (null in rows written before revision 0012: the exact test decides)
    Column("disc_lon", Float(53)),
    Column("disc_lat", Float(53)),
    Column("disc_inner_m", Float(53)),
    Column("disc_outer_m", Float(53)),
)

volume_cells = Table(
    "volume_cells",
    metadata,
    # H3 cell ids have their top bit clear, so they fit a signed 64-bit column.
    Column("cell", BigInteger, primary_key=True),
    Column("owner_kind", String(16), primary_key=True),
    Column("owner_id", String(200), primary_key=True),
    Column("idx", Integer, primary_key=True),
    ForeignKeyConstraint(
        ["owner_kind", "owner_id", "idx"],
        ["volumes.owner_kind", "volumes.owner_id", "volumes.idx"],
        ondelete="CASCADE",
    ),
    Index("ix_volume_cells_owner", "owner_kind", "owner_id"),
)

conflicts = Table(
    "conflicts",
    metadata,
    # Open conflicts found by the strategic check; ``record`` is the JSON of io.report.
    Column("kind", String(16), primary_key=True),
    Column("a", String(200), primary_key=True),
    Column("b", String(200), primary_key=True),
    Column("record", JSON, nullable=False),
    Column("seq", Integer, nullable=False),  # the ledger entry that reported it
)

PROJECTION_TABLES = (conflicts, volume_cells, volumes, operations, zones, parties)

# --- the service's projections ----------------------------------------------------------

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
    # message | escalated | acknowledged | <alert kind>.opened|updated|closed
    Column("kind", String(32), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Index("ix_events_recipient_id", "recipient", "id"),
)
EVENTS_PER_ENTRY = 4096

# Humanitarian notifications (docs/humanitarian.md): one row each, its versions (the record
# each ``notification.submitted`` entry carries, with the entry's leaf hash: the version a
# party acknowledges), and each party's responses in log order. ``start_ms``/``end_ms``
# (null: standing) bound its volumes in time, so a filing reads only those that may meet it.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # site | movement
    Column("notifier", String(64), nullable=False),  # party id
    Column("name", Text, nullable=False),
    Column("organisation", Text, nullable=False),
    Column("on_conflict", String(16), nullable=False),  # warn | refuse
    Column("current_version", Integer, nullable=False),
    Column("current_hash", String(64), nullable=False),  # hex leaf hash of the current version's entry
    Column("recipients", JSON, nullable=False),  # party ids it was delivered to
    Column("message_id", String(64), nullable=False),  # the hotline message that delivered it
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger),
    Column("seq", BigInteger, nullable=False),
    Index("ix_notifications_window", "start_ms", "end_ms"),
)

notification_versions = Table(
    "notification_versions",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("record", JSON, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

notification_responses = Table(
    "notification_responses",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("notification_id", String(64), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # acknowledged | disputed
    Column("version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("reason", Text),
    Column("time_ms", BigInteger, nullable=False),
    Index("ix_notification_responses_of", "notification_id", "party_id"),
)

# Live alerts (``alert.opened`` / ``updated`` / ``closed``): what live tracks caused, one row
# per episode, with the latest detection and the states that caused it.
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),  # conflict | incursion | nonconformance
    Column("subject", JSON, nullable=False),  # the episode's key: track ids, and a zone or operation id
    Column("parties", JSON, nullable=False),  # party ids told
    Column("message_id", String(64), nullable=False, index=True),
    Column("state", String(8), nullable=False),  # open | closed
    Column("opened_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("closed_ms", BigInteger),
    Column("latest", JSON, nullable=False),  # {"data": detection, "states": [state records]}
    Column("seq", BigInteger, nullable=False),  # the last entry that wrote the row
    Index("ix_alerts_state", "state"),
)

SERVICE_TABLES = (
    notification_responses,
    notification_versions,
    notifications,
    alerts,
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

# --- incidents (observers' reports) -----------------------------------------------------

# One row per report (``incident.reported``); the edit chain is ``deprecated_id`` (the
# instance it replaces) and ``superseded_by`` (the report that replaced it).
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("instance_id", String(64), nullable=False, unique=True),  # the client's uuid:<v4>
    Column("reporter", String(64), nullable=False),  # party id
    Column("category", String(32), nullable=False),
    Column("observation", String(16), nullable=False),
    # reported | corroborated | verified | disputed | withdrawn
    Column("state", String(16), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("observed_start_ms", BigInteger, nullable=False, index=True),
    Column("observed_end_ms", BigInteger, nullable=False),
    Column("lon", Float(53), nullable=False),  # a point inside the uncertainty area
    Column("lat", Float(53), nullable=False),
    Column("uncertainty_m", Float(53), nullable=False),  # the area's reach from (lon, lat)
    Column("record", JSON, nullable=False),  # the report as filed (domain.incident.to_record)
    Column("content_hash", String(64), nullable=False),  # SHA-256 hex of the record's RFC 8785 bytes
    Column("deprecated_id", String(64)),
    Column("superseded_by", String(64)),
    Column("seq", BigInteger, nullable=False),  # the incident.reported entry
    Column("time_ms", BigInteger, nullable=False),
)

# Attribution: each zone a report's uncertainty area meets (inside or possibly_inside).
incident_zones = Table(
    "incident_zones",
    metadata,
    Column("incident_id", String(64), primary_key=True),
    Column("zone_id", String(200), primary_key=True, index=True),
    Column("relation", String(16), nullable=False),
)

# Suggested corroborations, one row per direction (a, b) and (b, a).
incident_links = Table(
    "incident_links",
    metadata,
    Column("incident_id", String(64), primary_key=True),
    Column("other_id", String(64), primary_key=True),
    Column("gap_m", Float(53), nullable=False),
    Column("gap_s", Float(53), nullable=False),
    Column("seq", BigInteger, nullable=False),
)

# Every step of every report: reported, corroborated, verified, disputed, withdrawn; one per
# entry and report (a corroboration is a step of both reports it links).
incident_steps = Table(
    "incident_steps",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("incident_id", String(64), primary_key=True, index=True),
    Column("step", String(16), nullable=False),
    Column("party_id", String(64)),
    Column("reason", Text),
    Column("time_ms", BigInteger, nullable=False),
)

INCIDENT_TABLES = (incident_steps, incident_links, incident_zones, incidents)
SERVICE_TABLES += INCIDENT_TABLES
