"""Volume bounds: each volume row keeps its shape's bounds, so that start-up indexes the
stored volumes (with their stored cell coverings) without computing any geometry.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = ("min_lon", "min_lat", "max_lon", "max_lat")


def upgrade() -> None:
    # Rows written before have none: read back, their bounds are computed (store.volumes).
    with op.batch_alter_table("volumes") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(precision=53), nullable=True))
        # A window's weekly schedule (ED-269 daily periods); rows written before have none.
        batch.add_column(sa.Column("schedule", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volumes") as batch:
        batch.drop_column("schedule")
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
