"""search: the full-text index over contacts, cases and customers, filled for existing rows

Revision ID: 0025
Revises: 0023
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
down_revision = '0023'
branch_labels = None
depends_on = None

# The index rows of every existing contact, case and customer, as search.index wrote them when
# this revision was made (frozen here: a later change to the index must not change this revision).
BACKFILL = {
    'postgresql': [
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         'title, body, names, tsv) SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5, s.c6, s.c7, s.c8, s.c9, s.c10, '
         "s.c11, setweight(to_tsvector('simple', s.c9), 'A') || setweight(to_tsvector('simple', s.c10), 'B') "
         "|| CASE WHEN s.c7 = 'simple' THEN ''::tsvector ELSE setweight(to_tsvector(CAST(s.c7 AS regconfig), "
         "s.c9), 'A') || setweight(to_tsvector(CAST(s.c7 AS regconfig), s.c10), 'B') END FROM (SELECT * FROM "
         "(SELECT 'customer', cu.id, cu.id, NULL, cu.status, NULL, NULL, 'simple', cu.created_at, cu.name, "
         "TRIM(COALESCE(p.given_name, '') || ' ' || COALESCE(p.family_name, '') || ' ' || "
         "COALESCE(p.organization_name, '')), cu.name FROM customer cu JOIN party p ON p.id = cu.party_id) AS "
         's (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11)) AS s'),
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         'title, body, names, tsv) SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5, s.c6, s.c7, s.c8, s.c9, s.c10, '
         "s.c11, setweight(to_tsvector('simple', s.c9), 'A') || setweight(to_tsvector('simple', s.c10), 'B') "
         "|| CASE WHEN s.c7 = 'simple' THEN ''::tsvector ELSE setweight(to_tsvector(CAST(s.c7 AS regconfig), "
         "s.c9), 'A') || setweight(to_tsvector(CAST(s.c7 AS regconfig), s.c10), 'B') END FROM (SELECT * FROM "
         "(SELECT 'case', cf.id, cf.customer_id, cf.opened_via, cf.status, cf.owner_id, cf.market, (CASE "
         "UPPER(cf.market) WHEN 'AT' THEN 'german' WHEN 'AU' THEN 'english' WHEN 'BE' THEN 'french' WHEN 'BR' "
         "THEN 'portuguese' WHEN 'CA' THEN 'english' WHEN 'CH' THEN 'german' WHEN 'DE' THEN 'german' WHEN 'DK'"
         " THEN 'danish' WHEN 'ES' THEN 'spanish' WHEN 'FI' THEN 'finnish' WHEN 'FR' THEN 'french' WHEN 'GB' "
         "THEN 'english' WHEN 'IE' THEN 'english' WHEN 'IT' THEN 'italian' WHEN 'MX' THEN 'spanish' WHEN 'NL' "
         "THEN 'dutch' WHEN 'NO' THEN 'norwegian' WHEN 'NZ' THEN 'english' WHEN 'PT' THEN 'portuguese' WHEN "
         "'SE' THEN 'swedish' WHEN 'TR' THEN 'turkish' WHEN 'US' THEN 'english' ELSE 'simple' END), "
         "cf.opened_at, cf.title, LEFT(COALESCE(cf.customer_account, '') || ' ' || COALESCE(cf.outcome, '') ||"
         " ' ' || COALESCE((SELECT string_agg(e.text, ' ') FROM case_event e WHERE e.case_id = cf.id AND "
         "e.text IS NOT NULL), ''), 100000), NULL FROM case_file cf) AS s (c0, c1, c2, c3, c4, c5, c6, c7, c8,"
         ' c9, c10, c11)) AS s'),
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         'title, body, names, tsv) SELECT s.c0, s.c1, s.c2, s.c3, s.c4, s.c5, s.c6, s.c7, s.c8, s.c9, s.c10, '
         "s.c11, setweight(to_tsvector('simple', s.c9), 'A') || setweight(to_tsvector('simple', s.c10), 'B') "
         "|| CASE WHEN s.c7 = 'simple' THEN ''::tsvector ELSE setweight(to_tsvector(CAST(s.c7 AS regconfig), "
         "s.c9), 'A') || setweight(to_tsvector(CAST(s.c7 AS regconfig), s.c10), 'B') END FROM (SELECT * FROM "
         "(SELECT 'contact', c.id, c.customer_id, c.channel, c.match_status, c.staff_user_id, cf.market, (CASE"
         " UPPER(cf.market) WHEN 'AT' THEN 'german' WHEN 'AU' THEN 'english' WHEN 'BE' THEN 'french' WHEN 'BR'"
         " THEN 'portuguese' WHEN 'CA' THEN 'english' WHEN 'CH' THEN 'german' WHEN 'DE' THEN 'german' WHEN "
         "'DK' THEN 'danish' WHEN 'ES' THEN 'spanish' WHEN 'FI' THEN 'finnish' WHEN 'FR' THEN 'french' WHEN "
         "'GB' THEN 'english' WHEN 'IE' THEN 'english' WHEN 'IT' THEN 'italian' WHEN 'MX' THEN 'spanish' WHEN "
         "'NL' THEN 'dutch' WHEN 'NO' THEN 'norwegian' WHEN 'NZ' THEN 'english' WHEN 'PT' THEN 'portuguese' "
         "WHEN 'SE' THEN 'swedish' WHEN 'TR' THEN 'turkish' WHEN 'US' THEN 'english' ELSE 'simple' END), "
         "c.occurred_at, COALESCE(c.subject, ''), LEFT(COALESCE(c.text, '') || ' ' || COALESCE((SELECT "
         "string_agg(x->>'name', ' ') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.attachments) = "
         "'array' THEN c.attachments ELSE '[]'::jsonb END) x), '') || ' ' || COALESCE((SELECT "
         "string_agg(a.filename, ' ') FROM attachment a WHERE a.contact_id = c.id), '') || ' ' || "
         "regexp_replace(COALESCE((SELECT string_agg(x->>'name', ' ') FROM jsonb_array_elements(CASE WHEN "
         "jsonb_typeof(c.attachments) = 'array' THEN c.attachments ELSE '[]'::jsonb END) x), '') || ' ' || "
         "COALESCE((SELECT string_agg(a.filename, ' ') FROM attachment a WHERE a.contact_id = c.id), ''), "
         "'[._-]+', ' ', 'g'), 100000), NULL FROM contact c LEFT JOIN case_file cf ON cf.id = c.case_id) AS s "
         '(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11)) AS s'),
    ],
    'sqlite': [
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         "title, body, names) SELECT 'customer', cu.id, cu.id, NULL, cu.status, NULL, NULL, 'simple', "
         "cu.created_at, cu.name, TRIM(COALESCE(p.given_name, '') || ' ' || COALESCE(p.family_name, '') || ' '"
         " || COALESCE(p.organization_name, '')), cu.name FROM customer cu JOIN party p ON p.id = cu.party_id"),
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         "title, body, names) SELECT 'case', cf.id, cf.customer_id, cf.opened_via, cf.status, cf.owner_id, "
         "cf.market, (CASE UPPER(cf.market) WHEN 'AT' THEN 'german' WHEN 'AU' THEN 'english' WHEN 'BE' THEN "
         "'french' WHEN 'BR' THEN 'portuguese' WHEN 'CA' THEN 'english' WHEN 'CH' THEN 'german' WHEN 'DE' THEN"
         " 'german' WHEN 'DK' THEN 'danish' WHEN 'ES' THEN 'spanish' WHEN 'FI' THEN 'finnish' WHEN 'FR' THEN "
         "'french' WHEN 'GB' THEN 'english' WHEN 'IE' THEN 'english' WHEN 'IT' THEN 'italian' WHEN 'MX' THEN "
         "'spanish' WHEN 'NL' THEN 'dutch' WHEN 'NO' THEN 'norwegian' WHEN 'NZ' THEN 'english' WHEN 'PT' THEN "
         "'portuguese' WHEN 'SE' THEN 'swedish' WHEN 'TR' THEN 'turkish' WHEN 'US' THEN 'english' ELSE "
         "'simple' END), cf.opened_at, cf.title, SUBSTR(COALESCE(cf.customer_account, '') || ' ' || "
         "COALESCE(cf.outcome, '') || ' ' || COALESCE((SELECT group_concat(e.text, ' ') FROM case_event e "
         "WHERE e.case_id = cf.id AND e.text IS NOT NULL), ''), 1, 100000), NULL FROM case_file cf"),
        ('INSERT INTO search_doc (kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, '
         "title, body, names) SELECT 'contact', c.id, c.customer_id, c.channel, c.match_status, "
         "c.staff_user_id, cf.market, (CASE UPPER(cf.market) WHEN 'AT' THEN 'german' WHEN 'AU' THEN 'english' "
         "WHEN 'BE' THEN 'french' WHEN 'BR' THEN 'portuguese' WHEN 'CA' THEN 'english' WHEN 'CH' THEN 'german'"
         " WHEN 'DE' THEN 'german' WHEN 'DK' THEN 'danish' WHEN 'ES' THEN 'spanish' WHEN 'FI' THEN 'finnish' "
         "WHEN 'FR' THEN 'french' WHEN 'GB' THEN 'english' WHEN 'IE' THEN 'english' WHEN 'IT' THEN 'italian' "
         "WHEN 'MX' THEN 'spanish' WHEN 'NL' THEN 'dutch' WHEN 'NO' THEN 'norwegian' WHEN 'NZ' THEN 'english' "
         "WHEN 'PT' THEN 'portuguese' WHEN 'SE' THEN 'swedish' WHEN 'TR' THEN 'turkish' WHEN 'US' THEN "
         "'english' ELSE 'simple' END), c.occurred_at, COALESCE(c.subject, ''), SUBSTR(COALESCE(c.text, '') ||"
         " ' ' || COALESCE((SELECT group_concat(json_extract(x.value, '$.name'), ' ') FROM json_each(CASE WHEN"
         " json_type(c.attachments) = 'array' THEN c.attachments ELSE '[]' END) x), '') || ' ' || "
         "COALESCE((SELECT group_concat(a.filename, ' ') FROM attachment a WHERE a.contact_id = c.id), ''), 1,"
         ' 100000), NULL FROM contact c LEFT JOIN case_file cf ON cf.id = c.case_id'),
    ],
}

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
    for statement in BACKFILL[dialect]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_doc_ai", "search_doc_ad", "search_doc_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_name_fts")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index('ix_search_doc_kind_at', table_name='search_doc')
    op.drop_index(op.f('ix_search_doc_customer_id'), table_name='search_doc')
    op.drop_table('search_doc')
