"""billing: the bill audit (findings per charge and rule); usage naming an identifier no longer held is kept

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:10:00

- ``charge.outside_holding``: the charge names an identifier the customer held before the charged
  period but not during it (usage on a removed SIM), imported as evidence for the audit.
- ``bill_finding``: one row per charge and audit rule (its id is the rule's code and the charge's
  id), with the money at stake, the billing case it is on, and who confirmed or dismissed it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, onethread.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('charge') as batch:
        batch.add_column(sa.Column('outside_holding', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'bill_finding',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('code', sa.String(length=10), nullable=False),
        sa.Column('customer_id', sa.String(length=26), nullable=False),
        sa.Column('bill_id', sa.String(length=26), nullable=False),
        sa.Column('charge_id', sa.String(length=26), nullable=False),
        sa.Column('product_id', sa.String(length=26), nullable=True),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('reference_on', sa.Date(), nullable=True),
        sa.Column('charged_minor', sa.BigInteger(), nullable=False),
        sa.Column('at_stake_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        _when('found_at', nullable=False),
        sa.Column('case_id', sa.String(length=26), nullable=True),
        sa.Column('decision_id', sa.String(length=26), nullable=True),
        sa.Column('reviewed_by', sa.String(length=26), nullable=True),
        sa.Column('reviewed_by_name', sa.String(length=200), nullable=True),
        _when('reviewed_at'),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_bill_finding_customer_id_customer')),
        sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_bill_finding_bill_id_bill')),
        sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_bill_finding_charge_id_charge')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_bill_finding_product_id_product')),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_bill_finding_case_id_case_file')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_finding')),
    )
    op.create_index(op.f('ix_bill_finding_bill_id'), 'bill_finding', ['bill_id'])
    op.create_index(op.f('ix_bill_finding_charge_id'), 'bill_finding', ['charge_id'])
    op.create_index(op.f('ix_bill_finding_case_id'), 'bill_finding', ['case_id'])
    op.create_index('ix_bill_finding_customer_status', 'bill_finding', ['customer_id', 'status'])


def downgrade() -> None:
    op.drop_table('bill_finding')
    with op.batch_alter_table('charge') as batch:
        batch.drop_column('outside_holding')
