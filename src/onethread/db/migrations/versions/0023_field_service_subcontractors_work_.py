"""field service: subcontractors, work orders, visits, incidents, audits

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 21:23:14

- ``subcontractor``: a firm doing visits (its team, its supplier manager).
- ``work_order`` and ``work_order_task``: installations and repairs with ordered steps and
  prerequisites (a prerequisite is also a case task).
- ``visit``: appointments with their outcome, cause and wasted days.
- ``field_incident``: damage, injury or property left unsafe, with its harm and claim task.
- ``subcontractor_audit``: opened when a subcontractor's record passes a threshold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subcontractor',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=26), nullable=False),
    sa.Column('supplier_manager_id', sa.String(length=26), nullable=False),
    sa.Column('created_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supplier_manager_id'], ['staff_user.id'], name=op.f('fk_subcontractor_supplier_manager_id_staff_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_subcontractor_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontractor')),
    sa.UniqueConstraint('team_id', name=op.f('uq_subcontractor_team_id'))
    )
    op.create_table('subcontractor_audit',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('subcontractor_id', sa.String(length=26), nullable=False),
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('evidence', onethread.db.types.JSONType, nullable=False),
    sa.Column('opened_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['staff_user.id'], name=op.f('fk_subcontractor_audit_owner_id_staff_user')),
    sa.ForeignKeyConstraint(['subcontractor_id'], ['subcontractor.id'], name=op.f('fk_subcontractor_audit_subcontractor_id_subcontractor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontractor_audit'))
    )
    with op.batch_alter_table('subcontractor_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subcontractor_audit_subcontractor_id'), ['subcontractor_id'], unique=False)

    op.create_table('work_order',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('product_id', sa.String(length=26), nullable=True),
    sa.Column('subcontractor_id', sa.String(length=26), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=False),
    sa.Column('created_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_work_order_case_id_case_file')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_work_order_customer_id_customer')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_work_order_product_id_product')),
    sa.ForeignKeyConstraint(['subcontractor_id'], ['subcontractor.id'], name=op.f('fk_work_order_subcontractor_id_subcontractor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order'))
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_subcontractor_id'), ['subcontractor_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('work_order_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('subcontractor_id', sa.String(length=26), nullable=False),
    sa.Column('technician_id', sa.String(length=26), nullable=True),
    sa.Column('slot_start', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_end', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=20), nullable=True),
    sa.Column('wasted_day', sa.Boolean(), nullable=False),
    sa.Column('rebooked_from_id', sa.String(length=26), nullable=True),
    sa.Column('booked_by', sa.String(length=26), nullable=False),
    sa.Column('booked_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subcontractor_id'], ['subcontractor.id'], name=op.f('fk_visit_subcontractor_id_subcontractor')),
    sa.ForeignKeyConstraint(['technician_id'], ['staff_user.id'], name=op.f('fk_visit_technician_id_staff_user')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_visit_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_subcontractor_id'), ['subcontractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('work_order_task',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('work_order_id', sa.String(length=26), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('case_task_id', sa.String(length=26), nullable=True),
    sa.Column('done_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_task_id'], ['case_task.id'], name=op.f('fk_work_order_task_case_task_id_case_task')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_task_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_task'))
    )
    with op.batch_alter_table('work_order_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_task_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('field_incident',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('work_order_id', sa.String(length=26), nullable=False),
    sa.Column('visit_id', sa.String(length=26), nullable=True),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('subcontractor_id', sa.String(length=26), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('harm_id', sa.String(length=26), nullable=False),
    sa.Column('claim_task_id', sa.String(length=26), nullable=False),
    sa.Column('reported_by', sa.String(length=120), nullable=False),
    sa.Column('reported_by_id', sa.String(length=26), nullable=False),
    sa.Column('reported_at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('repaired_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('repair_note', sa.Text(), nullable=True),
    sa.Column('confirmed_at', onethread.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_how', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_field_incident_case_id_case_file')),
    sa.ForeignKeyConstraint(['claim_task_id'], ['case_task.id'], name=op.f('fk_field_incident_claim_task_id_case_task')),
    sa.ForeignKeyConstraint(['harm_id'], ['harm.id'], name=op.f('fk_field_incident_harm_id_harm')),
    sa.ForeignKeyConstraint(['subcontractor_id'], ['subcontractor.id'], name=op.f('fk_field_incident_subcontractor_id_subcontractor')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_field_incident_visit_id_visit')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_field_incident_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_incident'))
    )
    with op.batch_alter_table('field_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_incident_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_incident_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_incident_subcontractor_id'), ['subcontractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_incident_work_order_id'), ['work_order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('field_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_incident_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_field_incident_subcontractor_id'))
        batch_op.drop_index(batch_op.f('ix_field_incident_customer_id'))
        batch_op.drop_index(batch_op.f('ix_field_incident_case_id'))

    op.drop_table('field_incident')
    with op.batch_alter_table('work_order_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_task_work_order_id'))

    op.drop_table('work_order_task')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_visit_subcontractor_id'))
        batch_op.drop_index(batch_op.f('ix_visit_customer_id'))

    op.drop_table('visit')
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_subcontractor_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_customer_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_case_id'))

    op.drop_table('work_order')
    with op.batch_alter_table('subcontractor_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subcontractor_audit_subcontractor_id'))

    op.drop_table('subcontractor_audit')
    op.drop_table('subcontractor')
