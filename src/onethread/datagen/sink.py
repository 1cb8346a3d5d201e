"""Where generated rows go: PostgreSQL through ``COPY ... FROM STDIN`` (binary), SQLite through
``executemany``. One transaction per batch of customers, so an interrupted run leaves whole
customers behind, never half of one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from onethread.datagen.shape import TABLES
from onethread.db.base import Base


class PostgresSink:
    def __init__(self, url: str) -> None:
        parsed = make_url(url).set(drivername="postgresql")
        self.conn = psycopg.connect(parsed.render_as_string(hide_password=False))
        # The generator's own commits need not wait for the WAL flush: a crash loses the last
        # batches, which a rerun into a fresh database regenerates identically.
        self.conn.execute("SET synchronous_commit = off")
        self.backend_pid = self.conn.info.backend_pid
        self.conn.commit()
        self.types: dict[str, list[str]] = {}
        self.seconds: dict[str, float] = {}  # time spent writing each table (the database's share)
        with self.conn.cursor() as cur:
            for table, columns in TABLES.items():
                cur.execute("SELECT column_name, udt_name FROM information_schema.columns "
                            "WHERE table_schema = current_schema() AND table_name = %s", (table,))
                found = dict(cur.fetchall())
                missing = [c for c in columns if c not in found]
                if missing:
                    raise RuntimeError(f"table {table} lacks column(s) {', '.join(missing)}: schema not at head?")
                self.types[table] = [found[c] for c in columns]
        self.conn.commit()

    def write(self, rows: dict[str, list[tuple]], order: Iterable[str]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            for table in order:
                data = rows.get(table)
                if not data:
                    continue
                columns = ", ".join(f'"{c}"' for c in TABLES[table])
                began = time.monotonic()
                with cur.copy(f'COPY "{table}" ({columns}) FROM STDIN (FORMAT BINARY)') as copy:
                    copy.set_types(self.types[table])
                    write = copy.write_row
                    for row in data:
                        write(row)
                self.seconds[table] = self.seconds.get(table, 0.0) + time.monotonic() - began

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)
        self.conn.commit()

    def analyze(self, tables: Iterable[str]) -> None:
        self.conn.autocommit = True
        for table in tables:
            self.conn.execute(f'ANALYZE "{table}"')
        self.conn.autocommit = False

    def backend_cpu_seconds(self) -> float | None:
        """CPU time of this connection's server process, when the server runs on this machine
        and its /proc entry is readable (else None): what the database spent on the load."""
        try:
            with open(f"/proc/{self.backend_pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        self.conn.close()


class SqliteSink:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables = Base.metadata.tables

    def write(self, rows: dict[str, list[tuple]], order: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            for table in order:
                data = rows.get(table)
                if not data:
                    continue
                columns = TABLES[table]
                conn.execute(self.tables[table].insert(), [dict(zip(columns, row, strict=True)) for row in data])

    def execute(self, sql: str) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql)

    def analyze(self, tables: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        pass

