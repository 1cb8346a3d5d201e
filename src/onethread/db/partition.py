"""The partitioned mode: the distributed tables hash-partitioned by their key on PostgreSQL.

``onethread db upgrade --partitions N`` runs the migrations, then turns every table that
db/distribution.py spreads by a key (the customer's tables by ``customer_id``, the others by their
own key) into a table ``PARTITION BY HASH (key)`` with N partitions. PostgreSQL then imposes what
Citus would: the key in every primary key and unique constraint, rows that move between
partitions when their key changes. Each table keeps its columns, defaults, checks, indexes,
constraints and foreign keys (both ways), and its rows. Later migrations apply to the
partitioned tables as to plain ones. Tables already partitioned are left as they are, so the
command can be run again.

One thing is not kept: the exclusion constraint that keeps two customers from holding one
identifier at the same time (``identifier_holding`` is spread by customer, and PostgreSQL cannot
enforce an exclusion across partitions); the service's row lock on the identifier decides it, as
it does on SQLite (docs/scaling.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from onethread.db.distribution import distributed_tables


@dataclass
class Report:
    partitions: int
    tables: list[str] = field(default_factory=list)  # converted now
    already: list[str] = field(default_factory=list)  # partitioned before
    rows: int = 0
    dropped: list[str] = field(default_factory=list)  # constraints PostgreSQL cannot keep on a partitioned table


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def partitioned(conn: Connection) -> dict[str, str]:
    """Table -> partition key definition (``HASH (customer_id)``) of the partitioned tables."""
    return dict(conn.execute(text(
        "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_partitioned_table p JOIN pg_class c "
        "ON c.oid = p.partrelid WHERE c.relnamespace = current_schema()::regnamespace")).all())


def partition(engine: Engine, partitions: int) -> Report:
    """Hash-partition the distributed tables that are still plain, in one transaction."""
    if engine.dialect.name != "postgresql":
        raise ValueError("partitions are a PostgreSQL feature (SQLite has no partitioned tables)")
    if not 2 <= partitions <= 1024:
        raise ValueError("the number of partitions is between 2 and 1024")
    report = Report(partitions)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
        done = partitioned(conn)
        existing = set(conn.execute(text(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
            "AND relkind = 'r'")).scalars())
        todo = {t: k for t, k in distributed_tables().items() if t in existing and t not in done}
        report.already = sorted(t for t in distributed_tables() if t in done)
        if not todo:
            return report
        names = list(todo)
        # Every foreign key that touches a table being rebuilt, and each table's own constraints
        # and indexes, read before anything changes; put back once the tables are partitioned.
        fks = conn.execute(text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace "
            "AND (c.conrelid::regclass::text = ANY(:t) OR c.confrelid::regclass::text = ANY(:t)) "
            "ORDER BY 1, 2"), {"t": names}).all()
        own = conn.execute(text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'x') "
            "AND c.connamespace = current_schema()::regnamespace AND c.conrelid::regclass::text = ANY(:t) "
            "ORDER BY 1, c.contype, 2"), {"t": names}).all()
        indexes = conn.execute(text(
            "SELECT t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:t) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1, 2"),
            {"t": names}).all()
        for table, name, _ in fks:
            conn.execute(text(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}"))
        for table, key in todo.items():
            report.rows += _rebuild(conn, table, key, partitions)
            report.tables.append(table)
        for table, name, kind, definition in own:
            if kind == "x":  # an exclusion across partitions: PostgreSQL cannot keep it (see above)
                report.dropped.append(f"{table}.{name}")
                continue
            conn.execute(text(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}"))
        for _, definition in indexes:
            conn.execute(text(definition))
        for table, name, definition in fks:
            conn.execute(text(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in report.tables:
            conn.execute(text(f"ANALYZE {_q(table)}"))
    return report


def _rebuild(conn: Connection, table: str, key: str, partitions: int) -> int:
    """Replace ``table`` by a hash-partitioned copy with the same columns and rows; its
    constraints and indexes are added back by the caller."""
    plain = f"{table}__plain"
    conn.execute(text(f"ALTER TABLE {_q(table)} RENAME TO {_q(plain)}"))
    conn.execute(text(f"CREATE TABLE {_q(table)} (LIKE {_q(plain)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                      f"INCLUDING GENERATED INCLUDING STORAGE) PARTITION BY HASH ({_q(key)})"))
    for i in range(partitions):
        conn.execute(text(f"CREATE TABLE {_q(f'{table}_p{i}')} PARTITION OF {_q(table)} "
                          f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {i})"))
    moved = conn.execute(text(f"INSERT INTO {_q(table)} SELECT * FROM {_q(plain)}")).rowcount
    conn.execute(text(f"DROP TABLE {_q(plain)}"))
    return moved
