"""onethread's own customer resources (``/api/v1``): what TMF629/632 do not model.

Billing accounts with their value, households, party relationships, representatives,
vulnerability, and the profile that makes a customer personal. Translation only: the rules
live in ``customers.service``, ``customers.rules`` and ``customers.queries``.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS, VULNERABILITY_NOTE_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.conventions import created
from onethread.api.v1.answers.approvals import Approval
from onethread.api.v1.approvals import approval_json
from onethread.api.v1.schemas import (
    V1,
    BillingAccountIn,
    BillingAccountOut,
    HouseholdIn,
    HouseholdOut,
    LeaveIn,
    MemberIn,
    MemberOut,
    ProfileOut,
    RelationshipIn,
    RelationshipOut,
    RepresentativeIn,
    RepresentativeOut,
    RevokeIn,
    VulnerabilityIn,
    VulnerabilityOut,
)
from onethread.customers import queries
from onethread.customers import service as customers
from onethread.decisions import approvals

router = APIRouter(prefix=V1, tags=["customers (onethread)"], route_class=AnswerRoute)


def _counted(response: Response, items: list) -> list:
    response.headers["X-Total-Count"] = response.headers["X-Result-Count"] = str(len(items))
    return items


# --- profile -------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/profile", response_model=ProfileOut,
            summary="What makes the customer personal: tenure, accounts and value, household, "
                    "representatives, vulnerability, identifiers")
def profile(customer_id: str, session: DbSession, clock: ClockDep, container: ContainerDep,
            actor: allow(CUSTOMER_READERS)) -> ProfileOut:
    customer = customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="profile")
    return ProfileOut.of(queries.customer_profile(session, customer, clock.now(),
                                                  container.settings.default_currency),
                         show_notes=actor.may(VULNERABILITY_NOTE_READERS))


# --- billing accounts ----------------------------------------------------------------------

@router.post("/customers/{customer_id}/billing-accounts", status_code=201, response_model=BillingAccountOut,
             summary="Open a billing account (its number becomes an identifier of the customer)")
def open_account(customer_id: str, body: BillingAccountIn, session: DbSession,
                 clock: ClockDep, container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> BillingAccountOut:
    account = customers.open_billing_account(
        session, clock, actor, customer_id=customer_id, account_number=body.accountNumber, name=body.name,
        currency=body.currency or container.settings.default_currency, opened_on=body.openedOn)
    view = next(v for v in queries.billing_accounts(session, customer_id, clock.now().date())
                if v.account.id == account.id)
    return BillingAccountOut.of(view)


@router.get("/customers/{customer_id}/billing-accounts", response_model=list[BillingAccountOut],
            summary="A customer's billing accounts, each with its monthly value today")
def list_accounts(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                  actor: allow(CUSTOMER_READERS)) -> list[BillingAccountOut]:
    customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="billing accounts")
    views = queries.billing_accounts(session, customer_id, clock.now().date())
    return _counted(response, [BillingAccountOut.of(v) for v in views])


# --- households -----------------------------------------------------------------------------

@router.post("/households", status_code=201, response_model=HouseholdOut, summary="Create a household")
def create_household(body: HouseholdIn, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_WRITERS)) -> HouseholdOut:
    out = HouseholdOut.of(customers.create_household(session, clock, actor, name=body.name))
    created(response, out.href)
    return out


@router.get("/households/{household_id}", response_model=HouseholdOut,
            summary="A household with its members today and their monthly value")
def get_household(household_id: str, session: DbSession, clock: ClockDep, container: ContainerDep,
                  actor: allow(CUSTOMER_READERS)) -> HouseholdOut:
    home, view = queries.household(session, household_id, clock.now().date(), container.settings.default_currency)
    for member in view.members if view else []:
        access.audit(session, clock, actor, action="read", resource_type="household", resource_id=home.id,
                     customer_id=member.member.customer_id, channel="api", purpose="household")
    return HouseholdOut.of(home, view)


@router.post("/households/{household_id}/members", status_code=201, response_model=MemberOut,
             summary="Add a customer to a household (a customer is in one household at a time)")
def add_member(household_id: str, body: MemberIn, session: DbSession, clock: ClockDep,
               actor: allow(CUSTOMER_WRITERS)) -> MemberOut:
    member = customers.add_household_member(session, clock, actor, household_id=household_id,
                                            customer_id=body.customerId, role=body.role, joined_on=body.joinedOn)
    return MemberOut.of(member)


@router.post("/customers/{customer_id}/leave-household", response_model=MemberOut,
             summary="The customer leaves their household (the membership keeps its dates)")
def leave_household(customer_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_WRITERS),
                    body: LeaveIn | None = None) -> MemberOut:
    body = body or LeaveIn()
    return MemberOut.of(customers.leave_household(session, clock, actor, customer_id=customer_id,
                                                  left_on=body.leftOn))


# --- party relationships --------------------------------------------------------------------

@router.post("/party-relationships", status_code=201, response_model=RelationshipOut,
             summary="Relate two parties (spouse, child, user of an organisation...)")
def relate(body: RelationshipIn, session: DbSession, clock: ClockDep,
           actor: allow(CUSTOMER_WRITERS)) -> RelationshipOut:
    rel = customers.relate_parties(session, clock, actor, party_id=body.partyId, related_party_id=body.relatedPartyId,
                                   kind=body.kind, valid_from=body.validFrom)
    return RelationshipOut.of(rel)


# --- representatives ------------------------------------------------------------------------

def _representative_out(session, rep_id: str, customer_id: str, on: date) -> RepresentativeOut:
    view = next(v for v in queries.representatives(session, customer_id, on) if v.representative.id == rep_id)
    return RepresentativeOut.of(view, on, queries.actor_names(session, [view.representative.recorded_by]))


@router.post("/customers/{customer_id}/representatives", response_model=Approval, status_code=202,
             summary="Ask to authorise someone to act for the customer (four eyes: a team lead or an admin "
                     "approves at /api/v1/approvals/{id}/approve, and only then are they authorised)")
def add_representative(customer_id: str, body: RepresentativeIn, response: Response, session: DbSession,
                       clock: ClockDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    request = approvals.request(
        session, clock, actor, action="add_representative", customer_id=customer_id,
        reason=body.reason or body.evidence or "", representative={
            "partyId": body.partyId, "relationship": body.relationship, "permissions": body.permissions,
            "validFrom": body.validFrom, "validUntil": body.validUntil, "evidence": body.evidence})
    response.headers["Location"] = f"{V1}/approvals/{request.id}"
    return approval_json(request)


@router.get("/customers/{customer_id}/representatives", response_model=list[RepresentativeOut],
            summary="Everyone authorised for the customer, with their standing and permissions on a day")
def list_representatives(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                         actor: allow(CUSTOMER_READERS),
                         on: date | None = Query(None, description="the day to judge; default today"),
                         active: bool = Query(False, description="only those active on that day")
                         ) -> list[RepresentativeOut]:
    customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="representatives")
    day = on or clock.now().date()
    views = [v for v in queries.representatives(session, customer_id, day) if not active or v.status == "active"]
    names = queries.actor_names(session, [v.representative.recorded_by for v in views])
    return _counted(response, [RepresentativeOut.of(v, day, names) for v in views])


@router.post("/representatives/{representative_id}/revoke", response_model=RepresentativeOut,
             summary="Withdraw a representative's authority from now on")
def revoke_representative(representative_id: str, session: DbSession, clock: ClockDep,
                          actor: allow(CUSTOMER_WRITERS), body: RevokeIn | None = None) -> RepresentativeOut:
    body = body or RevokeIn()
    rep = customers.revoke_representative(session, clock, actor, representative_id, reason=body.reason)
    return _representative_out(session, rep.id, rep.customer_id, clock.now().date())


# --- vulnerability --------------------------------------------------------------------------

@router.post("/customers/{customer_id}/vulnerabilities", status_code=201, response_model=VulnerabilityOut,
             summary="Record a vulnerability and the needs it brings (the note is kept only with consent)")
def record_vulnerability(customer_id: str, body: VulnerabilityIn, session: DbSession,
                         clock: ClockDep, actor: allow(CUSTOMER_WRITERS)) -> VulnerabilityOut:
    vul = customers.record_vulnerability(session, clock, actor, customer_id=customer_id, kind=body.kind,
                                         consent_given=body.consentGiven, review_on=body.reviewOn, note=body.note,
                                         needs=body.needs)
    return VulnerabilityOut.of(vul, clock.now(), queries.actor_names(session, [vul.recorded_by]),
                               actor.may(VULNERABILITY_NOTE_READERS))


@router.get("/customers/{customer_id}/vulnerabilities", response_model=list[VulnerabilityOut],
            summary="The customer's vulnerabilities in force (or all, with includeEnded=true); "
                    "customer-service staff only")
def list_vulnerabilities(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                         actor: allow(VULNERABILITY_NOTE_READERS),
                         include_ended: bool = Query(False, alias="includeEnded",
                                                     description="also those that have ended"),
                         ) -> list[VulnerabilityOut]:
    customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="vulnerability")
    now = clock.now()
    rows = queries.vulnerabilities(session, customer_id, now, include_ended=include_ended)
    names = queries.actor_names(session, [v.recorded_by for v in rows])
    return _counted(response, [VulnerabilityOut.of(v, now, names) for v in rows])


@router.post("/vulnerabilities/{vulnerability_id}/end", response_model=VulnerabilityOut,
             summary="End a vulnerability record (it no longer shapes service)")
def end_vulnerability(vulnerability_id: str, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_WRITERS)) -> VulnerabilityOut:
    vul = customers.end_vulnerability(session, clock, actor, vulnerability_id)
    return VulnerabilityOut.of(vul, clock.now(), queries.actor_names(session, [vul.recorded_by]),
                               actor.may(VULNERABILITY_NOTE_READERS))
