"""Decisions: the policies they follow (every version kept) and each decision with its inputs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, id_column, keyed_by, keyed_id_column
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
    __table_args__ = (
        keyed_by(),
        customer_fk("decision", "product_id", "product"),
        customer_fk("decision", "case_id", "case_file"),
        customer_fk("decision", "order_case_id", "case_file"),
        customer_fk("decision", "commitment_id", "commitment"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(26))
    case_id: Mapped[str | None] = mapped_column(String(26), index=True)
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
    order_case_id: Mapped[str | None] = mapped_column(String(26))
    commitment_id: Mapped[str | None] = mapped_column(String(26))

    __mapper_args__ = {"primary_key": [id]}


class KnownDefect(Base):
    """A recognised fault of a device model: proposed from repeated reports, confirmed by a person,
    retired when the model is fixed. ``symptom`` is the canonical key of the synonym table."""

    __tablename__ = "known_defect"
    __table_args__ = (UniqueConstraint("device_model", "symptom"),)

    id: Mapped[str] = id_column()
    device_model: Mapped[str] = mapped_column(String(120))  # normalised: lower case, single spaces
    symptom: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), index=True)  # proposed | confirmed | retired
    description: Mapped[str | None] = mapped_column(Text)
    report_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct customers when proposed
    proposed_at: Mapped[datetime | None]
    proposed_by: Mapped[str] = mapped_column(String(200))  # a staff id, or "onethread" for a threshold
    confirmed_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(26))
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(26))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DefectReport(Base):
    """One customer's report of a symptom on a device model, in their words and as matched."""

    __tablename__ = "defect_report"
    __table_args__ = (
        keyed_by(),
        customer_fk("defect_report", "case_id", "case_file"),
        customer_fk("defect_report", "decision_id", "decision"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    device_model: Mapped[str] = mapped_column(String(120))
    symptom: Mapped[str | None] = mapped_column(String(60))  # None: the wording matched no symptom
    wording: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(26))
    decision_id: Mapped[str | None] = mapped_column(String(26))
    recorded_by: Mapped[str | None] = mapped_column(String(26))

    __mapper_args__ = {"primary_key": [id]}


Index("ix_defect_report_model_symptom_at", DefectReport.device_model, DefectReport.symptom, DefectReport.reported_at)


class ApprovalRequest(Base):
    """Four eyes: a drastic action asked for with evidence, done only after a second person approves."""

    __tablename__ = "approval_request"
    __table_args__ = (
        keyed_by(),
        customer_fk("approval_request", "product_id", "product"),
        customer_fk("approval_request", "case_id", "case_file"),
        customer_fk("approval_request", "bill_id", "bill"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # terminate_line | flag_fraud | write_off | close_unconfirmed
    product_id: Mapped[str | None] = mapped_column(String(26))
    identifier_id: Mapped[str | None] = mapped_column(String(26))
    case_id: Mapped[str | None] = mapped_column(String(26), index=True)
    bill_id: Mapped[str | None] = mapped_column(String(26))
    amount_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)  # what the requester saw, as recorded
    required_roles: Mapped[list] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | approved | rejected | withdrawn
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(26))
    requested_by_name: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(26))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = mapped_column(Text)
    executed_at: Mapped[datetime | None]
    result: Mapped[dict] = mapped_column(JSONType, default=dict)  # what the action did once approved
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"primary_key": [id], "version_id_col": version}


# The list pages' sorts (keyset paging): the registry newest change first; requests oldest first,
# all of them or those of one status.
Index("ix_known_defect_updated", KnownDefect.updated_at, KnownDefect.id)
Index("ix_approval_request_requested", ApprovalRequest.requested_at, ApprovalRequest.id)
Index("ix_approval_request_status_requested", ApprovalRequest.status, ApprovalRequest.requested_at, ApprovalRequest.id)
