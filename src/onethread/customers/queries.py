"""Read models for customers: lists, and what a customer's TMF shape needs, in few queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from onethread.access.rules import SYSTEM
from onethread.customers import rules
from onethread.errors import NotFound
from onethread.inventory import service as inventory
from onethread.kernel.money import Money
from onethread.models import (
    ApiToken,
    BillingAccount,
    ContactPreference,
    Customer,
    Household,
    HouseholdMember,
    Identifier,
    IdentifierHolding,
    Party,
    Product,
    Representative,
    StaffUser,
    Vulnerability,
)


def list_customers(session: Session, *, offset: int, limit: int, name: str | None = None,
                   status: str | None = None) -> tuple[list[Customer], int]:
    query = select(Customer)
    if name:
        query = query.where(func.lower(Customer.name).contains(name.lower(), autoescape=True))
    if status:
        query = query.where(Customer.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Customer.id).offset(offset).limit(limit)).all()
    return list(rows), total


# The customer 360's statements are built once, with bound parameters: building a SELECT costs
# more Python than running it (SQLAlchemy caches the compiled form, not the construction).
_IDS = bindparam("ids", expanding=True)
_ACCOUNTS = (select(BillingAccount).where(BillingAccount.customer_id.in_(_IDS))
             .order_by(BillingAccount.opened_on, BillingAccount.id))


def accounts_by_customer(session: Session, customer_ids: list[str]) -> dict[str, list[BillingAccount]]:
    out: dict[str, list[BillingAccount]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    for acc in session.scalars(_ACCOUNTS, {"ids": list(customer_ids)}):
        out[acc.customer_id].append(acc)
    return out


_AT = bindparam("at")
_CURRENT_IDENTIFIERS = (
    select(IdentifierHolding, Identifier.kind, Identifier.value)
    .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
    .where(IdentifierHolding.customer_id.in_(_IDS), IdentifierHolding.valid_from <= _AT,
           or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > _AT))
    .order_by(Identifier.kind, Identifier.value))


def current_identifiers(session: Session, customer_ids: list[str], at: datetime) -> dict[str, list[tuple]]:
    """Identifiers each customer holds at ``at``: ``{customer_id: [(kind, value, holding), ...]}``."""
    out: dict[str, list[tuple]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    rows = session.execute(_CURRENT_IDENTIFIERS, {"ids": list(customer_ids), "at": at}).all()
    for holding, kind, value in rows:
        out[holding.customer_id].append((kind, value, holding))
    return out


def parties_by_id(session: Session, party_ids: list[str]) -> dict[str, Party]:
    if not party_ids:
        return {}
    return {p.id: p for p in session.scalars(select(Party).where(Party.id.in_(set(party_ids))))}


def customers_of_party(session: Session, party_id: str) -> list[Customer]:
    return list(session.scalars(select(Customer).where(Customer.party_id == party_id).order_by(Customer.id)))


def customer_ids_of_parties(session: Session, party_ids: list[str]) -> dict[str, list[str]]:
    """party id -> the ids of the customers that party is (most parties are one customer or none)."""
    found: dict[str, list[str]] = {}
    if party_ids:
        for cid, pid in session.execute(select(Customer.id, Customer.party_id)
                                        .where(Customer.party_id.in_(set(party_ids))).order_by(Customer.id)):
            found.setdefault(pid, []).append(cid)
    return found


def customer_names(session: Session, customer_ids: list[str]) -> dict[str, str]:
    if not customer_ids:
        return {}
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(set(customer_ids)))).all())


def actor_names(session: Session, actor_ids: list[str | None]) -> dict[str, str]:
    """Display names for the ids kept in ``recorded_by`` columns: staff, API tokens, or the system."""
    ids = {i for i in actor_ids if i}
    out = {SYSTEM.id: SYSTEM.name} if SYSTEM.id in ids else {}
    ids.discard(SYSTEM.id)
    if ids:
        both = union_all(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids)),
                         select(ApiToken.id, ApiToken.name).where(ApiToken.id.in_(ids)))
        out.update(dict(session.execute(both).all()))
    return out


# --- what a customer is worth, and to whom they are linked ---------------------------------

@dataclass(frozen=True)
class Value:
    """Monthly recurring value: in the operator's currency, and any other currency apart."""

    main: Money
    other: list[Money]

    @classmethod
    def of(cls, products: list[Product], day: date, currency: str) -> Value:
        by_currency = inventory.monthly_value(products, day)
        main = by_currency.pop(currency, Money.zero(currency))
        return cls(main, list(by_currency.values()))


