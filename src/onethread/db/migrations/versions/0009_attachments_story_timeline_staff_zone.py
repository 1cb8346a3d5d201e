"""attachments kept; the timeline tells the story (system entries folded, entries linked to their case);
a staff member's own time zone

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00

- ``attachment``: a file a contact carried (e-mail attachment, portal upload, field photo), its
  bytes in the attachment store under ``storage_key`` (content-addressed), with its checked type,
  size and SHA-256.
- ``timeline_entry.system``: written by onethread on its own (the sweep's escalations and
  reminders); the default view folds these into a countable line. Existing escalations written
  by the sweep (``actor_name = 'onethread'`` on a ``case`` entry titled "Escalated to ...") are
  marked.
- ``timeline_entry.case_id``: the case an entry is about (filled from ``ref_id`` for case entries).
- ``staff_user.time_zone``: pages show times in it (default: the market's zone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attachment',
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.Column('contact_id', sa.String(length=26), nullable=False),
        sa.Column('customer_id', sa.String(length=26), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_attachment_contact_id_contact')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_customer_id'), ['customer_id'], unique=False)
    with op.batch_alter_table('timeline_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('system', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('case_id', sa.String(length=26), nullable=True))
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
    op.execute("UPDATE timeline_entry SET case_id = ref_id WHERE ref_type = 'case'")
    op.execute("UPDATE timeline_entry SET system = true WHERE ref_type = 'case' AND actor_name = 'onethread' "
               "AND title LIKE 'Escalated to %'")


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('timeline_entry', schema=None) as batch_op:
        batch_op.drop_column('case_id')
        batch_op.drop_column('system')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_customer_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_contact_id'))
    op.drop_table('attachment')
