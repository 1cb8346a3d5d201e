"""Request and response shapes of onethread's own customer resources (``/api/v1``).

JSON is camelCase. Requests refuse unknown fields (400 naming the field). Times are
timezone-aware ISO 8601 (a time without a zone is refused: it would be ambiguous); days are
ISO dates. Money is ``{amountMinor, currency}``: integer minor units, never a float.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from onethread.customers import queries, rules
from onethread.customers.identifier_service import Resolution
from onethread.kernel.money import Money
from onethread.models import (
    BillingAccount,
    Household,
    HouseholdMember,
    Identifier,
    IdentifierHolding,
    PartyRelationship,
    Vulnerability,
)

V1 = "/api/v1"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------

class HoldingIn(_In):
    kind: str = Field(..., max_length=20, description="msisdn | iccid | imei | email | social | account")
    value: str = Field(..., max_length=200, description="as written; stored normalised")
    validFrom: AwareDatetime | None = Field(None, description="inclusive; default now")
    validTo: AwareDatetime | None = Field(None, description="exclusive; default open-ended")
    productId: str | None = Field(None, max_length=26, description="the product that carries it (line, SIM)")


class HoldingEndIn(_In):
    at: AwareDatetime | None = Field(None, description="exclusive end; default now")
    reason: str | None = Field(None, max_length=200)


class MoveIn(_In):
    kind: str = Field(..., max_length=20)
    value: str = Field(..., max_length=200)
    toCustomerId: str = Field(..., max_length=26)
    at: AwareDatetime | None = Field(None, description="the instant the holder changes; default now")
    reason: str | None = Field(None, max_length=200)


class BillingAccountIn(_In):
    accountNumber: str = Field(..., max_length=40)
    name: str | None = Field(None, max_length=200)
    currency: str | None = Field(None, min_length=3, max_length=3, description="default: the operator's")
    openedOn: date | None = None


class HouseholdIn(_In):
    name: str = Field(..., max_length=200)


class MemberIn(_In):
    customerId: str = Field(..., max_length=26)
    role: str = Field(..., max_length=20, description="head | spouse | partner | child | parent | other")
    joinedOn: date | None = None


class LeaveIn(_In):
    leftOn: date | None = None


class RelationshipIn(_In):
    partyId: str = Field(..., max_length=26)
    relatedPartyId: str = Field(..., max_length=26)
    kind: str = Field(..., max_length=30, description="spouse | partner | child | parent | sibling | user_of | ...")
    validFrom: date | None = None


class RepresentativeIn(_In):
    partyId: str = Field(..., max_length=26)
    relationship: str = Field(..., max_length=40, description="son, daughter, social_worker, attorney...")
    permissions: list[str] = Field(..., max_length=20)
    validFrom: date | None = None
    validUntil: date | None = Field(None, description="exclusive: the first day they may no longer act")
    evidence: str | None = Field(None, max_length=2000)
    reason: str | None = Field(None, max_length=2000, description="why the customer wants them (four eyes: "
                               "recorded with the request; the evidence is used when absent)")


class RevokeIn(_In):
    reason: str | None = Field(None, max_length=200)


class VulnerabilityIn(_In):
    kind: str = Field(..., max_length=40)
    consentGiven: bool
    reviewOn: date
    note: str | None = Field(None, max_length=2000, description="kept only when consent is given")
    needs: list[str] = Field(default_factory=list, max_length=20)


# --- responses -----------------------------------------------------------------------------

class MoneyOut(_Out):
    amountMinor: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amountMinor=money.amount_minor, currency=money.currency)


class HoldingOut(_Out):
    id: str
    href: str
    customerId: str
    customerName: str | None = None
    kind: str
    label: str
    value: str
    validFrom: datetime
    validTo: datetime | None
    productId: str | None
    endReason: str | None
    recordedBy: str | None
    createdAt: datetime

    @classmethod
    def of(cls, holding: IdentifierHolding, ident: Identifier, customer_name: str | None = None) -> HoldingOut:
        return cls(id=holding.id, href=f"{V1}/identifier-holdings/{holding.id}", customerId=holding.customer_id,
                   customerName=customer_name, kind=ident.kind, label=rules.KIND_LABELS[ident.kind],
                   value=ident.value, validFrom=holding.valid_from, validTo=holding.valid_to,
                   productId=holding.product_id, endReason=holding.end_reason, recordedBy=holding.recorded_by,
                   createdAt=holding.created_at)


class ResolutionOut(_Out):
    status: str = Field(..., description="found | none | ambiguous")
    kind: str
    value: str = Field(..., description="normalised")
    at: datetime
    customerId: str | None
    holdingId: str | None
    candidates: list[str]

    @classmethod
    def of(cls, r: Resolution) -> ResolutionOut:
        return cls(status=r.status, kind=r.kind, value=r.value, at=r.at, customerId=r.customer_id,
                   holdingId=r.holding_id, candidates=r.candidates)


class MoveOut(_Out):
    ended: HoldingOut | None = Field(..., description="the previous holder's holding, now ended; null if none")
    holding: HoldingOut


class HistoryOut(_Out):
    kind: str
    value: str
    holdings: list[HoldingOut] = Field(..., description="every holder, oldest first")


class BillingAccountOut(_Out):
    id: str
    customerId: str
    accountNumber: str
    name: str
    currency: str
    status: str
    openedOn: date
    billableProducts: int
    monthlyValue: MoneyOut

    @classmethod
    def of(cls, view: queries.AccountView) -> BillingAccountOut:
        a: BillingAccount = view.account
        return cls(id=a.id, customerId=a.customer_id, accountNumber=a.account_number, name=a.name,
                   currency=a.currency, status=a.status, openedOn=a.opened_on, billableProducts=view.billable_products,
                   monthlyValue=MoneyOut.of(view.monthly_value))


class MemberOut(_Out):
    id: str
    householdId: str
    customerId: str
    customerName: str | None = None
    role: str
    joinedOn: date
    leftOn: date | None
    monthlyValue: MoneyOut | None = None

    @classmethod
    def of(cls, m: HouseholdMember, name: str | None = None, value: Money | None = None) -> MemberOut:
        return cls(id=m.id, householdId=m.household_id, customerId=m.customer_id, customerName=name, role=m.role,
                   joinedOn=m.joined_on, leftOn=m.left_on, monthlyValue=MoneyOut.of(value) if value else None)


class HouseholdOut(_Out):
    id: str
    href: str
    name: str
    createdAt: datetime
    members: list[MemberOut] = Field(..., description="members in force today, each with their monthly value")
    value: ValueOut | None = Field(..., description="the members' billable products today; null when empty")

    @classmethod
    def of(cls, h: Household, view: queries.HouseholdView | None = None) -> HouseholdOut:
        members = [MemberOut.of(m.member, m.customer_name, m.value.main) for m in view.members] if view else []
        return cls(id=h.id, href=f"{V1}/households/{h.id}", name=h.name, createdAt=h.created_at, members=members,
                   value=ValueOut.of(view.value) if view else None)


class RelationshipOut(_Out):
    id: str
    partyId: str
    relatedPartyId: str
    kind: str
    validFrom: date | None
    validTo: date | None
    createdAt: datetime

    @classmethod
    def of(cls, r: PartyRelationship) -> RelationshipOut:
        return cls(id=r.id, partyId=r.party_id, relatedPartyId=r.related_party_id, kind=r.kind,
                   validFrom=r.valid_from, validTo=r.valid_to, createdAt=r.created_at)


class ActorOut(_Out):
    id: str
    name: str | None


class RepresentativeOut(_Out):
    id: str
    customerId: str
    partyId: str
    name: str
    relationship: str
    permissions: list[str] = Field(..., description="what was granted")
    validFrom: date
    validUntil: date | None
    evidence: str | None
    recordedBy: ActorOut
    createdAt: datetime
    revokedAt: datetime | None
    on: date = Field(..., description="the day status and permissionsInForce refer to")
    status: str = Field(..., description="active | pending | expired | revoked, on that day")
    permissionsInForce: list[str] = Field(..., description="what they may do on that day (empty unless active)")

    @classmethod
    def of(cls, v: queries.RepresentativeView, on: date, names: dict[str, str]) -> RepresentativeOut:
        r = v.representative
        return cls(id=r.id, customerId=r.customer_id, partyId=r.party_id,
                   name=v.name, relationship=r.relationship, permissions=sorted(r.permissions),
                   validFrom=r.valid_from, validUntil=r.valid_until, evidence=r.evidence,
                   recordedBy=ActorOut(id=r.recorded_by, name=names.get(r.recorded_by)), createdAt=r.created_at,
                   revokedAt=r.revoked_at, on=on, status=v.status, permissionsInForce=v.permissions_in_force)


class VulnerabilityOut(_Out):
    id: str
    customerId: str
    kind: str
    needs: list[str]
    needWords: list[str] = Field(..., description="each need in plain words, as the desktop shows it")
    consentGiven: bool
    consentRecordedAt: datetime | None
    note: str | None = Field(..., description="only shown when the customer consented to keeping it, and only "
                             "to customer-service staff (never to an integration token)")
    recordedBy: ActorOut
    recordedAt: datetime
    reviewOn: date
    endedAt: datetime | None
    active: bool

    @classmethod
    def of(cls, v: Vulnerability, at: datetime, names: dict[str, str], show_note: bool = True) -> VulnerabilityOut:
        """``show_note``: the caller's role may read notes (``VULNERABILITY_NOTE_READERS``)."""
        return cls(id=v.id, customerId=v.customer_id, kind=v.kind,
                   needs=list(v.needs or []), needWords=[rules.need_words(n) for n in v.needs or []],
                   consentGiven=v.consent_given, consentRecordedAt=v.consent_recorded_at,
                   note=v.note if v.consent_given and show_note else None,
                   recordedBy=ActorOut(id=v.recorded_by, name=names.get(v.recorded_by)), recordedAt=v.recorded_at,
                   reviewOn=v.review_on, endedAt=v.ended_at, active=rules.vulnerability_active(v.ended_at, at))


