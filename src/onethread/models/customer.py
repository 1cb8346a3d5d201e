"""Customers (TMF629), billing accounts, households, representatives, vulnerability."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[str] = id_column()
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), default="approved")
    customer_since: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(20), default="consumer")  # consumer | business
    # TMF attributes onethread has no column for, kept as the client sent them (docs/api/*.md)
    tmf_attributes: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class BillingAccount(Base):
    __tablename__ = "billing_account"
    __table_args__ = (keyed_by(), UniqueConstraint("account_number", "customer_id"))

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    # unique with customer_id; across customers through the identifier registry (kind account)
    account_number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="active")
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class Household(Base):
    __tablename__ = "household"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class HouseholdMember(Base):
    __tablename__ = "household_member"
    __table_args__ = (keyed_by(),)

    id: Mapped[str] = keyed_id_column()
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # head | spouse | partner | child | other
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class Representative(Base):
    """Someone authorised to act for a customer: what they may do and until when."""

    __tablename__ = "representative"
    __table_args__ = (keyed_by(),)

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(40))  # son, daughter, social_worker, attorney...
    permissions: Mapped[list] = mapped_column(JSONType)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


class Vulnerability(Base):
    __tablename__ = "vulnerability"
    __table_args__ = (keyed_by(),)

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[list] = mapped_column(JSONType, default=list)
    consent_given: Mapped[bool] = mapped_column(Boolean)
    consent_recorded_at: Mapped[datetime | None]
    recorded_by: Mapped[str] = mapped_column(String(26))
    recorded_at: Mapped[datetime]
    review_on: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


Index("ix_household_member_active", HouseholdMember.household_id, HouseholdMember.left_on)


class CustomerFlag(Base):
    """A flag on a customer that changes how they are served (fraud), set only through approval."""

    __tablename__ = "customer_flag"
    __table_args__ = (keyed_by(),)

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # fraud
    reason: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(26))
    approval_id: Mapped[str | None] = mapped_column(String(26))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(26))

    __mapper_args__ = {"primary_key": [id]}


class CustomerMerge(Base):
    """The same person recorded twice: ``source`` merged into ``target``, with the evidence named
    and every row that moved (``moved``: table -> ids), so that it can be undone exactly."""

    __tablename__ = "customer_merge"

    id: Mapped[str] = id_column()
    source_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    evidence: Mapped[str] = mapped_column(String(40))  # name_and_birth_date | verified_identity
    reason: Mapped[str] = mapped_column(Text)
    moved: Mapped[dict] = mapped_column(JSONType, default=dict)
    merged_by: Mapped[str] = mapped_column(String(26))
    merged_by_name: Mapped[str] = mapped_column(String(120))
    merged_at: Mapped[datetime]
    undone_by: Mapped[str | None] = mapped_column(String(26))
    undone_by_name: Mapped[str | None] = mapped_column(String(120))
    undone_at: Mapped[datetime | None]
    undo_reason: Mapped[str | None] = mapped_column(Text)
