"""Identifiers over time: who held which number, SIM, device, e-mail, handle or account, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, keyed_by, keyed_id_column


class Identifier(Base):
    """One normalised identifier value. Holdings lock this row to keep periods disjoint."""

    __tablename__ = "identifier"
    __table_args__ = (keyed_by("value"), UniqueConstraint("kind", "value"),)

    id: Mapped[str] = keyed_id_column()
    kind: Mapped[str] = mapped_column(String(20))  # msisdn | iccid | imei | email | social | account
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class IdentifierHolding(Base):
    """``customer_id`` held ``identifier_id`` from ``valid_from`` (inclusive) to ``valid_to`` (exclusive)."""

    __tablename__ = "identifier_holding"
    __table_args__ = (keyed_by(), customer_fk("identifier_holding", "product_id", "product"),)

    id: Mapped[str] = keyed_id_column()
    identifier_id: Mapped[str] = mapped_column(String(26))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(26), index=True)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


Index("ix_identifier_holding_lookup", IdentifierHolding.identifier_id, IdentifierHolding.valid_from)
