"""The customer portal's use cases: a person's cases (their own, and those of the customers they
represent), a case's customer-visible log, and a message to the case's owner.

Scope is enforced here, not in the pages: a case the viewer may not see is ``NotFound``, the
same answer as a case that does not exist, so the portal never confirms another customer's
case. Every read is in the audit log under the person who made it (actor type ``customer``).
A message lands in the case as an inbound portal contact, from the representative on behalf
of the customer when that is who wrote, and starts the customer-waiting clock
(``service.customer_message``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.attachments import service as attachments
from onethread.cases import brief as case_brief
from onethread.cases import service as cases
from onethread.cases.rules import CaseStatus, ClockKind
from onethread.customers.portal import PortalViewer
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock
from onethread.models import Attachment, Case, CaseClock, CaseEvent, Contact, StaffUser

CHANNEL = "portal"
MESSAGE_MAX = 5_000  # a message typed into a form; longer is a letter (or an attachment)
CASES_SHOWN = 100  # the portal lists a person's cases newest first; nobody has more that matter

STATUS_LABELS = {  # what the customer reads for each status
    CaseStatus.OPEN: "Open", CaseStatus.IN_PROGRESS: "In progress", CaseStatus.WAITING_CUSTOMER: "Waiting for you",
    CaseStatus.RESOLVED: "Resolved (to be confirmed)", CaseStatus.CLOSED: "Closed",
}
EVENT_LABELS = {
    "opened": "Case opened", "customer_message": "Message", "replied": "Reply", "closed": "Case closed",
    "step_acknowledged": "Acknowledged", "step_apology": "Apology", "step_resolution_offer": "What we offer",
    "deadlock_letter": "Final response",
}


@dataclass(frozen=True)
class PortalCase:
    """One case as the customer sees it."""

    case: Case
    customer_name: str
    on_behalf: str | None  # "Robert Clarke (son)" when the viewer acts for this customer
    owner_name: str
    status_label: str
    next_step: str
    next_step_due: datetime | None
    for_customer: str
    awaiting_reply_since: datetime | None
    may_message: bool


@dataclass(frozen=True)
class PortalEvent:
    at: datetime
    label: str
    by: str
    text: str | None
    mine: bool  # written by the viewer
    files: tuple[Attachment, ...] = ()  # kept with the message or reply


def _visible(session: Session, viewer: PortalViewer, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or not viewer.sees(case.customer_id):
        raise NotFound(f"no case {case_id}")  # not 403: do not confirm that someone else's case exists
    return case


def _audit(session: Session, clock: Clock, viewer: PortalViewer, rows: list[Case], purpose: str) -> None:
    shown: dict[str, list[str]] = defaultdict(list)
    for case in rows:
        shown[case.customer_id].append(case.id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, viewer.principal, action="read", resource_type="case",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=CHANNEL,
                     purpose=purpose, detail={"caseIds": ids} if len(ids) > 1 else None)


def _view(session: Session, viewer: PortalViewer, case: Case, now: datetime, owners: dict[str, str],
          waiting_due: dict[str, datetime]) -> PortalCase:
    owner = owners.get(case.owner_id, "")
    brief = case_brief.build(session, case, now)
    if case.status == CaseStatus.CLOSED:
        step, due = "none: the case is closed", None
    elif case.awaiting_reply_since is not None:
        step, due = f"{owner} replies to your message", waiting_due.get(case.id)
    elif brief.next_step == "decide the next action":
        step, due = f"{owner} decides the next step", None
    else:
        step, due = brief.next_step, brief.next_step_due
    return PortalCase(case, viewer.standings[case.customer_id].customer_name, viewer.on_behalf(case.customer_id),
                      owner, STATUS_LABELS.get(case.status, case.status), step, due, brief.for_customer,
                      case.awaiting_reply_since,
                      viewer.may_message(case.customer_id) and case.status != CaseStatus.CLOSED)


def _owners_and_clocks(session: Session, rows: list[Case]) -> tuple[dict[str, str], dict[str, datetime]]:
    if not rows:
        return {}, {}
    owners = dict(session.execute(select(StaffUser.id, StaffUser.display_name).where(
        StaffUser.id.in_({c.owner_id for c in rows}))).all())
    waiting = dict(session.execute(select(CaseClock.case_id, CaseClock.due_at).where(
        CaseClock.case_id.in_([c.id for c in rows]), CaseClock.kind == ClockKind.CUSTOMER_WAITING,
        CaseClock.stopped_at.is_(None))).all())
    return owners, waiting


def my_cases(session: Session, clock: Clock, viewer: PortalViewer) -> list[PortalCase]:
    """The viewer's cases: open ones first, then closed, newest first within each."""
    if not viewer.standings:
        return []
    rows = list(session.scalars(
        select(Case).where(Case.customer_id.in_(list(viewer.standings)))
        .order_by((Case.status == CaseStatus.CLOSED), Case.opened_at.desc(), Case.id.desc()).limit(CASES_SHOWN)))
    _audit(session, clock, viewer, rows, "portal_cases")
    owners, waiting = _owners_and_clocks(session, rows)
    now = clock.now()
    return [_view(session, viewer, case, now, owners, waiting) for case in rows]


