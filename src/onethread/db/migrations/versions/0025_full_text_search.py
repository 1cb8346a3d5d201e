"""search: the full-text index over contacts, cases and customers, filled for existing rows

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-07 21:40:00

- ``search_doc``: one row per contact, case and customer with the words search reads.
- PostgreSQL: the ``pg_trgm`` extension, a ``tsv`` tsvector column (GIN) written with the row,
  and a trigram GIN index on customers' names (typos, names in another order).
- SQLite: two external-content FTS5 tables over ``search_doc`` (words; trigrams of names), kept
  in step by triggers on it.
- Every existing contact, case and customer is indexed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision = '0025'
down_revision = '0020'
branch_labels = None
depends_on = None

KINDS = ("customer", "case", "contact")

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_doc', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE search_name_fts USING fts5(names, content='search_doc', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN "
    "INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body); "
    "INSERT INTO search_name_fts (rowid, names) VALUES (new.id, new.names); END",
    "CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_name_fts (search_name_fts, rowid, names) VALUES ('delete', old.id, old.names); END",
    "CREATE TRIGGER search_doc_au AFTER UPDATE ON search_doc BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_name_fts (search_name_fts, rowid, names) VALUES ('delete', old.id, old.names); "
    "INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body); "
    "INSERT INTO search_name_fts (rowid, names) VALUES (new.id, new.names); END",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('search_doc',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('owner_id', sa.String(length=26), nullable=True),
    sa.Column('market', sa.String(length=10), nullable=True),
    sa.Column('lang', sa.String(length=20), nullable=False),
    sa.Column('at', onethread.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('names', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_doc')),
    sa.UniqueConstraint('kind', 'ref_id', name=op.f('uq_search_doc_kind_ref_id')),
    )
    op.create_index(op.f('ix_search_doc_customer_id'), 'search_doc', ['customer_id'], unique=False)
    op.create_index('ix_search_doc_kind_at', 'search_doc', ['kind', 'at'], unique=False)
    if dialect == "postgresql":
        op.execute("ALTER TABLE search_doc ADD COLUMN tsv tsvector NOT NULL DEFAULT ''::tsvector")
        op.execute("CREATE INDEX ix_search_doc_tsv ON search_doc USING gin (tsv)")
        op.execute("CREATE INDEX ix_search_doc_names_trgm ON search_doc USING gin (names gin_trgm_ops) "
                   "WHERE kind = 'customer'")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
    # The statements the application writes the index with (search.index), run over every row.
    from onethread.search.index import insert_sql

    for kind in KINDS:
        op.execute(insert_sql(dialect, kind, None))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_doc_ai", "search_doc_ad", "search_doc_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_name_fts")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index('ix_search_doc_kind_at', table_name='search_doc')
    op.drop_index(op.f('ix_search_doc_customer_id'), table_name='search_doc')
    op.drop_table('search_doc')
