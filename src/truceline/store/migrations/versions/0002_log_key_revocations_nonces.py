"""The log's own public key, party revocations, retired tokens, signed-request nonces.

Tables added to the code after c4a606c. A database made by a version between that commit
and this revision may already hold some of them (``create_all`` made whatever was
missing): each is created only where it is missing, so the upgrade works from any of those.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("ledger_log_key", "party_revocations", "retired_tokens", "request_nonces")


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "ledger_log_key" not in present:
        op.create_table(
            "ledger_log_key",
            sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
            sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
            sa.Column("recorded_at_size", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "party_revocations" not in present:
        op.create_table(
            "party_revocations",
            sa.Column("party_id", sa.String(length=64), nullable=False),
            sa.Column("reason", sa.Text(), nullable=True),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("time_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("party_id"),
        )
    if "retired_tokens" not in present:
        op.create_table(
            "retired_tokens",
            sa.Column("token_hash", sa.String(length=128), nullable=False),
            sa.Column("party_id", sa.String(length=64), nullable=False),
            sa.Column("reason", sa.String(length=16), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
    if "request_nonces" not in present:
        op.create_table(
            "request_nonces",
            sa.Column("party_id", sa.String(length=64), nullable=False),
            sa.Column("nonce", sa.String(length=200), nullable=False),
            sa.Column("created_s", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("party_id", "nonce"),
        )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
