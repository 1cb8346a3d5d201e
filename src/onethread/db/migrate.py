"""Schema migrations: upgrade, and the start-up check that refuses an un-migrated database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from onethread.errors import DatabaseNotReady

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head_revision(engine: Engine) -> str:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (tests and a rollback by hand; data of dropped columns is lost)."""
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    cfg = alembic_config(engine)
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg)
        return
    # SQLite changes a primary key by rebuilding the table, which foreign key enforcement forbids
    # while other tables refer to it: enforcement is turned off around the migration (only possible
    # outside a transaction) and every key is checked before the migration commits.
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys do not hold: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def check_ready(engine: Engine) -> None:
    """Raise ``DatabaseNotReady`` with what to do when the schema is not at head."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise DatabaseNotReady(
            f"The database at {where} has no onethread schema. Run `onethread db upgrade` first."
        )
    raise DatabaseNotReady(
        f"The database at {where} is at schema revision {current}, this onethread needs {head}. "
        "Run `onethread db upgrade` (back up first in production)."
    )
