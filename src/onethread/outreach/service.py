"""Use cases of outreach: queue a message (guarded, on the timeline and its case), decide about a
held one, record a delivery receipt, the customer's contact preferences.

Sending is the worker's (``delivery``), never a request's.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.db.session import settings_of
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.interactions import service as interactions
from onethread.interactions.rules import Direction
from onethread.kernel.channels import label as channel_label
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, Contact, ContactPreference, Customer, LetterDocument, OutboundMessage, Party
from onethread.outreach import guard, letters, rules
from onethread.outreach.events import ContactPreferencesRecorded

STATUS_WORDS = {"queued": "queued", "held": "held for review", "sending": "being sent", "sent": "sent",
                "delivered": "delivered", "failed": "failed", "suppressed": "suppressed"}


def get_message(session: Session, message_id: str) -> OutboundMessage:
    found = session.get(OutboundMessage, message_id)
    if found is None:
        raise NotFound(f"no outbound message {message_id}")
    return found


def by_send_key(session: Session, send_key: str) -> OutboundMessage | None:
    return session.scalar(select(OutboundMessage).where(OutboundMessage.send_key == send_key))


def _check(channel: str, purpose: str, subject: str | None, body: str | None, template: str | None) -> None:
    if channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")
    if purpose not in rules.PURPOSES:
        raise ValidationFailed(f"purpose must be one of {', '.join(rules.PURPOSES)}", field="purpose")
    if template is None and not (body or "").strip():
        raise ValidationFailed("the message is empty: send its content or name a template", field="content")
    if body is not None and len(body) > rules.BODY_MAX:
        raise ValidationFailed(f"the content is longer than {rules.BODY_MAX} characters", field="content")
    if subject is not None and len(subject) > rules.SUBJECT_MAX:
        raise ValidationFailed(f"the subject is longer than {rules.SUBJECT_MAX} characters", field="subject")
    if template is not None and template not in letters.names():
        raise ValidationFailed(f"no template {template!r}; one of: {', '.join(letters.names())}", field="template")


def mail_domain(session: Session) -> str:
    address = parseaddr(settings_of(session).mail_from)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "onethread.invalid"


def _language(session: Session, customer: Customer) -> str | None:
    pref = session.get(ContactPreference, customer.id)
    if pref is not None and pref.language:
        return pref.language
    return session.scalar(select(Party.preferred_language).where(Party.id == customer.party_id))


def _thread(session: Session, case_id: str | None) -> tuple[str | None, str | None]:
    """In-Reply-To and References for an e-mail on a case: the newest e-mail on it (the customer's,
    or ours), so the whole exchange is one thread in the customer's mailbox and back here."""
    if case_id is None:
        return None, None
    last = session.execute(
        select(Contact.channel_message_id, Contact.in_reply_to).where(
            Contact.case_id == case_id, Contact.channel == "email", Contact.channel_message_id.like("<%>"))
        .order_by(Contact.occurred_at.desc(), Contact.id.desc()).limit(1)).first()
    if last is None:
        return None, None
    refs = [r for r in (last.in_reply_to, last.channel_message_id) if r]
    return last.channel_message_id, " ".join(dict.fromkeys(refs))


