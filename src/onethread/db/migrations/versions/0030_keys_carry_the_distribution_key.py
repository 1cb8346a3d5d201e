"""keys carry the distribution key: primary keys (id, customer_id), composite foreign keys, global keys

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-08 01:00:00

Makes the schema one that a distributed PostgreSQL accepts (docs/scaling.md, db/distribution.py):

- the tables of one customer are keyed ``(id, customer_id)`` (others by ``(id, <own key>)``:
  ``identifier`` by value, the match-queue and triage items and attachments by their contact,
  session hops by their session, party relationships by their party);
- foreign keys between tables of one customer are ``(customer_id, x_id) -> (customer_id, id)``,
  deferred to the commit (a customer merge moves parents before their children); the foreign
  keys to ``identifier`` are dropped (it is spread by its value: the service writes both);
- unique constraints include ``customer_id`` (the account number, the timeline's event id, the
  escalation's clock id, the outbound message's send key, the bill number);
- ``global_key``: the contact's redelivery key (the channel's message id) and a session's external
  id, unique across customers, filled from the rows there; the unique constraints on ``contact``
  and ``contact_session`` become plain indexes;
- ``case_handover``, ``case_participant`` and ``work_order_task`` get ``customer_id``, copied from
  their case or work order.

Existing rows are kept. On SQLite each changed table is rebuilt (migrate.upgrade turns foreign
key enforcement off around the migration and checks every key after it). Measured on 20,000
generated customers (1.5 M rows): 26.5 s on PostgreSQL (docs/performance.md); 1,000 generated
customers on SQLite: 12.4 s.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0028'
branch_labels = None
depends_on = None

KEYED = {'identifier': 'value',
 'party_relationship': 'party_id',
 'billing_account': 'customer_id',
 'customer_flag': 'customer_id',
 'household_member': 'customer_id',
 'outbound_message': 'customer_id',
 'representative': 'customer_id',
 'timeline_entry': 'customer_id',
 'vulnerability': 'customer_id',
 'bill': 'customer_id',
 'letter_document': 'customer_id',
 'product': 'customer_id',
 'session_hop': 'session_id',
 'verification': 'customer_id',
 'attachment': 'contact_id',
 'case_file': 'customer_id',
 'charge': 'customer_id',
 'identifier_holding': 'customer_id',
 'match_item': 'contact_id',
 'product_status_change': 'customer_id',
 'triage_item': 'contact_id',
 'approval_request': 'customer_id',
 'bill_finding': 'customer_id',
 'case_clock': 'customer_id',
 'case_event': 'customer_id',
 'case_handover': 'customer_id',
 'case_participant': 'customer_id',
 'case_task': 'customer_id',
 'case_wait': 'customer_id',
 'commitment': 'customer_id',
 'escalation': 'customer_id',
 'harm': 'customer_id',
 'work_order': 'customer_id',
 'decision': 'customer_id',
 'visit': 'customer_id',
 'work_order_task': 'customer_id',
 'defect_report': 'customer_id',
 'field_incident': 'customer_id'}

OLD_FKS = [  # (table, column, parent): column -> parent (id), named fk_<table>_<column>_<parent>
    ('product', 'billing_account_id', 'billing_account'),
    ('product', 'parent_product_id', 'product'),
    ('product', 'replaces_product_id', 'product'),
    ('identifier_holding', 'identifier_id', 'identifier'),
    ('identifier_holding', 'product_id', 'product'),
    ('product_status_change', 'product_id', 'product'),
    ('case_file', 'product_id', 'product'),
    ('case_clock', 'case_id', 'case_file'),
    ('case_event', 'case_id', 'case_file'),
    ('case_handover', 'case_id', 'case_file'),
    ('case_participant', 'case_id', 'case_file'),
    ('case_task', 'case_id', 'case_file'),
    ('commitment', 'case_id', 'case_file'),
    ('escalation', 'case_id', 'case_file'),
    ('harm', 'case_id', 'case_file'),
    ('decision', 'case_id', 'case_file'),
    ('decision', 'commitment_id', 'commitment'),
    ('decision', 'order_case_id', 'case_file'),
    ('decision', 'product_id', 'product'),
    ('bill', 'billing_account_id', 'billing_account'),
    ('charge', 'bill_id', 'bill'),
    ('charge', 'identifier_id', 'identifier'),
    ('charge', 'product_id', 'product'),
    ('approval_request', 'bill_id', 'bill'),
    ('approval_request', 'case_id', 'case_file'),
    ('approval_request', 'identifier_id', 'identifier'),
    ('approval_request', 'product_id', 'product'),
    ('defect_report', 'case_id', 'case_file'),
    ('defect_report', 'decision_id', 'decision'),
    ('letter_document', 'message_id', 'outbound_message'),
    ('bill_finding', 'bill_id', 'bill'),
    ('bill_finding', 'case_id', 'case_file'),
    ('bill_finding', 'charge_id', 'charge'),
    ('bill_finding', 'product_id', 'product'),
    ('work_order', 'case_id', 'case_file'),
    ('work_order', 'product_id', 'product'),
    ('visit', 'work_order_id', 'work_order'),
    ('work_order_task', 'case_task_id', 'case_task'),
    ('work_order_task', 'work_order_id', 'work_order'),
    ('field_incident', 'case_id', 'case_file'),
    ('field_incident', 'claim_task_id', 'case_task'),
    ('field_incident', 'harm_id', 'harm'),
    ('field_incident', 'visit_id', 'visit'),
    ('field_incident', 'work_order_id', 'work_order'),
    ('case_wait', 'case_id', 'case_file'),
]

NEW_FKS = [  # (table, column, parent): (customer_id, column) -> parent (customer_id, id)
    ('bill', 'billing_account_id', 'billing_account'),
    ('letter_document', 'message_id', 'outbound_message'),
    ('product', 'parent_product_id', 'product'),
    ('product', 'replaces_product_id', 'product'),
    ('product', 'billing_account_id', 'billing_account'),
    ('case_file', 'product_id', 'product'),
    ('charge', 'product_id', 'product'),
    ('charge', 'bill_id', 'bill'),
    ('identifier_holding', 'product_id', 'product'),
    ('product_status_change', 'product_id', 'product'),
    ('approval_request', 'case_id', 'case_file'),
    ('approval_request', 'product_id', 'product'),
    ('approval_request', 'bill_id', 'bill'),
    ('bill_finding', 'product_id', 'product'),
    ('bill_finding', 'case_id', 'case_file'),
    ('bill_finding', 'bill_id', 'bill'),
    ('bill_finding', 'charge_id', 'charge'),
    ('case_clock', 'case_id', 'case_file'),
    ('case_event', 'case_id', 'case_file'),
    ('case_handover', 'case_id', 'case_file'),
    ('case_participant', 'case_id', 'case_file'),
    ('case_task', 'case_id', 'case_file'),
    ('case_wait', 'case_id', 'case_file'),
    ('commitment', 'case_id', 'case_file'),
    ('escalation', 'case_id', 'case_file'),
    ('harm', 'case_id', 'case_file'),
    ('work_order', 'case_id', 'case_file'),
    ('work_order', 'product_id', 'product'),
    ('decision', 'case_id', 'case_file'),
    ('decision', 'order_case_id', 'case_file'),
    ('decision', 'product_id', 'product'),
    ('decision', 'commitment_id', 'commitment'),
    ('visit', 'work_order_id', 'work_order'),
    ('work_order_task', 'work_order_id', 'work_order'),
    ('work_order_task', 'case_task_id', 'case_task'),
    ('defect_report', 'decision_id', 'decision'),
    ('defect_report', 'case_id', 'case_file'),
    ('field_incident', 'work_order_id', 'work_order'),
    ('field_incident', 'claim_task_id', 'case_task'),
    ('field_incident', 'visit_id', 'visit'),
    ('field_incident', 'harm_id', 'harm'),
    ('field_incident', 'case_id', 'case_file'),
]

NEW_COLUMNS = {  # table -> (column naming its parent, parent): customer_id copied from the parent
    'case_handover': ('case_id', 'case_file'),
    'case_participant': ('case_id', 'case_file'),
    'work_order_task': ('work_order_id', 'work_order'),
}

UNIQUES = [  # (table, columns before, columns after)
    ('billing_account', ['account_number'], ['account_number', 'customer_id']),
    ('timeline_entry', ['event_id'], ['event_id', 'customer_id']),
    ('escalation', ['clock_id'], ['clock_id', 'customer_id']),
    ('outbound_message', ['send_key'], ['send_key', 'customer_id']),
    ('bill', ['billing_account_id', 'bill_number'], ['billing_account_id', 'bill_number', 'customer_id']),
]

LOOKUPS = [  # (table, unique columns that become a plain index, index name)
    ('contact', ['channel', 'channel_message_id'], 'ix_contact_channel_message'),
    ('contact_session', ['channel', 'external_id'], 'ix_contact_session_channel_external'),
]


def _uq(table: str, columns: list[str]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _fk(table: str, column: str, parent: str) -> str:
    return f'fk_{table}_{column}_{parent}'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    for table, (column, parent) in NEW_COLUMNS.items():
        op.add_column(table, sa.Column('customer_id', sa.String(length=26), nullable=True))
        op.execute(f'UPDATE {table} SET customer_id = (SELECT p.customer_id FROM {parent} p '
                   f'WHERE p.id = {table}.{column})')
    op.create_table('global_key',
    sa.Column('space', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('ref_id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('space', 'value', name=op.f('pk_global_key'))
    )
    op.execute("INSERT INTO global_key (space, value, ref_id) SELECT 'contact:' || channel, channel_message_id, id "
               "FROM contact WHERE channel_message_id IS NOT NULL")
    op.execute("INSERT INTO global_key (space, value, ref_id) SELECT 'session:' || channel, external_id, id "
               "FROM contact_session WHERE external_id IS NOT NULL")
    if _sqlite():
        _sqlite_rebuild(upgrade=True)
    else:
        for table, column, parent in OLD_FKS:
            op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
        for table, before, after in UNIQUES:
            op.drop_constraint(_uq(table, before), table, type_='unique')
            op.create_unique_constraint(_uq(table, after), table, after)
        for table, columns, _ in LOOKUPS:
            op.drop_constraint(_uq(table, columns), table, type_='unique')
        for table in NEW_COLUMNS:
            op.alter_column(table, 'customer_id', nullable=False)
        for table, key in KEYED.items():
            op.drop_constraint(f'pk_{table}', table, type_='primary')
            op.create_primary_key(f'pk_{table}', table, ['id', key])
        for table, column, parent in NEW_FKS:
            op.create_foreign_key(_fk(table, column, parent), table, parent, ['customer_id', column],
                                  ['customer_id', 'id'], deferrable=True, initially='DEFERRED')
    for table, columns, name in LOOKUPS:
        op.create_index(name, table, columns, unique=False)


def _sqlite_rebuild(*, upgrade: bool) -> None:
    """SQLite cannot change a primary key in place: each table is rebuilt once with all its changes."""
    tables = list(KEYED) + [t for t, _, _ in LOOKUPS]
    for table in tables:
        with op.batch_alter_table(table, recreate='always') as batch:
            olds = [(c, p) for t, c, p in OLD_FKS if t == table]
            news = [(c, p) for t, c, p in NEW_FKS if t == table]
            for column, parent in (olds if upgrade else news):
                batch.drop_constraint(_fk(table, column, parent), type_='foreignkey')
            for t, before, after in UNIQUES:
                if t == table:
                    batch.drop_constraint(_uq(table, before if upgrade else after), type_='unique')
                    batch.create_unique_constraint(_uq(table, after if upgrade else before), after if upgrade else before)
            for t, columns, _ in LOOKUPS:
                if t == table and upgrade:
                    batch.drop_constraint(_uq(table, columns), type_='unique')
                elif t == table:
                    batch.create_unique_constraint(_uq(table, columns), columns)
            if table in NEW_COLUMNS and upgrade:
                batch.alter_column('customer_id', existing_type=sa.String(length=26), nullable=False)
            if table in KEYED:
                batch.drop_constraint(f'pk_{table}', type_='primary')
                batch.create_primary_key(f'pk_{table}', ['id', KEYED[table]] if upgrade else ['id'])
            if upgrade:
                for column, parent in news:
                    batch.create_foreign_key(_fk(table, column, parent), parent, ['customer_id', column],
                                             ['customer_id', 'id'], deferrable=True, initially='DEFERRED')
            else:
                for column, parent in olds:
                    batch.create_foreign_key(_fk(table, column, parent), parent, [column], ['id'])


def downgrade() -> None:
    for table, _, name in LOOKUPS:
        op.drop_index(name, table_name=table)
    if _sqlite():
        _sqlite_rebuild(upgrade=False)
    else:
        for table, column, parent in NEW_FKS:
            op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
        for table in KEYED:
            op.drop_constraint(f'pk_{table}', table, type_='primary')
            op.create_primary_key(f'pk_{table}', table, ['id'])
        for table, columns, _ in LOOKUPS:
            op.create_unique_constraint(_uq(table, columns), table, columns)
        for table, before, after in UNIQUES:
            op.drop_constraint(_uq(table, after), table, type_='unique')
            op.create_unique_constraint(_uq(table, before), table, before)
        for table, column, parent in OLD_FKS:
            op.create_foreign_key(_fk(table, column, parent), table, parent, [column], ['id'])
    op.drop_table('global_key')
    for table in NEW_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('customer_id')
