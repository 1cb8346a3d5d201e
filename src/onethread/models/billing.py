"""Bills and their charges (TMF678 customerBill / appliedCustomerBillingRate), as imported from billing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false

from onethread.db.base import Base, customer_fk, keyed_by, keyed_id_column


class Bill(Base):
    __tablename__ = "bill"
    __table_args__ = (
        keyed_by(), customer_fk("bill", "billing_account_id", "billing_account"),
        UniqueConstraint("billing_account_id", "bill_number", "customer_id"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    billing_account_id: Mapped[str] = mapped_column(String(26), index=True)
    bill_number: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(Integer)  # total due, tax included
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # issued | paid | overdue | written_off | disputed
    paid_minor: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None]
    written_off_minor: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class Charge(Base):
    """One line of a bill: which product (and which number) it was for, the period, the amount."""

    __tablename__ = "charge"
    __table_args__ = (
        keyed_by(), customer_fk("charge", "bill_id", "bill"), customer_fk("charge", "product_id", "product"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    bill_id: Mapped[str] = mapped_column(String(26), index=True)
    product_id: Mapped[str | None] = mapped_column(String(26), index=True)
    identifier_id: Mapped[str | None] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(20))  # recurring | usage | one_off | credit | refund | write_off
    description: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(Integer)  # credits are negative
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # the identifier was this customer's before the charged period, no longer during it: kept as
    # evidence (usage naming a removed SIM), for the bill audit to flag
    outside_holding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


Index("ix_charge_identifier", Charge.identifier_id, Charge.period_start)


class BillFinding(Base):
    """What the bill audit found wrong with one charge: the rule's code, the money at stake, and a
    person's confirmation or dismissal. Its id is the code and the charge's id, so one charge gets
    one finding per rule however often the audit runs."""

    __tablename__ = "bill_finding"
    __table_args__ = (
        keyed_by(),
        customer_fk("bill_finding", "bill_id", "bill"),
        customer_fk("bill_finding", "charge_id", "charge"),
        customer_fk("bill_finding", "product_id", "product"),
        customer_fk("bill_finding", "case_id", "case_file"),
    )

    id: Mapped[str] = mapped_column(String(40))  # f"{code}-{charge_id}"
    code: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    bill_id: Mapped[str] = mapped_column(String(26), index=True)
    charge_id: Mapped[str] = mapped_column(String(26), index=True)
    product_id: Mapped[str | None] = mapped_column(String(26))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    reference_on: Mapped[date | None] = mapped_column(Date)  # the termination or deactivation day, when one
    charged_minor: Mapped[int] = mapped_column(BigInteger)
    at_stake_minor: Mapped[int] = mapped_column(BigInteger)  # positive: overcharged; negative: undercharged
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # open | confirmed | dismissed
    found_at: Mapped[datetime]
    case_id: Mapped[str | None] = mapped_column(String(26), index=True)
    decision_id: Mapped[str | None] = mapped_column(String(26))  # the refund decision that counted it last
    reviewed_by: Mapped[str | None] = mapped_column(String(26))
    reviewed_by_name: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


Index("ix_bill_finding_customer_status", BillFinding.customer_id, BillFinding.status)
