"""Tables that answer queries: parties, zones, operations, their volumes and the cell table.

They are projections: everything here can be rebuilt from the ledger. Volumes keep their
shape as the JSON record of ``truceline.domain.codec`` (exact round trip) and also their
altitudes and times as plain columns, so a query can filter before decoding. The cell
table is an ordinary (cell id, volume id) table so that any SQL engine indexes it alike.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from truceline.store.database import metadata

parties = Table(
    "parties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("public_key", String(64)),  # base64 raw Ed25519, when the party signs its entries
    Column("token_hash", String(128)),  # SHA-256 of the bearer token; the token is never stored
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
