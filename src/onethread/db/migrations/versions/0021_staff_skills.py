"""access: staff skills for the ``skills`` routing rule

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 21:45:00

- ``staff_user.skills``: what a person can handle (languages such as ``fr``, product kinds such
  as ``fibre``), a JSON list; a team whose ``routing_rule`` is ``skills`` hands a waiting contact
  to the available member whose skills match its language and product best.
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


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('skills')
