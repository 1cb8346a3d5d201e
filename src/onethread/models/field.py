"""Field service: subcontractors, work orders with ordered tasks and prerequisites, visits
(appointments), incidents reported from the field, and subcontractor audits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, id_column, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class Subcontractor(Base):
    """A firm doing visits for the operator. Its people are the field_subcontractor users of its
    team; its own manager is that team's lead; the supplier manager is the operator's person."""

    __tablename__ = "subcontractor"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str] = mapped_column(ForeignKey("team.id"), unique=True)
    supplier_manager_id: Mapped[str] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime]


class WorkOrder(Base):
    __tablename__ = "work_order"
    __table_args__ = (
        keyed_by(),
        customer_fk("work_order", "case_id", "case_file"),
        customer_fk("work_order", "product_id", "product"),
    )

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    product_id: Mapped[str | None] = mapped_column(String(26))
    subcontractor_id: Mapped[str | None] = mapped_column(ForeignKey("subcontractor.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # installation | repair
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | completed | cancelled
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


class WorkOrderTask(Base):
    """One ordered step of a work order. A prerequisite is also a case task (owner, due date,
    overdue clock); its state is that task's."""

    __tablename__ = "work_order_task"
    __table_args__ = (
        keyed_by(),
        customer_fk("work_order_task", "work_order_id", "work_order"),
        customer_fk("work_order_task", "case_task_id", "case_task"),
    )

    id: Mapped[str] = keyed_id_column()
    work_order_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # step | prerequisite
    cause: Mapped[str | None] = mapped_column(String(30))  # the visit failure cause it answers to
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done (steps)
    case_task_id: Mapped[str | None] = mapped_column(String(26))
    done_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


class Visit(Base):
    """An appointment at the customer's (TMF646 Appointment)."""

    __tablename__ = "visit"
    __table_args__ = (keyed_by(), customer_fk("visit", "work_order_id", "work_order"),)

    id: Mapped[str] = keyed_id_column()
    work_order_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26), index=True)
    subcontractor_id: Mapped[str] = mapped_column(ForeignKey("subcontractor.id"), index=True)
    technician_id: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    # booked | dispatched | done | failed | customer_absent | cancelled
    status: Mapped[str] = mapped_column(String(20), default="booked")
    cause: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))  # operator | customer | subcontractor
    wasted_day: Mapped[bool] = mapped_column(default=False)
    rebooked_from_id: Mapped[str | None] = mapped_column(String(26))
    booked_by: Mapped[str] = mapped_column(String(26))
    booked_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    outcome_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


class FieldIncident(Base):
    """Damage, injury or property left unsafe, reported by anyone; a harm on the case."""

    __tablename__ = "field_incident"
    __table_args__ = (
        keyed_by(),
        customer_fk("field_incident", "work_order_id", "work_order"),
        customer_fk("field_incident", "visit_id", "visit"),
        customer_fk("field_incident", "case_id", "case_file"),
        customer_fk("field_incident", "harm_id", "harm"),
        customer_fk("field_incident", "claim_task_id", "case_task"),
    )

    id: Mapped[str] = keyed_id_column()
    work_order_id: Mapped[str] = mapped_column(String(26), index=True)
    visit_id: Mapped[str | None] = mapped_column(String(26))
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26), index=True)
    subcontractor_id: Mapped[str | None] = mapped_column(ForeignKey("subcontractor.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # damage | injury | unsafe
    description: Mapped[str] = mapped_column(Text)
    harm_id: Mapped[str] = mapped_column(String(26))
    claim_task_id: Mapped[str] = mapped_column(String(26))
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_by_id: Mapped[str] = mapped_column(String(26))
    reported_at: Mapped[datetime]
    repaired_at: Mapped[datetime | None]  # the subcontractor's own repair: does not close the harm
    repair_note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    confirmed_how: Mapped[str | None] = mapped_column(String(20))  # customer | inspection

    __mapper_args__ = {"primary_key": [id]}


class SubcontractorAudit(Base):
    __tablename__ = "subcontractor_audit"

    id: Mapped[str] = id_column()
    subcontractor_id: Mapped[str] = mapped_column(ForeignKey("subcontractor.id"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("staff_user.id"))  # the supplier manager
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    reasons: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
