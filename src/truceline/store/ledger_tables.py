"""The ledger's tables: entries (exact bytes), perfect-subtree hashes, the head, party keys,
the log's own public key.

Declared on the shared ``metadata`` so ``create_schema`` builds them with the rest; plain
types only, so the same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, SmallInteger, String, Table

from truceline.store.database import metadata

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