class TenureOut(_Out):
    since: date
    years: int
    months: int
    label: str


class ValueOut(_Out):
    monthlyValue: MoneyOut = Field(..., description="billable products today, in the operator's currency")
    otherCurrencies: list[MoneyOut] = Field(..., description="any value in other currencies, kept apart")

    @classmethod
    def of(cls, value: queries.Value) -> ValueOut:
        return cls(monthlyValue=MoneyOut.of(value.main), otherCurrencies=[MoneyOut.of(m) for m in value.other])


class PartyOut(_Out):
    id: str
    kind: str
    name: str
    birthDate: date | None
    preferredLanguage: str | None


class HouseholdProfileOut(_Out):
    id: str
    name: str
    role: str = Field(..., description="this customer's role in the household")
    members: list[MemberOut]
    value: ValueOut


class CurrentIdentifierOut(_Out):
    holdingId: str
    kind: str
    label: str
    value: str
    validFrom: datetime
    productId: str | None


class ServiceNeedsOut(_Out):
    """How the customer's consented needs in force shape service (all false, no words: none)."""

    needs: list[str]
    words: list[str] = Field(..., description="the needs in plain words")
    assistedOnly: bool = Field(..., description="replies only reaching them online (portal, chat, social) are "
                               "refused; e-mail and text messages go out as letters")
    replyChannel: str | None = Field(..., description="the channel a reply takes when none is given")
    proactiveContact: bool = Field(..., description="the case owner gets a contact task at a set cadence while "
                                   "a case is open")
    priority: bool = Field(..., description="their triage items come first in the queues")
    copyRepresentative: bool

    @classmethod
    def of(cls, n: rules.ServiceNeeds) -> ServiceNeedsOut:
        return cls(needs=list(n.needs), words=n.words, assistedOnly=n.assisted_only, replyChannel=n.reply_channel,
                   proactiveContact=n.proactive, priority=n.priority, copyRepresentative=n.copy_representative)


