"""outreach: a campaign is sent (its recipients' messages queued by the worker, in batches)

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-07 18:10:00

- ``campaign.send_requested_at`` / ``send_requested_by`` / ``send_requested_by_name``: who asked
  for the campaign to go out, and when (the messages are theirs).
- ``campaign.queued``: how many recipients' messages the worker has queued so far.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0017'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('send_requested_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('send_requested_by', sa.String(length=26), nullable=True))
        batch.add_column(sa.Column('send_requested_by_name', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('queued', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('queued')
        batch.drop_column('send_requested_by_name')
        batch.drop_column('send_requested_by')
        batch.drop_column('send_requested_at')
