"""Use cases for parties, customers, accounts, households, representatives and vulnerability.

Services take ``(session, clock, actor, ...)``, never commit, and record a domain event for
every change. Reads of personal data go through ``read_*`` functions that write the audit log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.customers import identifier_service, rules
from onethread.db.outbox import record_event
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import (
    BillingAccount,
    Customer,
    Household,
    HouseholdMember,
    Party,
    PartyRelationship,
    Representative,
    Vulnerability,
)

PARTY_FIELDS_INDIVIDUAL = ("given_name", "family_name", "title", "birth_date", "preferred_language", "status",
                           "tmf_attributes")
PARTY_FIELDS_ORGANIZATION = ("organization_name", "preferred_language", "status", "tmf_attributes")


def _event(session: Session, clock: Clock, type_: str, aggregate_type: str, aggregate_id: str,
           customer_id: str | None, actor: Principal, **payload) -> None:
    record_event(
        session,
        DomainEvent(
            type=type_,
            occurred_at=clock.now(),
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            customer_id=customer_id,
            payload={"actor": actor.id, "actorName": actor.name, **payload},
        ),
    )


# --- parties -------------------------------------------------------------------------------

def _check_status(kind: str, status: str | None) -> None:
    if status is not None and status not in rules.PARTY_STATUSES[kind]:
        raise ValidationFailed(f"an {kind}'s status is one of {', '.join(rules.PARTY_STATUSES[kind])}",
                               field="status")


def create_individual(session: Session, clock: Clock, actor: Principal, *, given_name: str, family_name: str,
                      title: str | None = None, birth_date: date | None = None,
                      preferred_language: str | None = None, status: str | None = None,
                      tmf_attributes: dict | None = None) -> Party:
    """An individual. ``tmf_attributes``: TMF attributes kept as the client sent them."""
    if not (given_name or "").strip() and not (family_name or "").strip():
        raise ValidationFailed("an individual needs a given name or a family name", field="givenName")
    _check_status("individual", status)
    now = clock.now()
    if birth_date is not None and birth_date > now.date():
        raise ValidationFailed("birth date is in the future", field="birthDate")
    party = Party(kind="individual", given_name=(given_name or "").strip() or None,
                  family_name=(family_name or "").strip() or None, title=title, birth_date=birth_date,
                  preferred_language=preferred_language, status=status or "validated",
                  tmf_attributes=tmf_attributes, created_at=now, updated_at=now)
    session.add(party)
    session.flush()
    _event(session, clock, "individual.created", "party", party.id, None, actor)
    return party


def create_organization(session: Session, clock: Clock, actor: Principal, *, name: str,
                        preferred_language: str | None = None, status: str | None = None,
                        tmf_attributes: dict | None = None) -> Party:
    """An organisation. ``tmf_attributes``: TMF attributes kept as the client sent them."""
    if not (name or "").strip():
        raise ValidationFailed("an organization needs a name", field="name")
    _check_status("organization", status)
    now = clock.now()
    party = Party(kind="organization", organization_name=name.strip(), preferred_language=preferred_language,
                  status=status or "validated", tmf_attributes=tmf_attributes, created_at=now, updated_at=now)
    session.add(party)
    session.flush()
    _event(session, clock, "organization.created", "party", party.id, None, actor)
    return party


def get_party(session: Session, party_id: str, kind: str | None = None) -> Party:
    party = session.get(Party, party_id)
    if party is None or (kind is not None and party.kind != kind):
        raise NotFound(f"no {kind or 'party'} with id {party_id}")
    return party


def update_party(session: Session, clock: Clock, actor: Principal, party: Party, changes: dict) -> Party:
    allowed = PARTY_FIELDS_INDIVIDUAL if party.kind == "individual" else PARTY_FIELDS_ORGANIZATION
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))} on an {party.kind}")
    if "status" in changes:
        _check_status(party.kind, changes["status"])
    new_name = changes.get("organization_name", party.organization_name)
    if party.kind == "organization" and not (new_name or "").strip():
        raise ValidationFailed("an organization needs a name", field="name")
    if party.kind == "individual":
        given = changes.get("given_name", party.given_name)
        family = changes.get("family_name", party.family_name)
        if not (given or "").strip() and not (family or "").strip():
            raise ValidationFailed("an individual needs a given name or a family name", field="givenName")
    for key, value in changes.items():
        setattr(party, key, value)
    party.updated_at = clock.now()
    session.flush()
    _event(session, clock, f"{party.kind}.updated", "party", party.id, None, actor, fields=sorted(changes))
    return party


def relate_parties(session: Session, clock: Clock, actor: Principal, *, party_id: str, related_party_id: str,
                   kind: str, valid_from: date | None = None) -> PartyRelationship:
    if kind not in rules.RELATIONSHIP_KINDS:
        raise ValidationFailed(f"unknown relationship {kind!r}; one of: {', '.join(sorted(rules.RELATIONSHIP_KINDS))}",
                               field="kind")
    if party_id == related_party_id:
        raise ValidationFailed("a party cannot be related to itself")
    get_party(session, party_id)
    get_party(session, related_party_id)
    rel = PartyRelationship(party_id=party_id, related_party_id=related_party_id, kind=kind,
                            valid_from=valid_from, created_at=clock.now())
    session.add(rel)
    session.flush()
    _event(session, clock, "party.related", "party", party_id, None, actor, related=related_party_id, kind=kind)
    return rel


# --- customers and accounts ----------------------------------------------------------------

def create_customer(session: Session, clock: Clock, actor: Principal, *, party_id: str,
                    customer_since: date | None = None, segment: str | None = None,
                    name: str | None = None, tmf_attributes: dict | None = None) -> Customer:
    """A customer for an existing party. ``tmf_attributes``: TMF attributes kept as the client sent
    them (onethread has no column for them; the API checks their shape)."""
    party = get_party(session, party_id)
    now = clock.now()
    since = customer_since or now.date()
    if since > now.date():
        raise ValidationFailed("customer since is in the future", field="customerSince")
    customer = Customer(
        party_id=party.id,
        name=(name or party.display_name).strip(),
        customer_since=since,
        segment=segment or ("business" if party.kind == "organization" else "consumer"),
        tmf_attributes=tmf_attributes,
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    session.flush()
    # On the timeline at the day they became a customer (a customer of ten years did not join today),
    # never later than now.
    joined = min(datetime.combine(since, time(0), tzinfo=UTC), now) if since < now.date() else now
    _event(session, clock, "customer.created", "customer", customer.id, customer.id, actor,
           effectiveAt=joined.isoformat())
    return customer


def get_customer(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return customer


def read_customer(session: Session, clock: Clock, actor: Principal, customer_id: str, *,
                  channel: str | None = None, purpose: str | None = None) -> Customer:
    """Load a customer for display: the read of personal data is audited."""
    customer = get_customer(session, customer_id)
    access.audit(session, clock, actor, action="read", resource_type="customer", resource_id=customer.id,
                 customer_id=customer.id, channel=channel, purpose=purpose)
    return customer


CUSTOMER_STATUSES = frozenset({"initialized", "approved", "validated", "closed"})


def update_customer(session: Session, clock: Clock, actor: Principal, customer: Customer, changes: dict) -> Customer:
    allowed = {"name", "status", "segment", "customer_since", "tmf_attributes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))} on a customer")
    if "status" in changes and changes["status"] not in CUSTOMER_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(sorted(CUSTOMER_STATUSES))}", field="status")
    if "name" in changes and not (changes["name"] or "").strip():
        raise ValidationFailed("name cannot be empty", field="name")
    if "segment" in changes and changes["segment"] not in ("consumer", "business"):
        raise ValidationFailed("segment is consumer or business", field="segment")
    if "customer_since" in changes and changes["customer_since"] > clock.now().date():
        raise ValidationFailed("customer since is in the future", field="customerSince")
    for key, value in changes.items():
        setattr(customer, key, value)
    customer.updated_at = clock.now()
    session.flush()
    access.audit(session, clock, actor, action="update", resource_type="customer", resource_id=customer.id,
                 customer_id=customer.id, detail={"fields": sorted(changes)})
    _event(session, clock, "customer.updated", "customer", customer.id, customer.id, actor, fields=sorted(changes))
    return customer


def open_billing_account(session: Session, clock: Clock, actor: Principal, *, customer_id: str,
                         account_number: str, name: str | None = None, currency: str,
                         opened_on: date | None = None) -> BillingAccount:
    customer = get_customer(session, customer_id)
    try:
        number = rules.normalise(rules.ACCOUNT, account_number)
    except rules.InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field="accountNumber") from exc
    if session.scalar(select(BillingAccount).where(BillingAccount.account_number == number)):
        raise Conflict(f"account number {number} already exists", field="accountNumber")
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed("currency is a three-letter ISO 4217 code", field="currency")
    opened = opened_on or clock.now().date()
    account = BillingAccount(customer_id=customer.id, account_number=number, name=name or customer.name,
                             currency=currency.upper(), opened_on=opened, created_at=clock.now())
    session.add(account)
    session.flush()
    identifier_service.assign(session, clock, actor, customer_id=customer.id, kind=rules.ACCOUNT, value=number,
                              valid_from=datetime.combine(opened, datetime.min.time(), tzinfo=clock.now().tzinfo))
    _event(session, clock, "billing_account.opened", "billing_account", account.id, customer.id, actor,
           accountNumber=number)
    return account


# --- households ----------------------------------------------------------------------------

def create_household(session: Session, clock: Clock, actor: Principal, *, name: str) -> Household:
    if not (name or "").strip():
        raise ValidationFailed("a household needs a name", field="name")
    household = Household(name=name.strip(), created_at=clock.now())
    session.add(household)
    session.flush()
    _event(session, clock, "household.created", "household", household.id, None, actor, name=household.name)
    return household


def add_household_member(session: Session, clock: Clock, actor: Principal, *, household_id: str,
                         customer_id: str, role: str, joined_on: date | None = None) -> HouseholdMember:
    if session.get(Household, household_id) is None:
        raise NotFound(f"no household {household_id}")
    get_customer(session, customer_id)
    if role not in rules.HOUSEHOLD_ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(sorted(rules.HOUSEHOLD_ROLES))}", field="role")
    current = session.scalar(select(HouseholdMember).where(HouseholdMember.customer_id == customer_id,
                                                           HouseholdMember.left_on.is_(None)))
    if current is not None:
        raise Conflict("the customer already belongs to a household; leave it first", field="customerId")
    member = HouseholdMember(household_id=household_id, customer_id=customer_id, role=role,
                             joined_on=joined_on or clock.now().date(), created_at=clock.now())
    session.add(member)
    session.flush()
    _event(session, clock, "household.joined", "household", household_id, customer_id, actor, role=role)
    return member


def leave_household(session: Session, clock: Clock, actor: Principal, *, customer_id: str,
                    left_on: date | None = None) -> HouseholdMember:
    member = session.scalar(select(HouseholdMember).where(HouseholdMember.customer_id == customer_id,
                                                          HouseholdMember.left_on.is_(None)))
    if member is None:
        get_customer(session, customer_id)  # 404 for an unknown customer, not "not in a household"
        raise NotFound("the customer is not in a household")
    left = left_on or clock.now().date()
    if left < member.joined_on:
        raise ValidationFailed(f"cannot leave before joining ({member.joined_on.isoformat()})", field="leftOn")
    member.left_on = left
    session.flush()
    _event(session, clock, "household.left", "household", member.household_id, customer_id, actor)
    return member


# --- representatives -----------------------------------------------------------------------

def check_representative(session: Session, clock: Clock, *, customer_id: str, party_id: str, relationship: str,
                         permissions: list[str], valid_from: date | None = None,
                         valid_until: date | None = None) -> tuple[str, list[str], str]:
    """What adding a representative needs, checked (the same before it is asked and when it is
    done): returns the representative's name, the permissions in order, the relationship."""
    customer = get_customer(session, customer_id)
    party = get_party(session, party_id)
    if party_id == customer.party_id:
        raise ValidationFailed("a customer cannot be their own representative", field="partyId")
    if not (relationship or "").strip():
        raise ValidationFailed("say how the representative relates to the customer", field="relationship")
    try:
        perms = rules.check_permissions(permissions)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="permissions") from exc
    start = valid_from or clock.now().date()
    if valid_until is not None and valid_until <= start:
        raise ValidationFailed("valid until must be after valid from", field="validUntil")
    name = party.organization_name or " ".join(filter(None, (party.given_name, party.family_name)))
    return name, perms, relationship.strip()