def queue(session: Session, clock: Clock, actor: Principal, *, customer_id: str, channel: str, purpose: str,
          body: str | None = None, subject: str | None = None, template: str | None = None,
          context: dict | None = None, case_id: str | None = None, trigger: dict | None = None,
          send_key: str | None = None, at: datetime | None = None, max_attempts: int | None = None,
          contact: Contact | None = None, market: str | None = None) -> OutboundMessage:
    """Queue one message after the guard has weighed it: queued (the worker sends it), held for a
    person, or suppressed, with every reason. A repeat with the same ``send_key`` returns the first.
    ``contact`` is the outbound contact already recorded for it (a reply on a case); otherwise one
    is recorded here unless the message is suppressed."""
    _check(channel, purpose, subject, body, template)
    if send_key is not None:
        if not send_key.strip() or len(send_key) > 120:
            raise ValidationFailed("the send key is 1-120 characters", field="sendKey")
        existing = by_send_key(session, send_key)
        if existing is not None:
            return existing
    customer = get_customer(session, customer_id)
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.customer_id != customer_id:
            raise ValidationFailed("the case is not this customer's", field="caseId")
    when = ensure_utc(at) if at is not None else clock.now()
    trigger = dict(trigger or {})
    state = guard.state_of(session, customer_id, when, product_id=trigger.get("productId"))
    verdict = rules.evaluate(state, rules.Proposed(channel, purpose, trigger.get("kind")))
    settings = settings_of(session)
    market = market or settings.market
    language = letters.language_for(market, _language(session, customer))
    filled = None
    if template is not None:
        try:
            filled = letters.fill(template, market, language, {"customer_name": customer.name, "text": body or "",
                                                                **(context or {})})
        except letters.TemplateError as exc:
            raise ValidationFailed(str(exc), field="template") from exc
        language = filled.language
        subject, body = subject or filled.subject, filled.body
    message = OutboundMessage(
        id=new_id(), customer_id=customer_id, case_id=case_id, channel=verdict.channel, asked_channel=channel,
        purpose=purpose, template=template, market=market, language=language, trigger=trigger,
        subject=(subject or "").strip() or None, body=body.strip(), status=verdict.status, verdict=verdict.verdict,
        reasons=verdict.reasons_json(), cc=[{"name": r.name, "address": r.email} for r in verdict.cc],
        attempts=0, max_attempts=max_attempts or 6, created_at=when, updated_at=when, created_by=actor.id,
        created_by_name=actor.name, attachments=[])
    message.send_key = send_key or f"msg:{message.id}"
    message.to_address = {"email": state.email, "sms": state.msisdn}.get(verdict.channel)
    if verdict.verdict == rules.SEND:
        message.next_attempt_at = when + timedelta(hours=verdict.defer_hours)
    if verdict.channel == "email":
        message.message_id = f"<{message.id.lower()}.{purpose}@{mail_domain(session)}>"
        message.in_reply_to, message.references = _thread(session, case_id)
    session.add(message)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same send key, queued a moment ago by a concurrent request
        existing = by_send_key(session, message.send_key)
        if existing is None:
            raise
        return existing
    if verdict.channel == "letter" or (template and letters.purpose_of(template) == "regulatory"):
        _attach_letter(session, message, customer, filled, when)
    if message.status != "suppressed":
        _record_contact(session, clock, actor, message, contact, when)
    _event(session, message, f"message.{message.status}", when, actor.name)
    return message


def _attach_letter(session: Session, message: OutboundMessage, customer: Customer, filled, when: datetime) -> None:
    """Render the letter as PDF, keep it, and attach it (an e-mail carries it; a letter is it)."""
    mkt = letters.market(message.market)
    locale = filled.locale if filled else mkt["locale"]
    content = letters.render_pdf(operator=mkt["operator"], recipient=customer.name, subject=message.subject or "",
                                 body=message.body, dated=when, locale=locale,
                                 cc=[c["name"] for c in message.cc],
                                 reference=f"Ref. {message.case_id}" if message.case_id else None)
    name = f"{message.template or 'letter'}-{message.id.lower()}.pdf"
    doc = LetterDocument(customer_id=customer.id, message_id=message.id, case_id=message.case_id,
                         template=message.template or "letter", market=message.market, language=message.language,
                         filename=name, content=content, size=len(content),
                         sha256=hashlib.sha256(content).hexdigest(), postal=message.channel == "letter",
                         created_at=when)
    session.add(doc)
    session.flush()
    message.attachments = [{"documentId": doc.id, "filename": name, "contentType": "application/pdf",
                            "size": len(content)}]


def _record_contact(session: Session, clock: Clock, actor: Principal, message: OutboundMessage,
                    contact: Contact | None, when: datetime) -> None:
    """The message as an outbound contact on the customer's timeline and its case. An e-mail's
    contact carries its Message-ID, so the customer's answer threads back to it (IMAP intake)."""
    channel_message_id = message.message_id or f"{message.channel}-out:{message.id}"
    extra = {"outboundMessageId": message.id, "caseId": message.case_id}
    parent = interactions.find_by_message_id(session, "email", message.in_reply_to) if message.in_reply_to else None
    thread_id = (parent.thread_id or parent.id) if parent is not None else None
    if contact is None:
        kind = "letter" if message.channel == "letter" or message.template == "deadlock" else "message"
        attached = [{"name": a["filename"], "mimeType": a["contentType"], "size": a["size"]}
                    for a in message.attachments]
        contact = interactions.record(session, clock, actor, interactions.Intake(
            channel=message.channel, direction=Direction.OUTBOUND, occurred_at=when, subject=message.subject,
            text=message.body, kind=kind, customer_id=message.customer_id, channel_message_id=channel_message_id,
            in_reply_to=message.in_reply_to, thread_id=thread_id, attachments=attached, extra=extra)).contact
    else:
        contact.channel, contact.channel_message_id = message.channel, channel_message_id
        if channel_message_id is not None:  # its redelivery key (a reply's In-Reply-To finds the contact)
            interactions.claim_message_keys(session, [{"id": contact.id, "channel": message.channel,
                                                       "channel_message_id": channel_message_id}])
        contact.in_reply_to, contact.extra = message.in_reply_to, {**(contact.extra or {}), **extra}
        contact.thread_id = thread_id or contact.thread_id
    contact.case_id = message.case_id
    message.contact_id = contact.id