@dataclass(frozen=True)
class AccountView:
    account: BillingAccount
    monthly_value: Money
    billable_products: int


@dataclass(frozen=True)
class MemberView:
    member: HouseholdMember
    customer_name: str
    value: Value


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    role: str | None  # the role of the customer whose profile this is
    members: list[MemberView]
    value: Value


@dataclass(frozen=True)
class RepresentativeView:
    representative: Representative
    name: str
    status: str
    permissions_in_force: list[str]


@dataclass(frozen=True)
class Profile:
    customer: Customer
    party: Party
    at: datetime
    tenure: rules.Tenure
    accounts: list[AccountView]
    value: Value
    household: HouseholdView | None
    representatives: list[RepresentativeView]
    vulnerabilities: list[Vulnerability]
    identifiers: list[tuple]
    actor_names: dict[str, str]
    products: list[Product]  # all of the customer's own, newest activation first (never activated last)
    needs: rules.ServiceNeeds = field(default_factory=rules.ServiceNeeds)  # what consented needs ask of us


_PRODUCTS = select(Product).where(Product.customer_id.in_(_IDS))


def _products_by_customer(session: Session, customer_ids: list[str], *, activated_only: bool = True
                          ) -> dict[str, list[Product]]:
    out: dict[str, list[Product]] = {cid: [] for cid in customer_ids}
    for product in session.scalars(_PRODUCTS, {"ids": list(customer_ids)}):
        if product.activated_at is not None or not activated_only:
            out[product.customer_id].append(product)
    return out


def _activated(products: dict[str, list[Product]]) -> dict[str, list[Product]]:
    return {cid: [p for p in mine if p.activated_at is not None] for cid, mine in products.items()}


def _newest_first(products: list[Product]) -> list[Product]:
    """Newest activation first, never-activated last, then by id (the 360's order)."""
    dated = sorted((p for p in products if p.activated_at is not None), key=lambda p: p.id)
    dated.sort(key=lambda p: p.activated_at, reverse=True)
    return dated + sorted((p for p in products if p.activated_at is None), key=lambda p: p.id)


def _account_views(accounts: list[BillingAccount], products: list[Product], day: date) -> list[AccountView]:
    views = []
    for acc in accounts:
        mine = [p for p in products if p.billing_account_id == acc.id]
        value = inventory.monthly_value(mine, day).get(acc.currency, Money.zero(acc.currency))
        views.append(AccountView(acc, value, sum(1 for p in mine if inventory.is_billable_on(p, day))))
    return views


def billing_accounts(session: Session, customer_id: str, day: date) -> list[AccountView]:
    """The customer's accounts, each with the monthly value of its products billable on ``day`` (2 queries)."""
    accounts = accounts_by_customer(session, [customer_id])[customer_id]
    return _account_views(accounts, _products_by_customer(session, [customer_id])[customer_id], day)


def _in_force(member, day: date):
    return (member.joined_on <= day) & or_(member.left_on.is_(None), member.left_on > day)


def _household_statement(household_id):
    day = bindparam("day")
    return (select(HouseholdMember, Customer.name, Household)
            .join(Customer, Customer.id == HouseholdMember.customer_id)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(HouseholdMember.household_id == household_id, _in_force(HouseholdMember, day))
            .order_by(HouseholdMember.joined_on, HouseholdMember.id))


_MINE = aliased(HouseholdMember)
_HOUSEHOLD_OF_CUSTOMER = _household_statement(
    select(_MINE.household_id).where(_MINE.customer_id == bindparam("customer_id"), _in_force(_MINE, bindparam("day")))
    .order_by(_MINE.joined_on.desc()).limit(1).scalar_subquery())
_HOUSEHOLD = _household_statement(bindparam("household_id"))


def _household_rows(session: Session, day: date, *, customer_id: str | None = None,
                    household_id: str | None = None) -> list[tuple]:
    """Members in force on ``day`` of a household (given, or the one ``customer_id`` is in), with
    their names: ``[(member, customer name, household)]`` in one query."""
    if household_id is None:
        return session.execute(_HOUSEHOLD_OF_CUSTOMER, {"customer_id": customer_id, "day": day}).all()
    return session.execute(_HOUSEHOLD, {"household_id": household_id, "day": day}).all()


