"""cases: waiting on the customer or a third party pauses the service clocks

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 23:00:00

- ``case_wait``: a case waits on the customer or a named third party, why, from when until when.
- ``case_clock.paused_at``: a running clock that does not count while the case waits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, onethread.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('case_wait',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('waiting_on', sa.String(length=20), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    _when('started_at', nullable=False),
    sa.Column('started_by', sa.String(length=26), nullable=False),
    sa.Column('started_by_name', sa.String(length=120), nullable=False),
    _when('ended_at'),
    sa.Column('ended_by_name', sa.String(length=120), nullable=True),
    sa.Column('end_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_wait_case_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_wait'))
    )
    op.create_index(op.f('ix_case_wait_case_id'), 'case_wait', ['case_id'], unique=False)
    op.add_column('case_clock', _when('paused_at'))


def downgrade() -> None:
    with op.batch_alter_table('case_clock') as batch:
        batch.drop_column('paused_at')
    op.drop_index(op.f('ix_case_wait_case_id'), table_name='case_wait')
    op.drop_table('case_wait')
