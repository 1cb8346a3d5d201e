"""customers: a merge of the same person recorded twice, kept so that it can be undone

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:20:00

- ``customer_merge``: source merged into target, the evidence named, the reason, who and when,
  every row that moved (table -> ids), and who undid it, when and why.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import onethread.db.types

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, onethread.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('customer_merge',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('source_id', sa.String(length=26), nullable=False),
    sa.Column('target_id', sa.String(length=26), nullable=False),
    sa.Column('evidence', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('moved', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('merged_by', sa.String(length=26), nullable=False),
    sa.Column('merged_by_name', sa.String(length=120), nullable=False),
    _when('merged_at', nullable=False),
    sa.Column('undone_by', sa.String(length=26), nullable=True),
    sa.Column('undone_by_name', sa.String(length=120), nullable=True),
    _when('undone_at'),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['customer.id'], name=op.f('fk_customer_merge_source_id_customer')),
    sa.ForeignKeyConstraint(['target_id'], ['customer.id'], name=op.f('fk_customer_merge_target_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_merge'))
    )
    op.create_index(op.f('ix_customer_merge_source_id'), 'customer_merge', ['source_id'], unique=False)
    op.create_index(op.f('ix_customer_merge_target_id'), 'customer_merge', ['target_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_customer_merge_target_id'), table_name='customer_merge')
    op.drop_index(op.f('ix_customer_merge_source_id'), table_name='customer_merge')
    op.drop_table('customer_merge')
