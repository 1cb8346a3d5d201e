"""Demo portal sign-ins (password ``onethread-demo``, like the staff): S5's son, who acts for
Edith Clarke, and Margaret Hughes (S2) for herself. Each sees only the cases they should."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import portal as accounts
from onethread.access.rules import PUBLIC_DEMO_PASSWORD
from onethread.bootstrap import Container
from onethread.models import Customer, Representative

PORTAL_PASSWORD = PUBLIC_DEMO_PASSWORD  # the same as the staff's; refused at sign-in in production


def load_portal_accounts(session: Session, c: Container, people: dict[str, Customer]) -> int:
    """Open the demo's portal accounts; returns how many."""
    edith, margaret = people["edith"], people["margaret"]
    son = session.scalar(select(Representative.party_id).where(Representative.customer_id == edith.id,
                                                               Representative.relationship == "son"))
    logins = [(son, "robert.clarke@mail.example"), (margaret.party_id, "margaret.hughes@mail.example")]
    for party_id, login in logins:
        accounts.create_account(session, c.clock, party_id=party_id, login=login, password=PORTAL_PASSWORD)
    return len(logins)