def add_representative(session: Session, clock: Clock, actor: Principal, *, customer_id: str, party_id: str,
                       relationship: str, permissions: list[str], valid_from: date | None = None,
                       valid_until: date | None = None, evidence: str | None = None) -> Representative:
    """Record a representative now. Through the API this runs only once a second person approved
    it (four eyes: ``decisions.approvals``, action ``add_representative``)."""
    _, perms, relationship = check_representative(session, clock, customer_id=customer_id, party_id=party_id,
                                                  relationship=relationship, permissions=permissions,
                                                  valid_from=valid_from, valid_until=valid_until)
    start = valid_from or clock.now().date()
    rep = Representative(customer_id=customer_id, party_id=party_id, relationship=relationship,
                         permissions=perms, valid_from=start, valid_until=valid_until, evidence=evidence,
                         recorded_by=actor.id, created_at=clock.now())
    session.add(rep)
    session.flush()
    access.audit(session, clock, actor, action="create", resource_type="representative", resource_id=rep.id,
                 customer_id=customer_id)
    _event(session, clock, "representative.added", "customer", customer_id, customer_id, actor,
           representative=rep.id, permissions=perms)
    return rep


def revoke_representative(session: Session, clock: Clock, actor: Principal, representative_id: str, *,
                          reason: str | None = None) -> Representative:
    """Withdraw a representative's authority from now on (idempotent: a second revoke changes nothing)."""
    rep = session.get(Representative, representative_id)
    if rep is None:
        raise NotFound(f"no representative {representative_id}")
    if rep.revoked_at is None:
        rep.revoked_at = clock.now()
        session.flush()
        access.audit(session, clock, actor, action="update", resource_type="representative", resource_id=rep.id,
                     customer_id=rep.customer_id, detail={"revoked": True, "reason": reason})
        _event(session, clock, "representative.revoked", "customer", rep.customer_id, rep.customer_id, actor,
               representative=rep.id, reason=reason)
    return rep


