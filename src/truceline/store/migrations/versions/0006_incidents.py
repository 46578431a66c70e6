"""Incidents: observers' reports, their zones, suggested corroborations and steps.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("observation", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("observed_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("observed_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("lon", sa.Float(precision=53), nullable=False),
        sa.Column("lat", sa.Float(precision=53), nullable=False),
        sa.Column("uncertainty_m", sa.Float(precision=53), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deprecated_id", sa.String(length=64), nullable=True),
        sa.Column("superseded_by", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    op.create_index("ix_incidents_observed_start_ms", "incidents", ["observed_start_ms"])
    op.create_table(
        "incident_zones",
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("zone_id", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "zone_id"),
    )
    op.create_index("ix_incident_zones_zone_id", "incident_zones", ["zone_id"])
    op.create_table(
        "incident_links",
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("other_id", sa.String(length=64), nullable=False),
        sa.Column("gap_m", sa.Float(precision=53), nullable=False),
        sa.Column("gap_s", sa.Float(precision=53), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "other_id"),
    )
    op.create_table(
        "incident_steps",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "incident_id"),
    )
    op.create_index("ix_incident_steps_incident_id", "incident_steps", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_steps_incident_id", table_name="incident_steps")
    op.drop_table("incident_steps")
    op.drop_table("incident_links")
    op.drop_index("ix_incident_zones_zone_id", table_name="incident_zones")
    op.drop_table("incident_zones")
    op.drop_index("ix_incidents_observed_start_ms", table_name="incidents")
    op.drop_table("incidents")
