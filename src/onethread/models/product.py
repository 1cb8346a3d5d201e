"""Product inventory (TMF637): lines, SIMs, handsets, fibre, with their lifecycle."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        keyed_by(),
        customer_fk("product", "billing_account_id", "billing_account"),
        customer_fk("product", "replaces_product_id", "product"),
        customer_fk("product", "parent_product_id", "product"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    billing_account_id: Mapped[str | None] = mapped_column(String(26), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # mobile_line | data_sim | handset | fibre | broadband
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # TMF637 ProductStatusType
    price_minor: Mapped[int] = mapped_column(Integer, default=0)  # recurring, per month
    currency: Mapped[str] = mapped_column(String(3))
    model: Mapped[str | None] = mapped_column(String(120))  # device model for handsets
    purchased_on: Mapped[date | None] = mapped_column(Date)
    activated_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    termination_channel: Mapped[str | None] = mapped_column(String(20))
    termination_reason: Mapped[str | None] = mapped_column(String(200))
    replaces_product_id: Mapped[str | None] = mapped_column(String(26))
    parent_product_id: Mapped[str | None] = mapped_column(String(26))
    # TMF attributes onethread has no column for, kept as the client sent them (docs/api/*.md)
    tmf_attributes: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"primary_key": [id], "version_id_col": version}


class ProductStatusChange(Base):
    """Each lifecycle step of a product: when, by whom, through which channel, why."""

    __tablename__ = "product_status_change"
    __table_args__ = (keyed_by(), customer_fk("product_status_change", "product_id", "product"),)

    id: Mapped[str] = keyed_id_column()
    product_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(26))
    reason: Mapped[str | None] = mapped_column(String(200))

    __mapper_args__ = {"primary_key": [id]}