def _event(session: Session, message: OutboundMessage, type_: str, at: datetime, actor_name: str,
           detail: str | None = None) -> None:
    """A status the customer's timeline shows (the contact itself is there from when it was queued)."""
    status = type_.split(".", 1)[1]
    what = f"{channel_label(message.channel)} to the customer {STATUS_WORDS.get(status, status)}"
    codes = [r["code"] for r in message.reasons or [] if r["code"] not in ("OK",)]
    title = f"{what}: {message.subject}" if message.subject else what
    record_event(session, DomainEvent(
        type=type_, occurred_at=at, aggregate_type="outbound_message", aggregate_id=message.id,
        customer_id=message.customer_id,
        payload={"messageId": message.id, "caseId": message.case_id, "channel": message.channel,
                 "status": status, "purpose": message.purpose, "reasons": codes, "actorName": actor_name,
                 "timelineTitle": title[:300],
                 "timelineDetail": detail or "; ".join(r["reason"] for r in message.reasons or []) or None}))


def set_status(session: Session, message: OutboundMessage, status: str, at: datetime, *, actor_name: str,
               reason: rules.Reason | None = None, error: str | None = None) -> None:
    """Move a message to ``status`` and say so on the timeline (and on its contact)."""
    message.status, message.updated_at = status, at
    if reason is not None:
        message.reasons = [*(message.reasons or []), reason.as_dict()]
    if status == "sent":
        message.sent_at = at
    elif status == "delivered":
        message.delivered_at = at
    elif status == "failed":
        message.failed_at = at
    if error is not None:
        message.last_error = error[:2000]
    if message.contact_id:
        contact = session.get(Contact, message.contact_id)
        if contact is not None:
            contact.extra = {**(contact.extra or {}), "status": status}
    if status in ("sent", "delivered", "failed", "held", "suppressed"):
        _event(session, message, f"message.{status}", at, actor_name, detail=error)


# --- a person decides about a held message --------------------------------------------------

DECISIONS = ("release", "mark_sent", "cancel")