def representative_may(rep: Representative, permission: str, on: date) -> bool:
    """Whether ``rep`` may do ``permission`` on day ``on`` (in period, not revoked)."""
    status = rules.representative_status(rep.valid_from, rep.valid_until, rep.revoked_at, on)
    return permission in rules.permissions_in_force(rep.permissions, status)


# --- vulnerability -------------------------------------------------------------------------

def record_vulnerability(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str,
                         consent_given: bool, review_on: date, note: str | None = None,
                         needs: list[str] | None = None) -> Vulnerability:
    get_customer(session, customer_id)
    if kind not in rules.VULNERABILITY_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(sorted(rules.VULNERABILITY_KINDS))}", field="kind")
    now = clock.now()
    if review_on <= now.date():
        raise ValidationFailed("the review date must be in the future", field="reviewOn")
    needs = list(dict.fromkeys(n.strip() for n in (needs or [])))
    if any(not n for n in needs):
        raise ValidationFailed("a need cannot be empty", field="needs")
    # Without consent we keep only that a need exists, not the sensitive detail.
    vul = Vulnerability(customer_id=customer_id, kind=kind, note=note if consent_given else None,
                        needs=needs or [], consent_given=consent_given,
                        consent_recorded_at=now if consent_given else None, recorded_by=actor.id,
                        recorded_at=now, review_on=review_on)
    session.add(vul)
    session.flush()
    access.audit(session, clock, actor, action="create", resource_type="vulnerability", resource_id=vul.id,
                 customer_id=customer_id)
    _event(session, clock, "vulnerability.recorded", "customer", customer_id, customer_id, actor,
           kind=kind, needs=vul.needs)
    return vul


