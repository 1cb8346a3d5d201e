"""integrations: event subscriptions (TMF hubs, webhooks) and their deliveries; TMF attributes kept as given

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00

- ``event_subscription``: a callback registered by an administrator, a TMF hub on one API or a
  webhook for onethread's own events, with the secret that signs what is sent to it.
- ``event_delivery``: one event to one subscription, sent by the worker until it is answered
  2xx (``delivered_at``) or has used its attempts (``dead_at``); unique per subscription and
  event id, so an event is queued for a subscription once however often the outbox hands it over.
- ``tmf_attributes`` on customer, party, case_file and product: the TMF attributes a client sent
  that onethread has no column for, kept as given and returned (docs/api/*.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import onethread.db.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KEPT_TABLES = ('customer', 'party', 'case_file', 'product')
PENDING = sa.text('delivered_at IS NULL AND dead_at IS NULL')
DEAD = sa.text('dead_at IS NOT NULL')


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, onethread.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('event_subscription',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('api', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('callback', sa.String(length=2000), nullable=False),
    sa.Column('query', sa.String(length=2000), nullable=True),
    sa.Column('event_types', _json(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    _when('created_at', nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=False),
    sa.Column('created_by_name', sa.String(length=120), nullable=False),
    _when('deleted_at'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_subscription'))
    )
    op.create_table('event_delivery',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('subscription_id', sa.String(length=26), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('source_event_id', sa.String(length=26), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('body', _json(), nullable=False),
    _when('created_at', nullable=False),
    _when('available_at', nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    _when('claimed_at'),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    _when('delivered_at'),
    _when('dead_at'),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['event_subscription.id'],
                            name=op.f('fk_event_delivery_subscription_id_event_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_delivery')),
    sa.UniqueConstraint('subscription_id', 'event_id', name=op.f('uq_event_delivery_subscription_id_event_id'))
    )
    op.create_index(op.f('ix_event_delivery_subscription_id'), 'event_delivery', ['subscription_id'], unique=False)
    op.create_index(op.f('ix_event_delivery_source_event_id'), 'event_delivery', ['source_event_id'], unique=False)
    op.create_index('ix_event_delivery_pending', 'event_delivery', ['available_at'], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_event_delivery_dead', 'event_delivery', ['dead_at'], unique=False,
                    postgresql_where=DEAD, sqlite_where=DEAD)
    for table in KEPT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('tmf_attributes', _json(), nullable=True))


def downgrade() -> None:
    for table in KEPT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('tmf_attributes')
    op.drop_index('ix_event_delivery_dead', table_name='event_delivery', postgresql_where=DEAD, sqlite_where=DEAD)
    op.drop_index('ix_event_delivery_pending', table_name='event_delivery', postgresql_where=PENDING,
                  sqlite_where=PENDING)
    op.drop_index(op.f('ix_event_delivery_source_event_id'), table_name='event_delivery')
    op.drop_index(op.f('ix_event_delivery_subscription_id'), table_name='event_delivery')
    op.drop_table('event_delivery')
    op.drop_table('event_subscription')