def decide(session: Session, clock: Clock, actor: Principal, message_id: str, *, decision: str,
           note: str) -> OutboundMessage:
    """Release a held message (it is sent as it is), record that it was sent after all (an outcome
    in doubt, checked), or cancel it (suppressed)."""
    message = get_message(session, message_id)
    if decision not in DECISIONS:
        raise ValidationFailed(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    if not (note or "").strip():
        raise ValidationFailed("say why", field="note")
    if actor.kind != "staff":
        raise ValidationFailed("a held message is decided by a named person", field="decision")
    if message.status != "held":
        raise Conflict(f"the message is {message.status}, not held: nothing to decide")
    now = clock.now()
    reason = rules.Reason({"release": "RELEASED", "mark_sent": "CONFIRMED_SENT", "cancel": "CANCELLED"}[decision],
                          f"{actor.name}: {note.strip()}")
    if decision == "release":
        message.verdict, message.next_attempt_at, message.claimed_by = rules.SEND, now, None
        set_status(session, message, "queued", now, actor_name=actor.name, reason=reason)
    elif decision == "mark_sent":
        set_status(session, message, "sent", now, actor_name=actor.name, reason=reason)
    else:
        message.verdict = rules.SUPPRESS
        set_status(session, message, "suppressed", now, actor_name=actor.name, reason=reason)
    return message


def released(message: OutboundMessage) -> bool:
    return any(r.get("code") == "RELEASED" for r in message.reasons or [])


# --- delivery receipts ------------------------------------------------------------------------

def receipt(session: Session, clock: Clock, *, provider_ref: str, status: str, at: datetime | None = None,
            error: str | None = None) -> OutboundMessage:
    """A provider says a message was delivered (or failed) after we handed it over. Repeats are harmless."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_ref == provider_ref))
    if message is None:
        raise NotFound(f"no message with provider reference {provider_ref}", field="id")
    if status not in ("delivered", "failed"):
        raise ValidationFailed("status is delivered or failed", field="status")
    if message.status == status:
        return message
    if message.status not in ("sent", "sending"):
        raise Conflict(f"the message is {message.status}; a receipt is for a sent message")
    when = ensure_utc(at) if at else clock.now()
    set_status(session, message, status, when, actor_name="SMS provider",
               reason=rules.Reason("RECEIPT_" + status.upper(), f"the provider reported it {status}"
                                   + (f": {error}" if error else "")), error=error)
    return message


# --- contact preferences ------------------------------------------------------------------------

def preferences(session: Session, customer_id: str) -> ContactPreference | None:
    get_customer(session, customer_id)
    return session.get(ContactPreference, customer_id)


def set_preferences(session: Session, clock: Clock, actor: Principal, customer_id: str, *, channels: list[str],
                    marketing_consent: bool, opted_out: list[str], quiet_from: int | None, quiet_to: int | None,
                    copy_representative: bool, language: str | None) -> ContactPreference:
    """How the customer wants to be reached, as they told us (recorded with who recorded it)."""
    get_customer(session, customer_id)
    unknown = sorted(set(channels) - set(rules.CHANNELS))
    if unknown:
        raise ValidationFailed(f"unknown channel(s) {', '.join(unknown)}; one of {', '.join(rules.CHANNELS)}",
                               field="channels")
    if "letter" not in channels and channels:
        raise ValidationFailed("letters always reach the customer: keep letter among the chosen channels",
                               field="channels")
    bad = sorted(set(opted_out) - rules.PROMOTIONAL)
    if bad:
        raise ValidationFailed(f"one may opt out of {', '.join(sorted(rules.PROMOTIONAL))} only", field="optedOut")
    for name, hour in (("quietFrom", quiet_from), ("quietTo", quiet_to)):
        if hour is not None and not 0 <= hour <= 23:
            raise ValidationFailed("an hour of the day, 0-23", field=name)
    if (quiet_from is None) != (quiet_to is None):
        raise ValidationFailed("quiet hours need both quietFrom and quietTo", field="quietFrom")
    now = clock.now()
    pref = session.get(ContactPreference, customer_id) or ContactPreference(customer_id=customer_id)
    pref.channels, pref.marketing_consent, pref.opted_out = sorted(set(channels)), marketing_consent, sorted(
        set(opted_out))
    pref.quiet_from, pref.quiet_to, pref.copy_representative = quiet_from, quiet_to, copy_representative
    pref.language = (language or "").strip().lower()[:10] or None
    pref.updated_at, pref.updated_by = now, actor.id
    session.add(pref)
    session.flush()
    record_event(session, ContactPreferencesRecorded(
        occurred_at=now, aggregate_id=customer_id, customer_id=customer_id, actor_name=actor.name,
        timeline_title="Contact preferences recorded",
        timeline_detail=(f"channels: {', '.join(pref.channels) or 'any'}; marketing "
                         f"{'consented' if marketing_consent else 'not consented'}")))
    return pref


def evaluate_now(session: Session, clock: Clock, message: OutboundMessage) -> rules.Verdict:
    """The guard again, as the record says it now (the worker asks before each send)."""
    state = guard.state_of(session, message.customer_id, clock.now(),
                           product_id=(message.trigger or {}).get("productId"))
    verdict = rules.evaluate(state, rules.Proposed(message.asked_channel, message.purpose,
                                                   (message.trigger or {}).get("kind")))
    if verdict.channel != message.channel and verdict.verdict == rules.SEND:
        # The channel the message was prepared for no longer suits: keep it, a person looks.
        return replace(verdict, verdict=rules.HOLD, reasons=(rules.Reason(
            "CHANNEL_CHANGED", f"the customer's channels changed since it was queued ({message.channel} -> "
                               f"{verdict.channel})"), *verdict.reasons))
    return verdict
