"""Decisions: the policies they follow (every version kept) and each decision with its inputs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column
from onethread.db.types import JSONType


class PolicyVersion(Base):
    """One version of a policy, as loaded: its YAML source is what explains its decisions."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(200))  # a staff id, or "onethread" for shipped files


class Decision(Base):
    """An answer of a policy: outcome, reasons, policy version, the facts it was given, the channel."""

    __tablename__ = "decision"

    id: Mapped[str] = id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[str | None] = mapped_column(ForeignKey("product.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    policy_version_id: Mapped[str] = mapped_column(ForeignKey("policy_version.id"))
    policy_name: Mapped[str] = mapped_column(String(60))
    policy_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    facts: Mapped[dict] = mapped_column(JSONType)
    rule_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(60))
    staff_reason: Mapped[str] = mapped_column(Text)
    customer_reason: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(26))
    decided_by_name: Mapped[str] = mapped_column(String(200))
    ordered_at: Mapped[datetime | None]
    order_channel: Mapped[str | None] = mapped_column(String(20))
    order_case_id: Mapped[str | None] = mapped_column(ForeignKey("case_file.id"))
    commitment_id: Mapped[str | None] = mapped_column(ForeignKey("commitment.id"))
