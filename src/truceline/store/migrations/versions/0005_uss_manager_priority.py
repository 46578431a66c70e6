"""A party's USS manager alias (F3548 ``reference.manager``) and an operation's F3548 priority.

Both columns are nullable: existing parties have no alias and existing operations no
priority, as their ledger entries say.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
# The integrator re-chains this after the revisions merged before it (brief: 0005 on 0003).
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("uss_manager", sa.String(length=200), nullable=True))
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("uss_manager")