class ProfileOut(_Out):
    customerId: str
    href: str
    name: str
    status: str
    segment: str
    asOf: datetime
    party: PartyOut
    tenure: TenureOut
    value: ValueOut
    accounts: list[BillingAccountOut]
    household: HouseholdProfileOut | None
    representatives: list[RepresentativeOut]
    vulnerabilities: list[VulnerabilityOut]
    serviceNeeds: ServiceNeedsOut
    identifiers: list[CurrentIdentifierOut]

    @classmethod
    def of(cls, p: queries.Profile, show_notes: bool = True) -> ProfileOut:
        c, day = p.customer, p.at.date()
        household = None
        if p.household is not None:
            h = p.household
            household = HouseholdProfileOut(
                id=h.household.id, name=h.household.name, role=h.role, value=ValueOut.of(h.value),
                members=[MemberOut.of(m.member, m.customer_name, m.value.main) for m in h.members])
        return cls(
            customerId=c.id, href=f"{V1}/customers/{c.id}/profile", name=c.name, status=c.status,
            segment=c.segment, asOf=p.at,
            party=PartyOut(id=p.party.id, kind=p.party.kind, name=p.party.display_name,
                           birthDate=p.party.birth_date, preferredLanguage=p.party.preferred_language),
            tenure=TenureOut(since=p.tenure.since, years=p.tenure.years, months=p.tenure.months,
                             label=p.tenure.label),
            value=ValueOut.of(p.value),
            accounts=[BillingAccountOut.of(a) for a in p.accounts],
            household=household,
            representatives=[RepresentativeOut.of(r, day, p.actor_names) for r in p.representatives],
            vulnerabilities=[VulnerabilityOut.of(v, p.at, p.actor_names, show_notes) for v in p.vulnerabilities],
            serviceNeeds=ServiceNeedsOut.of(p.needs),
            identifiers=[CurrentIdentifierOut(holdingId=h.id, kind=kind, label=rules.KIND_LABELS[kind], value=value,
                                              validFrom=h.valid_from, productId=h.product_id)
                         for kind, value, h in p.identifiers],
        )
