"""Who a person signed in to the portal is, and for whom they may act.

A person sees the cases of their own customer record(s) and of the customers they represent
with ``view_cases`` in force today (by the injected clock: an authority that has expired or
been revoked stops working the next request). They may message a case's owner for
themselves, and for a represented customer while ``message_owner`` is in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import portal as accounts
from onethread.access.rules import CUSTOMER, Principal
from onethread.customers import rules
from onethread.kernel.clock import Clock
from onethread.models import Customer, Party, PortalAccount, Representative

SELF = "self"


@dataclass(frozen=True)
class Standing:
    """What the signed-in person may do for one customer."""

    customer_id: str
    customer_name: str
    relationship: str  # "self", or the representative's relationship (son, social_worker, ...)
    may_message: bool


@dataclass(frozen=True)
class PortalViewer:
    account_id: str
    party_id: str
    name: str
    login: str
    standings: dict[str, Standing] = field(default_factory=dict)  # by customer id

    @property
    def principal(self) -> Principal:
        """The person as the case log, the timeline and the audit log name them."""
        return Principal(kind="customer", id=self.party_id, name=self.name, role=CUSTOMER)

    def sees(self, customer_id: str) -> bool:
        return customer_id in self.standings

    def may_message(self, customer_id: str) -> bool:
        standing = self.standings.get(customer_id)
        return bool(standing and standing.may_message)

    def on_behalf(self, customer_id: str) -> str | None:
        """``"Robert Clarke (son)"`` when writing for someone else; None for the customer themself."""
        standing = self.standings.get(customer_id)
        if standing is None or standing.relationship == SELF:
            return None
        return f"{self.name} ({standing.relationship.replace('_', ' ')})"


def viewer(session: Session, clock: Clock, account: PortalAccount) -> PortalViewer:
    """The portal principal of an account, with the customers it may see today."""
    party = session.get(Party, account.party_id)
    standings: dict[str, Standing] = {}
    for customer in session.scalars(select(Customer).where(Customer.party_id == account.party_id)
                                    .order_by(Customer.created_at, Customer.id)):
        standings[customer.id] = Standing(customer.id, customer.name, SELF, True)
    today = clock.now().date()
    granted: dict[str, tuple[str, set[str]]] = {}
    for rep in session.scalars(select(Representative).where(Representative.party_id == account.party_id)
                               .order_by(Representative.valid_from, Representative.id)):
        status = rules.representative_status(rep.valid_from, rep.valid_until, rep.revoked_at, today)
        in_force = rules.permissions_in_force(rep.permissions or [], status)
        if in_force:
            relationship, perms = granted.setdefault(rep.customer_id, (rep.relationship, set()))
            perms.update(in_force)
    if granted:
        names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(granted))).all())
        for customer_id, (relationship, perms) in granted.items():
            if customer_id in standings or "view_cases" not in perms:
                continue
            standings[customer_id] = Standing(customer_id, names[customer_id], relationship, "message_owner" in perms)
    return PortalViewer(account.id, account.party_id, party.display_name if party else account.login, account.login,
                        standings)


def signed_in(session: Session, clock: Clock, account_id: str | None) -> PortalViewer | None:
    """The viewer behind a portal cookie's account id, if the account is still open."""
    account = accounts.active_account(session, account_id) if account_id else None
    return viewer(session, clock, account) if account is not None else None


def sign_in(session: Session, clock: Clock, login: str, password: str, **guard) -> PortalViewer:
    """Check the login and password (``NotAuthenticated`` when wrong) and say who signed in;
    ``guard``: the throttling and production checks of ``access.portal.authenticate``."""
    return viewer(session, clock, accounts.authenticate(session, clock, login, password, **guard))
