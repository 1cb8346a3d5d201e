"""A warm hand-over (S1): the person serving the customer gives the problem to someone else with the
story so far, and the live contact goes with it, so the customer tells it once and is not asked
again who they are.

One operation, the same from the store page and the API: open a case (or take one of the
customer's open cases), ask the receiver to take it with the story, and, when the caller is serving
the customer in a live contact session (a store visit, a call, a chat), record the story in that
session as a contact on the case and transfer the session, with its still-valid verification, to
the receiver. Everything is checked before anything is written; a refusal further on raises, and
the entry point's rollback keeps neither part.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import handover_service, rules
from onethread.cases import service as cases
from onethread.cases.rules import CaseStatus
from onethread.customers.service import get_customer
from onethread.errors import Conflict, ValidationFailed
from onethread.interactions import rules as contact_rules
from onethread.interactions import service as interactions
from onethread.interactions import session_service
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock
from onethread.models import Case, Contact, ContactSession, Handover, SessionHop

NOTE_MAX = 2_000  # the story for the receiver
WORDS_MAX = 2_000  # the customer's own account, for a new case
SUBJECTS = {"store": "Store visit", "phone": "Call", "chat": "Chat"}


@dataclass(frozen=True)
class WarmHandover:
    case: Case
    opened: bool  # the case was opened by this hand-over
    handover: Handover
    contact: Contact | None  # the story, recorded in the live contact session (None: no session)
    hop: SessionHop | None  # the session's transfer to the receiver


def problems(*, case_id: str | None, title: str | None, words: str | None, to_owner_id: str | None,
             note: str | None) -> dict[str, str]:
    """Every problem with the input at once, by field (``caseId``, ``title``, ``customerAccount``,
    ``toOwnerId``, ``note``); empty when it may go ahead. A form shows them all together."""
    found: dict[str, str] = {}
    if not (to_owner_id or "").strip():
        found["toOwnerId"] = "choose who takes the case"
    if not (note or "").strip():
        found["note"] = "tell them the story so far, so the customer does not have to repeat it"
    elif len(note.strip()) > NOTE_MAX:
        found["note"] = f"at most {NOTE_MAX} characters"
    if not case_id:
        if not (title or "").strip():
            found["title"] = "give the new case a title"
        elif len(title.strip()) > rules.TITLE_MAX:
            found["title"] = f"at most {rules.TITLE_MAX} characters"
    if words is not None and len(words.strip()) > WORDS_MAX:
        found["customerAccount"] = f"at most {WORDS_MAX} characters"
    return found


def live_session(session: Session, customer_id: str, staff_id: str, channel: str) -> ContactSession | None:
    """The customer's live contact on ``channel`` that ``staff_id`` is serving now, if any."""
    if channel not in contact_rules.SESSION_CHANNELS:
        return None
    return session.scalar(select(ContactSession).where(
        ContactSession.customer_id == customer_id, ContactSession.channel == channel,
        ContactSession.status == "live", ContactSession.holder_staff_id == staff_id)
        .order_by(ContactSession.started_at.desc(), ContactSession.id.desc()).limit(1))


def _named_session(session: Session, session_id: str, customer_id: str) -> ContactSession:
    live = session_service.get(session, session_id)
    if live.customer_id != customer_id:
        raise ValidationFailed("that contact session is not this customer's", field="sessionId")
    if live.status != "live":
        raise Conflict("that contact session has ended", field="sessionId")
    return live


def warm_handover(session: Session, clock: Clock, actor: Principal, *, customer_id: str, to_owner_id: str,
                  note: str, channel: str, case_id: str | None = None, kind: str = "fault", title: str | None = None,
                  words: str | None = None, session_id: str | None = None) -> WarmHandover:
    """Open a case (or take ``case_id``, one of this customer's) and offer it to ``to_owner_id`` with
    ``note``, the story so far. The live contact (``session_id``, else the customer's live ``channel``
    session the caller is serving) goes too: the story lands on the case as a contact of that
    session, and the session is transferred to the receiver with its verification."""
    if channel not in contact_rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(contact_rules.CHANNELS)}", field="channel")
    found = problems(case_id=case_id, title=title, words=words, to_owner_id=to_owner_id, note=note)
    if found:
        field, message = next(iter(found.items()))
        raise ValidationFailed(message, field=field)
    note = note.strip()
    get_customer(session, customer_id)
    case = None
    if case_id:
        case = cases.get_case(session, case_id)
        if case.customer_id != customer_id:
            raise ValidationFailed("that case is not this customer's", field="caseId")
        if case.status == CaseStatus.CLOSED:
            raise Conflict("that case is closed; open a new one", field="caseId")
    handover_service.eligible_owner(session, to_owner_id)  # before anything is written
    live = _named_session(session, session_id, customer_id) if session_id else \
        live_session(session, customer_id, actor.id, channel)
    opened = case is None
    if case is None:
        case = cases.open_new(session, clock, actor, customer_id=customer_id, kind=kind, title=title or "",
                              opened_via=channel, customer_account=(words or "").strip() or None)
    handover = handover_service.request(session, clock, actor, case.id, to_owner_id=to_owner_id, reason=note)
    contact = hop = None
    if live is not None:
        contact = interactions.record_in_session(session, clock, actor, interactions.Intake(
            channel=live.channel, direction=Direction.INBOUND, occurred_at=clock.now(), text=note,
            subject=f"{SUBJECTS.get(live.channel, 'Contact')}: {case.title}"[:contact_rules.MAX_SUBJECT],
            kind=contact_rules.default_kind(live.channel), customer_id=customer_id, session_id=live.id,
            extra={"caseId": case.id})).contact
        cases.attach_contact(session, clock, actor, case.id, contact.id)
        hop = session_service.transfer(session, clock, actor, live.id, to_staff_id=to_owner_id,
                                       reason=f"warm hand-over from the {live.channel}", note=note)
    return WarmHandover(case, opened, handover, contact, hop)
