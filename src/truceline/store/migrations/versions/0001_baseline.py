"""Baseline: the schema as the code of commit c4a606c created it (before migrations).

A database made before migrations existed has every one of these tables and no
``alembic_version``: ``truceline db upgrade`` stamps it at this revision, then upgrades.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conflicts',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('a', sa.String(length=200), nullable=False),
    sa.Column('b', sa.String(length=200), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'a', 'b')
    )
    op.create_table('deliveries',
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('deadline_ms', sa.BigInteger(), nullable=False),
    sa.Column('acked_ms', sa.BigInteger(), nullable=True),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('escalate', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'recipient')
    )
    op.create_index('ix_deliveries_due', 'deliveries', ['acked_ms', 'deadline_ms'], unique=False)
    op.create_index('ix_deliveries_recipient', 'deliveries', ['recipient'], unique=False)
    op.create_table('events',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_events_recipient_id', 'events', ['recipient', 'id'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('canonical', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('ledger_head',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ledger_nodes',
    sa.Column('node', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('node'),
    sqlite_with_rowid=False
    )
    op.create_table('ledger_party_keys',
    sa.Column('party_id', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('registered_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('party_id')
    )
    op.create_table('messages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('thread_id', sa.String(length=64), nullable=False),
    sa.Column('in_reply_to', sa.String(length=64), nullable=True),
    sa.Column('sender', sa.String(length=64), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('about', sa.JSON(), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_messages_thread_id'), 'messages', ['thread_id'], unique=False)
    op.create_table('operation_history',
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('operation_id', sa.String(length=200), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('record', sa.JSON(), nullable=True),
    sa.Column('conflicts', sa.JSON(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index(
        op.f('ix_operation_history_operation_id'), 'operation_history', ['operation_id'], unique=False
    )
    op.create_table('operations',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('activity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('parties',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('party_request_keys',
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('party_id')
    )
    op.create_table('volumes',
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.String(length=200), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('shape', sa.JSON(), nullable=False),
    sa.Column('altitude_lower_m', sa.Float(precision=53), nullable=False),
    sa.Column('altitude_upper_m', sa.Float(precision=53), nullable=False),
    sa.Column('altitude_reference', sa.String(length=8), nullable=False),
    sa.Column('time_start', sa.String(length=40), nullable=False),
    sa.Column('time_end', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('owner_kind', 'owner_id', 'idx')
    )
    op.create_table('zone_negotiations',
    sa.Column('zone_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('proposer', sa.String(length=64), nullable=False),
    sa.Column('proposer_name', sa.String(length=200), nullable=False),
    sa.Column('required', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('active_version', sa.Integer(), nullable=True),
    sa.Column('ends_ms', sa.BigInteger(), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('zone_id')
    )
    op.create_table('zone_signatures',
    sa.Column('zone_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('zone_id', 'version', 'party_id')
    )
    op.create_table('zone_steps',
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('zone_id', sa.String(length=200), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index(op.f('ix_zone_steps_zone_id'), 'zone_steps', ['zone_id'], unique=False)
    op.create_table('zone_versions',
    sa.Column('zone_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('zone_id', 'version')
    )
    op.create_table('zones',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=True),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('volume_cells',
    sa.Column('cell', sa.BigInteger(), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.String(length=200), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ['owner_kind', 'owner_id', 'idx'],
        ['volumes.owner_kind', 'volumes.owner_id', 'volumes.idx'],
        ondelete='CASCADE',
    ),
    sa.PrimaryKeyConstraint('cell', 'owner_kind', 'owner_id', 'idx')
    )
    op.create_index('ix_volume_cells_owner', 'volume_cells', ['owner_kind', 'owner_id'], unique=False)


def downgrade() -> None:
    op.drop_table('volume_cells')
    op.drop_table('zones')
    op.drop_table('zone_versions')
    op.drop_table('zone_steps')
    op.drop_table('zone_signatures')
    op.drop_table('zone_negotiations')
    op.drop_table('volumes')
    op.drop_table('party_request_keys')
    op.drop_table('parties')
    op.drop_table('operations')
    op.drop_table('operation_history')
    op.drop_table('messages')
    op.drop_table('ledger_party_keys')
    op.drop_table('ledger_nodes')
    op.drop_table('ledger_head')
    op.drop_table('ledger_entries')
    op.drop_table('events')
    op.drop_table('deliveries')
    op.drop_table('conflicts')
