"""E-mails recorded into triage, customers with an e-mail address, cases opened for them, and the
triage item of a contact."""

from __future__ import annotations

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.interactions import service as interactions
from onethread.models import TriageItem
from tests.support.sessions_api import make_customer


def email(uow, clock, sender: str, text: str = "my line is dead", **kw) -> str:
    with uow() as s:
        return interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="email", direction="inbound", occurred_at=clock.now(), text=text,
            identifiers={"email": sender}, **kw)).contact.id


def customer_with_email(uow, clock, given="Ann", family="Lee", address="ann@example.com") -> str:
    cid = make_customer(uow, clock, given, family)
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="email", value=address)
    return cid


def open_case(uow, clock, cid: str, owner: str, **kw) -> str:
    with uow() as s:
        return cases.open_new(s, clock, SYSTEM, customer_id=cid, kind=kw.pop("kind", "fault"),
                              title=kw.pop("title", "No dial tone"), opened_via="phone", owner_id=owner, **kw).id


def item_of(uow, contact_id: str) -> TriageItem | None:
    with uow() as s:
        item = s.scalar(select(TriageItem).where(TriageItem.contact_id == contact_id))
        if item is not None:
            s.expunge(item)
        return item
