"""Cases (TMF621 troubleTicket) with one owner, hand-overs, commitments, harms, tasks,
participants, clocks (timer rows) and escalations, and the case's own log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class Case(Base):
    __tablename__ = "case_file"  # "case" is an SQL keyword
    __table_args__ = (keyed_by(), customer_fk("case_file", "product_id", "product"),)

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # fault | complaint | billing_dispute | order_problem | ...
    category: Mapped[str | None] = mapped_column(String(60))
    product_id: Mapped[str | None] = mapped_column(String(26))
    title: Mapped[str] = mapped_column(String(300))
    customer_account: Mapped[str | None] = mapped_column(Text)  # the customer's own words
    status: Mapped[str] = mapped_column(String(20), default="open")
    severity: Mapped[str] = mapped_column(String(10), default="medium")  # low | medium | high | urgent
    owner_id: Mapped[str] = mapped_column(ForeignKey("staff_user.id"), index=True)
    opened_via: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(26))
    market: Mapped[str] = mapped_column(String(10), default="GB")
    last_activity_at: Mapped[datetime]
    awaiting_reply_since: Mapped[datetime | None]  # the customer's unanswered message
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    customer_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    merged_into_id: Mapped[str | None] = mapped_column(String(26))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # TMF attributes onethread has no column for, kept as the client sent them (docs/api/*.md)
    tmf_attributes: Mapped[dict | None] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"primary_key": [id], "version_id_col": version}


class CaseEvent(Base):
    """The case's log: every step, message, hand-over, escalation, with who and when."""

    __tablename__ = "case_event"
    __table_args__ = (keyed_by(), customer_fk("case_event", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(String(26))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(10), default="internal")  # internal | customer
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    __mapper_args__ = {"primary_key": [id]}


class Handover(Base):
    __tablename__ = "case_handover"
    __table_args__ = (keyed_by(), customer_fk("case_handover", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    from_owner_id: Mapped[str] = mapped_column(String(26))
    to_owner_id: Mapped[str] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(26))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # pending | accepted | declined | cancelled | imposed
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


class Commitment(Base):
    __tablename__ = "commitment"
    __table_args__ = (keyed_by(), customer_fk("commitment", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    made_via: Mapped[str] = mapped_column(String(20))
    made_by: Mapped[str] = mapped_column(String(26))
    made_at: Mapped[datetime]
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | kept | cancelled
    closed_at: Mapped[datetime | None]
    closed_note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


class Harm(Base):
    __tablename__ = "harm"
    __table_args__ = (keyed_by(), customer_fk("harm", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    reported_severity: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))  # after vulnerability raised it
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


class Participant(Base):
    """A third party on the case: insurer, claims handler, plumber, subcontractor..."""

    __tablename__ = "case_participant"
    __table_args__ = (keyed_by(), customer_fk("case_participant", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


class Task(Base):
    __tablename__ = "case_task"
    __table_args__ = (keyed_by(), customer_fk("case_task", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    title: Mapped[str] = mapped_column(String(300))
    assignee_kind: Mapped[str] = mapped_column(String(20))  # staff | team | participant
    assignee_id: Mapped[str] = mapped_column(String(26))
    assignee_name: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done | cancelled
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


class CaseClock(Base):
    """A timer row: due at ``due_at`` unless stopped first. Sweeps claim breached rows."""

    __tablename__ = "case_clock"
    __table_args__ = (keyed_by(), customer_fk("case_clock", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[str | None] = mapped_column(String(26))  # the task or commitment it watches
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    fired_by: Mapped[str | None] = mapped_column(String(80))
    paused_at: Mapped[datetime | None]  # the case waits on the customer or a third party: it does not run

    __mapper_args__ = {"primary_key": [id]}


class CaseWait(Base):
    """The case waits on the customer or a named third party: the pausable clocks do not run
    from ``started_at`` until ``ended_at`` (None: still waiting)."""

    __tablename__ = "case_wait"
    __table_args__ = (keyed_by(), customer_fk("case_wait", "case_id", "case_file"),)

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    waiting_on: Mapped[str] = mapped_column(String(20))  # customer | third_party
    party: Mapped[str | None] = mapped_column(String(200))  # the third party, named
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(26))
    started_by_name: Mapped[str] = mapped_column(String(120))
    ended_at: Mapped[datetime | None]
    ended_by_name: Mapped[str | None] = mapped_column(String(120))
    end_reason: Mapped[str | None] = mapped_column(String(300))

    __mapper_args__ = {"primary_key": [id]}


class Escalation(Base):
    __tablename__ = "escalation"
    __table_args__ = (keyed_by(), customer_fk("escalation", "case_id", "case_file"),
                      UniqueConstraint("clock_id", "customer_id"))

    id: Mapped[str] = keyed_id_column()
    case_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str] = mapped_column(String(26))
    clock_id: Mapped[str | None] = mapped_column(String(26))  # once per breach: unique with customer_id
    clock_kind: Mapped[str] = mapped_column(String(30))
    level: Mapped[int] = mapped_column(Integer)
    to_staff_id: Mapped[str | None] = mapped_column(String(26))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]

    __mapper_args__ = {"primary_key": [id]}


Index("ix_case_open_owner", Case.owner_id, Case.status)
Index("ix_case_customer_status", Case.customer_id, Case.status)
_OPEN_CLOCK = CaseClock.fired_at.is_(None) & CaseClock.stopped_at.is_(None)
Index("ix_case_clock_due", CaseClock.due_at, postgresql_where=_OPEN_CLOCK, sqlite_where=_OPEN_CLOCK)
Index("ix_case_event_case_at", CaseEvent.case_id, CaseEvent.at)
# The list pages' sorts (keyset paging): a staff member's cases newest first; the clocks past due
# and not dealt with (the supervisor queue), oldest breach first.
Index("ix_case_owner_opened", Case.owner_id, Case.opened_at, Case.id)
_BREACHED_CLOCK = CaseClock.fired_at.is_not(None) & CaseClock.stopped_at.is_(None)
Index("ix_case_clock_breached", CaseClock.fired_at, CaseClock.case_id, postgresql_where=_BREACHED_CLOCK,
      sqlite_where=_BREACHED_CLOCK)


class TriageItem(Base):
    """An inbound contact that joined no case, waiting in a team's queue with a first-response
    clock (``due_at``, on the market's business hours); done when the contact reaches a case (or
    its match-queue item is dismissed). One per contact; a live session's later contacts are
    covered by its first one's item."""

    __tablename__ = "triage_item"
    __table_args__ = (keyed_by("contact_id"),)

    id: Mapped[str] = keyed_id_column()
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id"), unique=True)
    customer_id: Mapped[str | None] = mapped_column(String(26), index=True)  # None while in the match queue
    session_id: Mapped[str | None] = mapped_column(String(26), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("team.id"))  # None: the general queue
    rule: Mapped[str] = mapped_column(String(120))  # the routing rule that chose the queue
    reason: Mapped[str] = mapped_column(Text)  # why it is in the queue (no case to join, ...)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the first-response clock: escalated when passed, then restarted
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to: Mapped[str | None] = mapped_column(String(26))
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(26))
    resolution: Mapped[str | None] = mapped_column(String(30))  # case | dismissed
    case_id: Mapped[str | None] = mapped_column(String(26))  # the case it reached

    __mapper_args__ = {"primary_key": [id]}


Index("ix_triage_item_open_due", TriageItem.done_at, TriageItem.due_at)
Index("ix_triage_item_team_open", TriageItem.team_id, TriageItem.done_at, TriageItem.created_at)
Index("ix_triage_item_assigned_open", TriageItem.assigned_to, TriageItem.done_at)  # a person's load


class CaseReadMark(Base):
    """When a staff member last opened a case (My work's unread marker)."""

    __tablename__ = "case_read_mark"

    staff_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    read_at: Mapped[datetime]
