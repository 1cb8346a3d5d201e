"""ORM tables, one file per aggregate. Importing this package registers every table."""

from onethread.db.outbox import ConsumerReceipt, OutboxEvent
from onethread.models.access import (
    ApiToken,
    AuditEntry,
    InstanceSecret,
    PortalAccount,
    SignInFailure,
    SignInSession,
    StaffUser,
    Team,
)
from onethread.models.billing import Bill, BillFinding, Charge
from onethread.models.case import (
    Case,
    CaseClock,
    CaseEvent,
    CaseReadMark,
    Commitment,
    Escalation,
    Handover,
    Harm,
    Participant,
    Task,
    TriageItem,
)
from onethread.models.customer import (
    BillingAccount,
    Customer,
    CustomerFlag,
    Household,
    HouseholdMember,
    Representative,
    Vulnerability,
)
from onethread.models.decision import ApprovalRequest, Decision, DefectReport, KnownDefect, PolicyVersion
from onethread.models.identifier import Identifier, IdentifierHolding
from onethread.models.integration import EventDelivery, EventSubscription
from onethread.models.interaction import (
    Attachment,
    Contact,
    ContactSession,
    MailboxCursor,
    MatchItem,
    SessionHop,
    TimelineEntry,
    Verification,
)
from onethread.models.outreach import (
    Campaign,
    CampaignRecipient,
    ChannelHealth,
    ContactPreference,
    LetterDocument,
    OutboundMessage,
)
from onethread.models.party import Party, PartyRelationship
from onethread.models.product import Product, ProductStatusChange
from onethread.models.sandbox import ManualClockRow
from onethread.models.search import SearchDoc

__all__ = [
    "ApiToken",
    "ApprovalRequest",
    "Attachment",
    "AuditEntry",
    "Bill",
    "BillFinding",
    "BillingAccount",
    "Campaign",
    "CampaignRecipient",
    "Case",
    "CaseClock",
    "CaseEvent",
    "CaseReadMark",
    "ChannelHealth",
    "Charge",
    "Commitment",
    "ConsumerReceipt",
    "Contact",
    "ContactPreference",
    "ContactSession",
    "Customer",
    "CustomerFlag",
    "Decision",
    "DefectReport",
    "Escalation",
    "EventDelivery",
    "EventSubscription",
    "Handover",
    "Harm",
    "Household",
    "HouseholdMember",
    "Identifier",
    "IdentifierHolding",
    "InstanceSecret",
    "KnownDefect",
    "LetterDocument",
    "MailboxCursor",
    "ManualClockRow",
    "MatchItem",
    "OutboundMessage",
    "OutboxEvent",
    "Participant",
    "Party",
    "PartyRelationship",
    "PolicyVersion",
    "PortalAccount",
    "Product",
    "ProductStatusChange",
    "Representative",
    "SearchDoc",
    "SessionHop",
    "SignInFailure",
    "SignInSession",
    "StaffUser",
    "Task",
    "Team",
    "TimelineEntry",
    "TriageItem",
    "Verification",
    "Vulnerability",
]
