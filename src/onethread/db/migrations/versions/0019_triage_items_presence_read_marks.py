"""cases: triage items, staff presence and capacity, team routing rule, case read marks

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 18:01:26

- ``triage_item``: an inbound contact that joined no case, in a team's queue with its
  first-response clock (``due_at``) until it reaches a case (docs/routing.md).
- ``contact.case_reason``: why triage put a contact on its case.
- ``staff_user``: presence (available | busy | away | off), back date, capacity, last assignment;
  staff marked away before keep being away.
- ``team.routing_rule``: least_loaded | round_robin.
- ``case_read_mark``: when a person last opened a case (My work's unread marker).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_read_mark',
    sa.Column('staff_id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('read_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('staff_id', 'case_id', name=op.f('pk_case_read_mark'))
    )
    op.create_table('triage_item',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('contact_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=True),
    sa.Column('session_id', sa.String(length=26), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('team_id', sa.String(length=26), nullable=True),
    sa.Column('rule', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('assigned_to', sa.String(length=26), nullable=True),
    sa.Column('assigned_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_to', sa.String(length=26), nullable=True),
    sa.Column('done_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=26), nullable=True),
    sa.Column('resolution', sa.String(length=30), nullable=True),
    sa.Column('case_id', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to'], ['staff_user.id'], name=op.f('fk_triage_item_assigned_to_staff_user')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_triage_item_contact_id_contact')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_triage_item_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_item')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_triage_item_contact_id'))
    )
    with op.batch_alter_table('triage_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_item_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_triage_item_open_due', ['done_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_triage_item_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_triage_item_team_open', ['team_id', 'done_at', 'created_at'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presence', sa.String(length=20), server_default='available', nullable=False))
        batch_op.add_column(sa.Column('back_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('presence_since', onethread.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('capacity', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('last_assigned_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routing_rule', sa.String(length=20), server_default='least_loaded', nullable=False))

    op.execute(sa.text("UPDATE staff_user SET presence = 'away' WHERE away"))



def downgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('routing_rule')

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('capacity')
        batch_op.drop_column('presence_since')
        batch_op.drop_column('back_at')
        batch_op.drop_column('presence')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('case_reason')

    with op.batch_alter_table('triage_item', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_item_team_open')
        batch_op.drop_index(batch_op.f('ix_triage_item_session_id'))
        batch_op.drop_index('ix_triage_item_open_due')
        batch_op.drop_index(batch_op.f('ix_triage_item_customer_id'))

    op.drop_table('triage_item')
    op.drop_table('case_read_mark')
