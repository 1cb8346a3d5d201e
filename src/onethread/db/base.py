"""Declarative base with a constraint naming convention (stable Alembic diffs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, MetaData, PrimaryKeyConstraint, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onethread.db.types import UTCDateTime
from onethread.kernel.ids import new_id

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def id_column() -> Mapped[str]:
    return mapped_column(String(26), primary_key=True, default=new_id)


def keyed_id_column() -> Mapped[str]:
    """The row's own id in a table keyed by ``(id, <distribution column>)`` (db/distribution.py).
    Ids stay globally unique ULIDs, so the ORM maps the row by ``id`` alone: such a class says
    ``__mapper_args__ = {"primary_key": [id]}`` and ``session.get(Model, id)`` works as before."""
    return mapped_column(String(26), default=new_id)


def keyed_by(key: str = "customer_id") -> PrimaryKeyConstraint:
    """The primary key ``(id, key)``: the distribution column is part of it, as Citus and
    PostgreSQL's partitioning require; ``id`` first, so a look-up by id alone uses it."""
    return PrimaryKeyConstraint("id", key)


def customer_fk(table: str, column: str, parent: str, *, key: str = "customer_id") -> ForeignKeyConstraint:
    """A foreign key between two tables of one customer: ``(key, column) -> parent (key, id)``.
    Deferred to the commit, so a customer merge may move a parent before its children."""
    return ForeignKeyConstraint([key, column], [f"{parent}.{key}", f"{parent}.id"],
                                name=f"fk_{table}_{column}_{parent}", deferrable=True, initially="DEFERRED")
