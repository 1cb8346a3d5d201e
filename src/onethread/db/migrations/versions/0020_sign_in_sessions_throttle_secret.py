"""access: server-side sign-in sessions, failed sign-ins (throttling), the instance's generated secret

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:00:00

- ``instance_secret``: secrets generated on first run and kept with the database (the session
  cookie key when ``ONETHREAD_SECRET_KEY`` is not set).
- ``sign_in_session``: one signed-in browser, staff or portal; the cookie carries a random key
  whose SHA-256 is stored. Logout, deactivation and "end all sessions" end it at once. Cookies
  issued before this revision are not in it: everyone signs in again once.
- ``sign_in_failure``: failed sign-ins per account and per client address, to throttle guessing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, onethread.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('instance_secret',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    _when('created_at', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_instance_secret'))
    )
    op.create_table('sign_in_session',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.String(length=26), nullable=False),
    _when('created_at', nullable=False),
    _when('expires_at', nullable=False),
    _when('ended_at'),
    sa.Column('ended_why', sa.String(length=30), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_sign_in_session_key_hash'))
    )
    op.create_index('ix_sign_in_session_kind_subject', 'sign_in_session', ['kind', 'subject_id'], unique=False)
    op.create_table('sign_in_failure',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key_kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    _when('at', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure'))
    )
    op.create_index('ix_sign_in_failure_key_at', 'sign_in_failure', ['scope', 'key_kind', 'key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failure_key_at', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
    op.drop_index('ix_sign_in_session_kind_subject', table_name='sign_in_session')
    op.drop_table('sign_in_session')
    op.drop_table('instance_secret')