def end_vulnerability(session: Session, clock: Clock, actor: Principal, vulnerability_id: str) -> Vulnerability:
    vul = session.get(Vulnerability, vulnerability_id)
    if vul is None:
        raise NotFound(f"no vulnerability record {vulnerability_id}")
    if vul.ended_at is None:
        vul.ended_at = clock.now()
        session.flush()
        access.audit(session, clock, actor, action="update", resource_type="vulnerability", resource_id=vul.id,
                     customer_id=vul.customer_id, detail={"ended": True})
        _event(session, clock, "vulnerability.ended", "customer", vul.customer_id, vul.customer_id, actor,
               vulnerability=vul.id, kind=vul.kind)
    return vul


def browse_customers(session: Session, clock: Clock, actor: Principal, *, offset: int = 0, limit: int = 50,
                     channel: str = "pages") -> tuple[list[Customer], int]:
    """A page of customers for a person to look through: only for customer-service roles, and
    every customer shown is an audited read of personal data."""
    from onethread.access.rules import CUSTOMER_READERS
    from onethread.customers import queries

    if not actor.may(CUSTOMER_READERS):
        raise Forbidden(f"a {actor.role.replace('_', ' ')} does not see the customer list")
    rows, total = queries.list_customers(session, offset=offset, limit=limit)
    for customer in rows:
        access.audit(session, clock, actor, action="read", resource_type="customer", resource_id=customer.id,
                     customer_id=customer.id, channel=channel, purpose="customer list")
    return rows, total
