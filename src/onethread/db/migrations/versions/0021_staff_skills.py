"""access: staff skills for the ``skills`` routing rule; triage items by assignee

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 21:45:00

- ``staff_user.skills``: what a person can handle (languages such as ``fr``, product kinds such
  as ``fibre``), a JSON list; a team whose ``routing_rule`` is ``skills`` hands a waiting contact
  to the available member whose skills match its language and product best.
- ``ix_triage_item_assigned_open``: a person's open items (their load), read for every contact
  handed out, without scanning the whole open queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                                       'postgresql'), nullable=True))
    op.create_index('ix_triage_item_assigned_open', 'triage_item', ['assigned_to', 'done_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_triage_item_assigned_open', table_name='triage_item')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('skills')