def read_case(session: Session, clock: Clock, viewer: PortalViewer, case_id: str
              ) -> tuple[PortalCase, list[PortalEvent]]:
    """One of the viewer's cases and its customer-visible log, oldest first (404 if not theirs)."""
    case = _visible(session, viewer, case_id)
    _audit(session, clock, viewer, [case], "portal_case")
    owners, waiting = _owners_and_clocks(session, [case])
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.audience == "customer")
                             .order_by(CaseEvent.at, CaseEvent.id)).all()
    files = attachments.for_contacts(session, [e.data.get("contactId") for e in events
                                               if isinstance(e.data, dict) and e.data.get("contactId")])
    log = [PortalEvent(e.at, EVENT_LABELS.get(e.kind, e.kind.replace("_", " ").capitalize()),
                       e.actor_name or "onethread", e.text, e.actor_id == viewer.party_id,
                       tuple(files.get((e.data or {}).get("contactId"), ()))) for e in events]
    return _view(session, viewer, case, clock.now(), owners, waiting), log


def send_message(session: Session, clock: Clock, viewer: PortalViewer, case_id: str, text: str,
                 files: list[attachments.Incoming] | None = None) -> Contact:
    """The viewer writes to the case's owner: an inbound portal contact on the case, from the
    representative on behalf of the customer where that is who wrote; the reply clock starts.
    Files sent with it are kept with the contact (all checked first: one refused, nothing sent)."""
    files = files or []
    case = _visible(session, viewer, case_id)
    if not viewer.may_message(case.customer_id):
        raise Forbidden(f"you may follow {viewer.standings[case.customer_id].customer_name}'s cases but not "
                        "message on their behalf")
    text = (text or "").strip()
    attachments.check_all(session, files, field="files")
    if not text and files:
        text = f"Sent {len(files)} file{'s' if len(files) != 1 else ''}: " + ", ".join(
            (f.name or "unnamed") for f in files)[:MESSAGE_MAX - 40]
    if not text:
        raise ValidationFailed("write a message", field="text")
    if len(text) > MESSAGE_MAX:
        raise ValidationFailed(f"the message is longer than {MESSAGE_MAX} characters", field="text")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("this case is closed; call us or write to us to raise something new", field="text")
    contact = cases.customer_message(session, clock, viewer.principal, case.id, text=text, channel=CHANNEL,
                                     on_behalf=viewer.on_behalf(case.customer_id))
    attachments.keep(session, clock, viewer.principal, contact, files, source="portal")
    return contact


def read_attachment(session: Session, clock: Clock, viewer: PortalViewer, attachment_id: str
                    ) -> tuple[Attachment, bytes]:
    """A file of a message or reply on one of the viewer's cases (from or to the customer; never an
    internal note's). Anything else is ``NotFound``, as for a case that is not theirs. Audited."""
    try:
        row, contact = attachments.get(session, attachment_id)
    except NotFound:
        raise NotFound(f"no attachment {attachment_id}") from None
    if contact.case_id is None or contact.direction == Direction.INTERNAL:
        raise NotFound(f"no attachment {attachment_id}")
    _visible(session, viewer, contact.case_id)
    access.audit(session, clock, viewer.principal, action="read", resource_type="attachment", resource_id=row.id,
                 customer_id=contact.customer_id, channel=CHANNEL, purpose="download",
                 detail={"contactId": contact.id})
    return row, attachments.content_of(session, row)
