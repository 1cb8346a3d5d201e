"""The answers of the TMF resources (``/tmf-api``), as ``/openapi.json`` describes them.

TMF resources are open: every model keeps attributes it does not name (a client's kept attributes,
onethread's ``@type`` extensions, whose own schemas are at ``@schemaLocation``). Every attribute
but ``id``, ``href`` and ``@type`` is optional, because ``fields=`` may leave it out.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, When


class TmfAnswer(Answer):
    """What every TMF resource and sub-resource may carry: its type, base type and extension schema."""

    type_: str | None = Field(None, alias="@type")
    base_type: str | None = Field(None, alias="@baseType")
    schema_location: str | None = Field(None, alias="@schemaLocation")


class Resource(TmfAnswer):
    """A TMF resource: what it is and where it lives (kept whatever ``fields=`` asks)."""

    id: str
    href: str
    type_: str = Field(alias="@type")


class Ref(TmfAnswer):
    """A reference to another resource (``PartyRef``, ``AccountRef``, ``ProductRef``...)."""

    id: str | None = None
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class PartyOrPartyRoleRef(Ref):
    partyId: str | None = None


class RelatedParty(TmfAnswer):
    role: str | None = None
    partyOrPartyRole: PartyOrPartyRoleRef | None = None


class TimePeriod(TmfAnswer):
    startDateTime: When | None = None
    endDateTime: When | None = None


class Characteristic(TmfAnswer):
    id: str | None = None
    name: str | None = None
    valueType: str | None = None
    value: Any = None


class TmfMoney(Answer):
    unit: str | None = None
    value: float | None = None
    amountMinor: int | None = Field(None, description="the exact amount in minor units")


Entries = list[dict[str, Any]]
"""A list whose entries may be a client's, kept as given beside onethread's: any JSON objects."""


# --- TMF629 customer, TMF632 party ---------------------------------------------------------------------

class Customer(Resource):
    name: str | None = None
    status: str | None = None
    role: str | None = None
    validFor: TimePeriod | None = None
    engagedParty: Ref | None = None
    account: list[Ref] | None = None
    contactMedium: Entries | None = None
    characteristic: Entries | None = None
    relatedParty: Entries | None = None


class Party(Resource):
    """An ``Individual`` or an ``Organization``."""

    status: str | None = None
    givenName: str | None = None
    familyName: str | None = None
    formattedName: str | None = None
    title: str | None = None
    birthDate: When | None = None
    name: str | None = None
    tradingName: str | None = None
    partyCharacteristic: Entries | None = None
    contactMedium: Entries | None = None


# --- TMF637 product inventory ----------------------------------------------------------------------------

class ProductPrice(TmfAnswer):
    priceType: str | None = None
    recurringChargePeriod: str | None = None
    price: dict[str, Any] | None = Field(None, description="a Price: taxIncludedAmount {unit, value}")


class Product(Resource):
    name: str | None = None
    description: str | None = None
    status: str | None = None
    isBundle: bool | None = None
    isCustomerVisible: bool | None = None
    creationDate: When | None = None
    startDate: When | None = None
    terminationDate: When | None = None
    orderDate: When | None = None
    relatedParty: Entries | None = None
    productPrice: list[ProductPrice] | None = None
    productCharacteristic: Entries | None = None
    billingAccount: Ref | None = None


class SimReplacement(Answer):
    type_: str = Field(alias="@type")
    productId: str
    oldIccid: str | None
    newIccid: str
    at: When
    channel: str
    reason: str | None
    product: Product = Field(..., description="the product after the replacement")


class Who(Answer):
    id: str | None
    name: str | None


class ProductStep(Answer):
    when: When
    fromStatus: str | None
    status: str | None
    channel: str | None
    who: Who
    reason: str | None


class ProductHistory(Answer):
    productId: str
    href: str
    items: list[ProductStep] = Field(..., description="each status change and SIM replacement, oldest first")


# --- TMF683 party interaction, TMF681 communication message ------------------------------------------

class PartyInteraction(Resource):
    """A contact: ``OnethreadPartyInteraction`` (its extension's schema is at ``@schemaLocation``)."""

    direction: str | None = None
    interactionDate: TimePeriod | None = None
    status: str | None = None
    creationDate: When | None = None
    reason: str | None = None
    description: str | None = None
    relatedChannel: list[dict[str, Any]] | None = None
    relatedParty: Entries | None = None
    attachment: list[dict[str, Any]] | None = None
    note: list[dict[str, Any]] | None = None
    externalIdentifier: list[dict[str, Any]] | None = None
    kind: str | None = None
    matchStatus: str | None = None
    sessionId: str | None = None
    caseId: str | None = None
    identifiers: dict[str, Any] | None = None
    recordedBy: str | None = None


class CommunicationMessage(Resource):
    """A message to a customer, with the outbound guard's verdict and reasons (onethread's extension)."""

    messageType: str | None = None
    subject: str | None = None
    content: str | None = None
    state: str | None = None
    priority: str | None = None
    tryTimes: int | None = None
    scheduledSendTime: When | None = None
    sendTime: When | None = None
    sendTimeComplete: When | None = None
    receiver: list[dict[str, Any]] | None = None
    sender: dict[str, Any] | None = None
    attachment: list[dict[str, Any]] | None = None
    characteristic: list[Characteristic] | None = None
    status: str | None = None
    verdict: str | None = None
    reasons: list[Any] | None = None
    purpose: str | None = None
    channel: str | None = None
    askedChannel: str | None = None
    caseId: str | None = None
    contactId: str | None = None
    sendKey: str | None = None
    template: str | None = None
    language: str | None = None
    attempts: int | None = None
    lastError: str | None = None
    copiedTo: list[str] | None = None
    createdBy: str | None = None
    messageId: str | None = None


# --- TMF678 customer bill ---------------------------------------------------------------------------------

class CustomerBill(Resource):
    billNo: str | None = None
    billingAccount: Ref | None = None
    billingPeriod: TimePeriod | None = None
    billDate: When | None = None
    paymentDueDate: When | None = None
    lastUpdate: When | None = None
    amountDue: TmfMoney | None = None
    taxIncludedAmount: TmfMoney | None = None
    remainingAmount: TmfMoney | None = None
    state: str | None = None
    category: str | None = None
    runType: str | None = None
    relatedParty: list[RelatedParty] | None = None


class AppliedCustomerBillingRate(Resource):
    name: str | None = None
    description: str | None = None
    appliedBillingRateType: str | None = None
    date: When | None = None
    isBilled: bool | None = None
    bill: Ref | None = None
    billingAccount: Ref | None = None
    product: Ref | None = None
    periodCoverage: TimePeriod | None = None
    taxIncludedAmount: TmfMoney | None = None
    characteristic: list[Characteristic] | None = None


# --- TMF621 trouble ticket -----------------------------------------------------------------------------

class TroubleTicket(Resource):
    """A case: ``OnethreadTroubleTicket`` (its extension's schema is at ``@schemaLocation``)."""

    name: str | None = None
    description: str | None = None
    severity: str | None = None
    ticketType: str | None = None
    status: str | None = None
    statusChangeDate: When | None = None
    statusChangeReason: str | None = None
    creationDate: When | None = None
    lastUpdate: When | None = None
    expectedResolutionDate: When | None = None
    resolutionDate: When | None = None
    channel: Ref | None = None
    relatedParty: Entries | None = None
    relatedEntity: Entries | None = None
    troubleTicketCharacteristic: Entries | None = None
    troubleTicketRelationship: Entries | None = None
    owner: dict[str, Any] | None = None
    category: str | None = None
    market: str | None = None
    escalationLevel: int | None = None
    closureBlockers: list[str] | None = None
    waitingOn: dict[str, Any] | None = None
    brief: dict[str, Any] | None = None


# --- hubs ---------------------------------------------------------------------------------------------------

class Hub(Resource):
    """A listener's subscription; ``secret`` (the key of the signature) only in the answer to its creation."""

    callback: str
    query: str | None = None
    secret: str | None = None
