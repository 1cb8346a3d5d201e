"""The schema can be spread by customer (docs/scaling.md): every table has a declared role, and
every table spread by a key keeps that key in its primary key, in every unique constraint and
unique index, and in its foreign keys to the other tables of the same customer. Checked on the
models (so a new table cannot forget it) and on the migrated PostgreSQL database (so a migration
cannot either); with ONETHREAD_TEST_PG_PARTITIONS set, the distributed tables are partitioned."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Index, UniqueConstraint, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

import onethread.models  # noqa: F401  (registers every table)
from onethread.access.rules import SYSTEM
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.db import migrate, partition
from onethread.db.base import Base
from onethread.db.distribution import ROLES, role_of
from onethread.db.engine import make_engine
from onethread.db.session import session_scope
from tests.support.cli import ok, run
from tests.support.environment import admin_sql
from tests.support.trouble_ticket_api import make_world

TABLES = {t.name: t for t in Base.metadata.sorted_tables}


def _key(table: str) -> str | None:
    role = role_of(table)
    return role.key if role.distributed else None


def test_every_table_has_a_declared_role():
    assert sorted(set(TABLES) - set(ROLES)) == [], "declare the new table's role in db/distribution.py"
    assert sorted(set(ROLES) - set(TABLES)) == [], "a declared table that no longer exists"


@pytest.mark.parametrize("name", sorted(t for t in TABLES if ROLES[t].distributed))
def test_a_distributed_tables_keys_include_its_distribution_column(name):
    table, key = TABLES[name], _key(name)
    assert key in table.c, f"{name} has no column {key}"
    assert not table.c[key].nullable, f"{name}.{key} is its distribution key: it cannot be NULL"
    assert key in table.primary_key.columns, f"{name}'s primary key lacks {key}"
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            assert key in constraint.columns, f"{name}: unique {constraint.name} lacks {key}"
    for index in table.indexes:
        if isinstance(index, Index) and index.unique:
            assert key in index.columns, f"{name}: unique index {index.name} lacks {key}"


def _same_customer(child: str, parent: str) -> bool:
    return ROLES[child].kind == ROLES[parent].kind == "customer"


@pytest.mark.parametrize("name", sorted(t for t in TABLES if ROLES[t].kind == "customer"))
def test_foreign_keys_between_tables_of_one_customer_carry_the_customer(name):
    for fk in TABLES[name].foreign_key_constraints:
        parent = fk.referred_table.name
        if not _same_customer(name, parent):
            continue
        pairs = {(element.parent.name, element.column.name) for element in fk.elements}
        parent_key = _key(parent)
        assert ("customer_id", parent_key) in pairs, (
            f"{name}: foreign key {fk.name} to {parent} does not include customer_id -> {parent}.{parent_key}")


def test_the_checks_above_would_catch_a_table_that_forgets_the_customer():
    """The rules are not vacuous: a table keyed by id alone fails them (shown on a throw-away copy)."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    forgetful = Table("forgetful", MetaData(), Column("id", String(26)), Column("customer_id", String(26)),
                      Column("number", String(20), unique=True), PrimaryKeyConstraint("id"))
    assert "customer_id" not in forgetful.primary_key.columns
    assert any(isinstance(c, UniqueConstraint) and "customer_id" not in c.columns for c in forgetful.constraints)
    with pytest.raises(KeyError, match="no declared distribution role"):
        role_of("forgetful")


PARTITIONS = int(os.environ.get("ONETHREAD_TEST_PG_PARTITIONS") or 0)


def test_the_migrated_postgresql_schema_keeps_the_rule(pg_url):
    """What the models say, the database has: primary keys, unique constraints and unique indexes
    of every distributed table include its key, also those a migration made by hand."""
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT t.relname, i.indexrelid::regclass::text, "
            "       array(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a "
            "             ON a.attrelid = t.oid AND a.attnum = k) "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE i.indisunique AND t.relnamespace = current_schema()::regnamespace "
            "AND t.relkind IN ('r', 'p') AND NOT t.relispartition")).all()
        checked = 0
        for table, index, columns in rows:
            if table not in ROLES or not ROLES[table].distributed:
                continue
            assert _key(table) in columns, f"{table}: unique index {index} on {columns} lacks {_key(table)}"
            checked += 1
        assert checked >= len([t for t in ROLES if ROLES[t].distributed])  # one primary key each, at least
        if PARTITIONS:
            parted = dict(conn.execute(text(
                "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_partitioned_table p "
                "JOIN pg_class c ON c.oid = p.partrelid WHERE c.relnamespace = current_schema()::regnamespace")).all())
            for table, key in ((t, _key(t)) for t in ROLES if ROLES[t].distributed):
                assert parted.get(table) == f"HASH ({key})", f"{table} is not hash-partitioned by {key}"
    engine.dispose()


def test_partitioning_a_database_with_rows_keeps_them_their_keys_and_lets_a_customer_change(pg_url, clock,
                                                                                           tmp_path):
    """``onethread db upgrade --partitions 4`` on a database that has rows: every row is still
    there, a link to another customer's row is refused at the commit, and moving a customer's
    rows together to another customer moves them to that customer's partition."""
    url = make_url(pg_url)
    url = url.set(database=f"{url.database}_parts")
    admin_sql(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)', f'CREATE DATABASE "{url.database}"')
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    migrate.upgrade(engine)
    container = build(Settings(database_url=rendered, env="test", attachments_dir=str(tmp_path)), clock=clock)
    try:
        world = make_world(lambda: session_scope(container.sessions), clock)
        with session_scope(container.sessions) as s:
            identifier_service.assign(s, clock, SYSTEM, customer_id=world.customer, kind="msisdn",
                                      value="07700900555", product_id=world.product, region="GB")
        tables = sorted(t for t in ROLES if ROLES[t].distributed)
        before = _counts(engine, tables)
        assert before["product"] == 1 and before["identifier_holding"] == 1 and before["product_status_change"] >= 1

        result = ok(run(rendered, "db", "upgrade", "--partitions", "4"))
        assert f"partitioned {len(tables)} tables by hash into 4" in result.stdout
        assert _counts(engine, tables) == before
        with engine.connect() as conn:
            assert partition.partitioned(conn)["product"] == "HASH (customer_id)"

        with pytest.raises(IntegrityError), engine.begin() as conn:  # the holding alone, to another customer
            conn.execute(text("UPDATE identifier_holding SET customer_id = :other"), {"other": world.other})
        with engine.begin() as conn:  # the product with everything that refers to it: allowed, and moved
            for table in ("product", "product_status_change", "identifier_holding"):
                conn.execute(text(f"UPDATE {table} SET customer_id = :other WHERE customer_id = :c"),
                             {"other": world.other, "c": world.customer})
        with engine.connect() as conn:
            where = conn.execute(text("SELECT tableoid::regclass::text FROM product")).scalar_one()
            expected = conn.execute(text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'product'::regclass AND satisfies_hash_partition("
                "'product'::regclass, 4, right(c.relname, 1)::int, CAST(:other AS varchar))"), {"other": world.other}
            ).scalar_one()
            assert where == expected
    finally:
        container.dispose()
        engine.dispose()
        admin_sql(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _counts(engine, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
