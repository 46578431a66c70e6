"""Live alerts: the ``alerts`` table, and event kinds long enough for ``incursion.updated``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("latest", sa.JSON(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_message_id", "alerts", ["message_id"])
    op.create_index("ix_alerts_state", "alerts", ["state"])
    # SQLite does not enforce VARCHAR lengths, and cannot alter a column in place: batch mode
    # copies the table there; PostgreSQL alters it.
    with op.batch_alter_table("events") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=32),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=16),
                           existing_nullable=False)
    op.drop_index("ix_alerts_state", table_name="alerts")
    op.drop_index("ix_alerts_message_id", table_name="alerts")
    op.drop_table("alerts")
