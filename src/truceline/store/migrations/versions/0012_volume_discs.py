"""Volume discs: each volume row keeps its shape's inner and outer discs (geo.pair_discs),
so that start-up indexes stored volumes with them and the strategic check settles most pairs
without the exact test.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = ("disc_lon", "disc_lat", "disc_inner_m", "disc_outer_m")


def upgrade() -> None:
    # Rows written before have none: read back, a polygon's pairs go to the exact test
    # (store.volumes; a circle's discs are its own and need no column).
    with op.batch_alter_table("volumes") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(precision=53), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volumes") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
