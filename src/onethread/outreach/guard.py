"""The guard's reading of the customer: their real state from the record, never the caller's word.

``state_of`` gathers what ``rules.evaluate`` needs in a fixed number of queries; the set-based
evaluation of a whole campaign is in ``campaigns``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onethread.customers import rules as customer_rules
from onethread.db.session import settings_of
from onethread.inventory.rules import ProductStatus
from onethread.kernel.case_status import CaseStatus
from onethread.models import (
    Case,
    ContactPreference,
    Identifier,
    IdentifierHolding,
    OutboundMessage,
    Party,
    PortalAccount,
    Product,
    Representative,
    Vulnerability,
)
from onethread.outreach import rules

BILLING_KINDS = ("billing_dispute",)


def current_identifier(session: Session, customer_id: str, kind: str, at: datetime) -> str | None:
    """The customer's newest identifier of ``kind`` held at ``at`` (an e-mail address, a number)."""
    return session.scalar(
        select(Identifier.value).join(IdentifierHolding, IdentifierHolding.identifier_id == Identifier.id)
        .where(IdentifierHolding.customer_id == customer_id, Identifier.kind == kind,
               IdentifierHolding.valid_from <= at,
               or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > at))
        .order_by(IdentifierHolding.valid_from.desc()).limit(1))


def _representatives(session: Session, customer_id: str, on) -> tuple[rules.Representative, ...]:
    rows = session.execute(
        select(Representative, Party, PortalAccount.login)
        .join(Party, Party.id == Representative.party_id)
        .outerjoin(PortalAccount, (PortalAccount.party_id == Party.id) & PortalAccount.active.is_(True))
        .where(Representative.customer_id == customer_id).order_by(Representative.created_at)).all()
    found = []
    for rep, party, login in rows:
        status = customer_rules.representative_status(rep.valid_from, rep.valid_until, rep.revoked_at, on)
        if status != customer_rules.ACTIVE:
            continue
        found.append(rules.Representative(party.display_name, login, "receive_letters" in (rep.permissions or [])))
    return tuple(found)


def _commitment_change(session: Session, customer_id: str, account_id: str | None, since: datetime) -> int:
    """Monthly commitment added minus monthly commitment ended since ``since`` (the account's when
    known, else the customer's)."""
    scope = Product.billing_account_id == account_id if account_id else Product.customer_id == customer_id
    added = session.scalar(select(func.coalesce(func.sum(Product.price_minor), 0))
                           .where(scope, Product.activated_at >= since)) or 0
    ended = session.scalar(select(func.coalesce(func.sum(Product.price_minor), 0))
                           .where(scope, Product.terminated_at >= since,
                                  or_(Product.activated_at.is_(None), Product.activated_at < since))) or 0
    return int(added) - int(ended)


def local_hour(session: Session, at: datetime) -> int:
    return at.astimezone(ZoneInfo(settings_of(session).outreach_timezone)).hour


def state_of(session: Session, customer_id: str, at: datetime, *, product_id: str | None = None) -> rules.CustomerState:
    """Everything the guard weighs, as the record says it at ``at``. ``product_id`` is the product
    whose change triggered the message (it does not count among the customer's other products)."""
    pref = session.get(ContactPreference, customer_id)
    vulnerabilities = session.scalars(select(Vulnerability).where(
        Vulnerability.customer_id == customer_id,
        or_(Vulnerability.ended_at.is_(None), Vulnerability.ended_at > at))).all()
    needs = frozenset(n for v in vulnerabilities if v.consent_given for n in (v.needs or []))
    open_cases = dict(session.execute(
        select(Case.kind, func.count()).where(Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED)
        .group_by(Case.kind)).all())
    others = select(func.count()).select_from(Product).where(Product.customer_id == customer_id,
                                                             Product.status == ProductStatus.ACTIVE)
    account_id = None
    if product_id is not None:
        others = others.where(Product.id != product_id)
        account_id = session.scalar(select(Product.billing_account_id).where(Product.id == product_id))
    since = at - rules.RECENT_WINDOW
    promotional = session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.customer_id == customer_id, OutboundMessage.purpose.in_(rules.PROMOTIONAL),
        OutboundMessage.status.in_(("queued", "sending", "sent", "delivered")),
        OutboundMessage.created_at >= at - rules.FREQUENCY_WINDOW)) or 0
    quiet = (pref.quiet_from, pref.quiet_to) if pref and pref.quiet_from is not None and pref.quiet_to is not None \
        else None
    return rules.CustomerState(
        email=current_identifier(session, customer_id, "email", at),
        msisdn=current_identifier(session, customer_id, "msisdn", at),
        allowed_channels=tuple(pref.channels or ()) if pref else (),
        needs=needs, vulnerable=bool(vulnerabilities),
        marketing_consent=bool(pref and pref.marketing_consent),
        opted_out=frozenset(pref.opted_out or ()) if pref else frozenset(),
        quiet=quiet, copy_representative=bool(pref and pref.copy_representative)
        or customer_rules.COPY_REPRESENTATIVE in needs,
        representatives=_representatives(session, customer_id, at.date()),
        open_complaints=open_cases.get("complaint", 0),
        open_billing_cases=sum(open_cases.get(k, 0) for k in BILLING_KINDS),
        active_products=session.scalar(others) or 0,
        commitment_change_minor=_commitment_change(session, customer_id, account_id, since),
        promotional_sent_recently=promotional, local_hour=local_hour(session, at))


def open_complaints(session: Session, customer_id: str) -> int:
    """Complaints and billing cases of the customer not yet closed (the retention-offer decision's fact)."""
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED,
        Case.kind.in_(("complaint", *BILLING_KINDS)))) or 0