def _household_view(rows: list[tuple], products: dict[str, list[Product]], day: date, currency: str,
                    role: str | None) -> HouseholdView:
    members = [MemberView(m, name, Value.of(products[m.customer_id], day, currency)) for m, name, _ in rows]
    everyone = [p for m, _, _ in rows for p in products[m.customer_id]]
    return HouseholdView(rows[0][2], role, members, Value.of(everyone, day, currency))


def household(session: Session, household_id: str, day: date, currency: str) -> tuple[Household, HouseholdView | None]:
    """A household and, if anyone is in it on ``day``, its members with their monthly value (3 queries)."""
    home = session.get(Household, household_id)
    if home is None:
        raise NotFound(f"no household {household_id}")
    rows = _household_rows(session, day, household_id=household_id)
    if not rows:
        return home, None
    products = _products_by_customer(session, sorted({m.customer_id for m, _, _ in rows}))
    return home, _household_view(rows, products, day, currency, None)


_REPRESENTATIVES = (select(Representative, Party).join(Party, Party.id == Representative.party_id)
                    .where(Representative.customer_id == bindparam("customer_id"))
                    .order_by(Representative.valid_from, Representative.id))


def representatives(session: Session, customer_id: str, on: date) -> list[RepresentativeView]:
    """Everyone ever authorised for the customer, with their standing on day ``on`` (1 query)."""
    rows = session.execute(_REPRESENTATIVES, {"customer_id": customer_id}).all()
    views = []
    for rep, party in rows:
        status = rules.representative_status(rep.valid_from, rep.valid_until, rep.revoked_at, on)
        views.append(RepresentativeView(rep, party.display_name, status,
                                        rules.permissions_in_force(rep.permissions, status)))
    return views


_VULNERABILITIES_IN_FORCE = (
    select(Vulnerability).where(Vulnerability.customer_id == bindparam("customer_id"),
                                or_(Vulnerability.ended_at.is_(None), Vulnerability.ended_at > _AT))
    .order_by(Vulnerability.recorded_at, Vulnerability.id))


def service_needs(session: Session, customer_id: str, at: datetime) -> rules.ServiceNeeds:
    """What the customer's consented needs in force at ``at`` ask of whoever serves them, with the
    channels they chose. Without consent only the record's existence is kept: it shapes nothing."""
    found = [v.needs for v in vulnerabilities(session, customer_id, at) if v.consent_given]
    pref = session.get(ContactPreference, customer_id)
    return rules.service_needs(found, pref.channels if pref is not None else None)


def vulnerabilities(session: Session, customer_id: str, at: datetime, *, include_ended: bool = False,
                    ) -> list[Vulnerability]:
    if not include_ended:
        return list(session.scalars(_VULNERABILITIES_IN_FORCE, {"customer_id": customer_id, "at": at}))
    query = select(Vulnerability).where(Vulnerability.customer_id == customer_id)
    return list(session.scalars(query.order_by(Vulnerability.recorded_at, Vulnerability.id)))


def customer_profile(session: Session, customer: Customer, at: datetime, currency: str) -> Profile:
    """Everything that makes a customer personal, in a fixed number of queries however much they hold.

    ``currency`` is the operator's: values in it are summed, any other currency is kept apart.
    """
    day = at.date()
    party = session.get(Party, customer.party_id)
    accounts = accounts_by_customer(session, [customer.id])[customer.id]
    house_rows = _household_rows(session, day, customer_id=customer.id)
    everything = _products_by_customer(session, sorted({customer.id, *(m.customer_id for m, _, _ in house_rows)}),
                                       activated_only=False)
    products = _activated(everything)
    home = None
    if house_rows:
        role = next(m.role for m, _, _ in house_rows if m.customer_id == customer.id)
        home = _household_view(house_rows, products, day, currency, role)
    reps = [r for r in representatives(session, customer.id, day) if r.status == rules.ACTIVE]
    vuls = vulnerabilities(session, customer.id, at)
    return Profile(
        customer=customer,
        party=party,
        at=at,
        tenure=rules.tenure(customer.customer_since, day),
        accounts=_account_views(accounts, products[customer.id], day),
        value=Value.of(products[customer.id], day, currency),
        household=home,
        representatives=reps,
        vulnerabilities=vuls,
        identifiers=current_identifiers(session, [customer.id], at)[customer.id],
        actor_names=actor_names(session, [v.recorded_by for v in vuls] + [r.representative.recorded_by
                                                                          for r in reps]),
        products=_newest_first(everything[customer.id]),
        needs=rules.service_needs([v.needs for v in vuls if v.consent_given],
                                  getattr(session.get(ContactPreference, customer.id), "channels", None)),
    )
